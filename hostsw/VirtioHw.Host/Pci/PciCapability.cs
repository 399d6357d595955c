using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Host.Pci;

/// <summary>
/// One entry of a function's standard capability list, as found by <see cref="PciCapabilityWalker"/>.
/// Capabilities the walker understands are decoded into the derived records.
/// </summary>
/// <param name="Position">Where the capability sits in config space.</param>
/// <param name="CapabilityId">The capability id byte.</param>
/// <param name="NextPointer">The raw next pointer, 0 for the last.</param>
public record PciCapability(byte Position, byte CapabilityId, byte NextPointer)
{
    /// <summary>The capability's name, such as <c>MSI-X</c>, or its id in hex when unknown.</summary>
    public virtual string Name => CapabilityName(CapabilityId);

    /// <summary>The name lspci uses for a capability id.</summary>
    public static string CapabilityName(byte id) => (PciCapId)id switch
    {
        PciCapId.Pm => "Power Management",
        PciCapId.Msi => "MSI",
        PciCapId.Vendor => "Vendor Specific",
        PciCapId.Pcie => "Express",
        PciCapId.Msix => "MSI-X",
        _ => $"Capability 0x{id:x2}",
    };
}

/// <summary>The MSI-X capability: table size and where the vector table and pending bits live.</summary>
/// <param name="Position">Where the capability sits in config space.</param>
/// <param name="NextPointer">The raw next pointer.</param>
/// <param name="TableSize">Number of vectors (the field plus one).</param>
/// <param name="TableBar">BAR holding the vector table (BIR).</param>
/// <param name="TableOffset">Offset of the vector table in that BAR.</param>
/// <param name="PbaBar">BAR holding the pending-bit array.</param>
/// <param name="PbaOffset">Offset of the pending-bit array in that BAR.</param>
/// <param name="Enabled">MSI-X was enabled when the capability was read.</param>
/// <param name="FunctionMasked">The function mask was set when the capability was read.</param>
public sealed record MsixCapabilityInfo(
    byte Position, byte NextPointer,
    int TableSize, int TableBar, uint TableOffset, int PbaBar, uint PbaOffset,
    bool Enabled, bool FunctionMasked)
    : PciCapability(Position, (byte)PciCapId.Msix, NextPointer);

/// <summary>
/// A virtio vendor capability (<c>virtio_pci_cap</c>, or <c>virtio_pci_cap64</c> for shared
/// memory): which structure it locates and where in which BAR.
/// </summary>
/// <param name="Position">Where the capability sits in config space.</param>
/// <param name="NextPointer">The raw next pointer.</param>
/// <param name="CapLength">The cap_len byte.</param>
/// <param name="CfgType">The structure; values outside <see cref="VirtioPciCfgType"/> are reserved.</param>
/// <param name="Bar">The BAR holding the structure; 6 and above are reserved.</param>
/// <param name="Id">Tells apart capabilities of one type; the shmid for shared memory.</param>
/// <param name="Offset">Offset of the structure in the BAR (64-bit for shared memory).</param>
/// <param name="Length">Length of the structure (64-bit for shared memory).</param>
/// <param name="NotifyOffMultiplier">For the notify capability, the multiplier of queue_notify_off.</param>
public sealed record VirtioPciCapabilityInfo(
    byte Position, byte NextPointer, byte CapLength,
    VirtioPciCfgType CfgType, byte Bar, byte Id, ulong Offset, ulong Length, uint? NotifyOffMultiplier)
    : PciCapability(Position, (byte)PciCapId.Vendor, NextPointer)
{
    /// <summary>A cfg_type the specification defines (1-5, 8, 9); the driver ignores the others.</summary>
    public bool IsKnownType => Enum.IsDefined(CfgType);

    /// <summary>The BAR field names a BAR (0-5), not a reserved value.</summary>
    public bool HasValidBar => Bar < PciHeader.Bar.Count;

    public override string Name => $"Vendor Specific: VirtIO: {TypeName(CfgType)}";

    /// <summary>A short name for a cfg_type, as lspci prints it.</summary>
    public static string TypeName(VirtioPciCfgType type) => type switch
    {
        VirtioPciCfgType.CommonCfg => "CommonCfg",
        VirtioPciCfgType.NotifyCfg => "Notify",
        VirtioPciCfgType.IsrCfg => "ISR",
        VirtioPciCfgType.DeviceCfg => "DeviceCfg",
        VirtioPciCfgType.PciCfg => "PCI-cfg",
        VirtioPciCfgType.SharedMemoryCfg => "SharedMemory",
        VirtioPciCfgType.VendorCfg => "Vendor",
        _ => $"<unknown cfg_type {(byte)type}>",
    };
}
