using System.Globalization;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Pci;

/// <summary>
/// One function found by <see cref="PciEnumerator"/>: its identity, its sized (and, after
/// <see cref="PciResourceAssigner"/>, placed) BARs, its decoded capabilities, and what was wrong
/// with it. Identity and capabilities are read once; <see cref="Command"/> reads the device.
/// </summary>
public sealed class PciFunction
{
    private readonly PciBar?[] _bars;
    private readonly List<string> _diagnostics;

    internal PciFunction(Platform platform, PciAddress address, PciIdentity identity, PciBar?[] bars,
        PciCapabilityWalk capabilities, List<string> diagnostics)
    {
        Platform = platform;
        Address = address;
        Identity = identity;
        _bars = bars;
        Capabilities = capabilities.Capabilities;
        _diagnostics = diagnostics;
        _diagnostics.AddRange(capabilities.Diagnostics);
        MsixCapability = Capabilities.OfType<MsixCapabilityInfo>().FirstOrDefault();
        VirtioCapabilities = [.. Capabilities.OfType<VirtioPciCapabilityInfo>()];
    }

    public Platform Platform { get; }

    public PciAddress Address { get; }

    /// <summary>Vendor, device, class, revision and header type, as read at enumeration.</summary>
    public PciIdentity Identity { get; }

    public ushort VendorId => Identity.VendorId;

    public ushort DeviceId => Identity.DeviceId;

    /// <summary>The implemented BARs in slot order (a 64-bit BAR once, under its lower slot).</summary>
    public IReadOnlyList<PciBar> Bars => [.. _bars.OfType<PciBar>()];

    /// <summary>Every capability of the standard list, in list order.</summary>
    public IReadOnlyList<PciCapability> Capabilities { get; }

    /// <summary>The first MSI-X capability, or null.</summary>
    public MsixCapabilityInfo? MsixCapability { get; }

    /// <summary>The virtio vendor capabilities, in list order (empty unless <see cref="IsVirtio"/>).</summary>
    public IReadOnlyList<VirtioPciCapabilityInfo> VirtioCapabilities { get; }

    /// <summary>Problems found in enumeration, the capability walk and BAR assignment, one sentence each.</summary>
    public IReadOnlyList<string> Diagnostics => _diagnostics;

    /// <summary>A virtio device by its PCI ids (vendor 0x1af4, device 0x1000-0x107f).</summary>
    public bool IsVirtio => Identity.IsVirtio;

    /// <summary>The virtio device type (44 for ISM), or null for a function that is not virtio.</summary>
    public int? VirtioDeviceType => Identity.VirtioDeviceType;

    /// <summary>The command register, read from and written to the device.</summary>
    public ushort Command
    {
        get => Platform.ReadConfig16(Address, (int)PciHeader.Command.Offset);
        set => Platform.WriteConfig16(Address, (int)PciHeader.Command.Offset, value);
    }

    /// <summary>The status register, read from the device.</summary>
    public ushort Status => Platform.ReadConfig16(Address, (int)PciHeader.Status.Offset);

    /// <summary>The BAR in slot <paramref name="index"/>, or null when that slot implements none.</summary>
    public PciBar? GetBar(int index) => (uint)index < (uint)_bars.Length ? _bars[index] : null;

    /// <summary>
    /// The bus address of <paramref name="offset"/> in BAR <paramref name="index"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The BAR is not implemented, not memory or not assigned.</exception>
    public ulong GetBarAddress(int index, ulong offset = 0)
    {
        PciBar? bar = GetBar(index);
        if (bar is null || !bar.IsMemory || !bar.IsAssigned)
        {
            throw new InvalidOperationException(
                $"{Address}: BAR {index} is {(bar is null ? "not implemented" : bar.IsMemory ? "not assigned" : "an I/O BAR")}, so it has no memory address");
        }

        return bar.Address + offset;
    }

    /// <summary>Opens the MSI-X table of this function (BARs must be assigned).</summary>
    /// <exception cref="InvalidOperationException">The function has no MSI-X capability or its BAR is unusable.</exception>
    public PciMsix OpenMsix() => new(this);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Address} {VendorId:x4}:{DeviceId:x4}");

    internal void SetBar(PciBar bar) => _bars[bar.Index] = bar;

    internal void AddDiagnostic(string message) => _diagnostics.Add(message);
}

/// <summary>The identity registers of a function.</summary>
public sealed record PciIdentity(
    ushort VendorId, ushort DeviceId, byte RevisionId, byte BaseClass, byte SubClass, byte ProgIf,
    byte HeaderLayout, bool IsMultiFunction, ushort SubsystemVendorId, ushort SubsystemId)
{
    /// <summary>The 24-bit class code: base class, sub-class, programming interface.</summary>
    public uint ClassCode => ((uint)BaseClass << 16) | ((uint)SubClass << 8) | ProgIf;

    /// <inheritdoc cref="PciFunction.IsVirtio"/>
    public bool IsVirtio => VendorId == VirtioPciIds.VendorId
        && DeviceId >= VirtioPciIds.TransitionalDeviceIdFirst && DeviceId <= VirtioPciIds.ModernDeviceIdLast;

    /// <inheritdoc cref="PciFunction.VirtioDeviceType"/>
    public int? VirtioDeviceType => !IsVirtio
        ? null
        : DeviceId >= VirtioPciIds.ModernDeviceIdBase
            ? DeviceId - VirtioPciIds.ModernDeviceIdBase
            : SubsystemId;  // a transitional device names its type in the subsystem id
}
