using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Qemu;

namespace VirtioHw.Qemu.Tests;

/// <summary>Starting QEMU for a test, and the facts about q35 the tests check against.</summary>
internal static class Qemu
{
    /// <summary>Vendor and device of q35's host bridge (Intel MCH), as QEMU's q35 model reports it.</summary>
    public const uint HostBridgeId = 0x29c0_8086;

    /// <summary>The functions q35 always has: host bridge, ICH9 LPC, AHCI and SMBus (address, vendor, device).</summary>
    public static readonly (PciAddress Address, ushort Vendor, ushort Device)[] BuiltIn =
    [
        (new PciAddress(0, 0, 0), 0x8086, 0x29c0),
        (new PciAddress(0, 0x1f, 0), 0x8086, 0x2918),
        (new PciAddress(0, 0x1f, 2), 0x8086, 0x2922),
        (new PciAddress(0, 0x1f, 3), 0x8086, 0x2930),
    ];

    /// <summary>Skips the calling test, saying why, when QEMU is not installed; QEMU tests never pass without it.</summary>
    public static void Require()
    {
        if (!QemuPlatform.IsInstalled())
        {
            Assert.Ignore($"{QemuPlatformSettings.DefaultExecutable} is not installed (apt-get install qemu-system-x86); this test drives a real QEMU");
        }
    }

    /// <summary>Starts QEMU with <paramref name="devices"/>, skipping the test when QEMU is absent.</summary>
    public static Task<QemuPlatform> StartAsync(CancellationToken cancellationToken, params IReadOnlyList<string>[] devices)
    {
        Require();
        return QemuPlatform.StartAsync(new QemuPlatformSettings { DeviceArguments = [.. devices.SelectMany(d => d)] }, cancellationToken);
    }

    /// <summary>The one function with these ids among <paramref name="functions"/>.</summary>
    public static PciFunction Single(this IReadOnlyList<PciFunction> functions, ushort vendor, ushort device) =>
        functions.Single(f => f.VendorId == vendor && f.DeviceId == device);
}
