using System.Diagnostics;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Qemu;

namespace VirtioHw.Qemu.Tests;

/// <summary>The QEMU platform itself: process ownership, config space, memory, DMA and MSI.</summary>
[CancelAfter(TestSupport.TimeoutMilliseconds)]
public sealed class QemuPlatformTests
{
    private static readonly PciAddress HostBridge = new(0, 0, 0);

    [Test]
    public async Task Start_ReadsTheQ35HostBridgeIdThroughConfigSpace(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);

        Assert.Multiple(() =>
        {
            Assert.That(platform.ReadConfig32(HostBridge, 0), Is.EqualTo(Qemu.HostBridgeId));
            Assert.That(platform.ReadConfig16(HostBridge, 2), Is.EqualTo(0x29c0));
            Assert.That(platform.ReadConfig8(HostBridge, 0x0b), Is.EqualTo(0x06), "base class: bridge");
            Assert.That(platform.Name, Is.EqualTo("qemu"));
        });
    }

    [Test]
    public async Task AbsentFunction_ReadsAllOnes_AtEveryWidth(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);
        var absent = new PciAddress(0, 0x1e, 0);

        Assert.Multiple(() =>
        {
            Assert.That(platform.ReadConfig32(absent, 0), Is.EqualTo(0xffff_ffffu));
            Assert.That(platform.ReadConfig16(absent, 2), Is.EqualTo(0xffff));
            Assert.That(platform.ReadConfig8(absent, 0x0b), Is.EqualTo(0xff));
            Assert.That(platform.ReadConfig32(absent, 0x100), Is.EqualTo(0xffff_ffffu), "through MMCONFIG");
        });
    }

    [Test]
    public async Task RawConfigScan_FindsQ35sFunctionsAndTheDevicesGiven_AsTheHostStackDoes(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioRng());

        // Function 0 of every device, then functions 1-7 of multi-function devices (header type bit 7).
        var raw = new List<(PciAddress, uint)>();
        for (int device = 0; device < 32; device++)
        {
            for (int function = 0; function < 8; function++)
            {
                var address = new PciAddress(0, device, function);
                uint id = platform.ReadConfig32(address, 0);
                if (id != 0xffff_ffff)
                {
                    raw.Add((address, id));
                }

                if (function == 0 && (id == 0xffff_ffff || (platform.ReadConfig8(address, 0x0e) & 0x80) == 0))
                {
                    break;
                }
            }
        }

        IReadOnlyList<PciFunction> enumerated = PciEnumerator.Enumerate(platform);

        (PciAddress, uint)[] expected =
        [
            .. Qemu.BuiltIn.Select(b => (b.Address, ((uint)b.Device << 16) | b.Vendor)),
            (new PciAddress(0, 1, 0), 0x1044_1af4u),
        ];
        Assert.Multiple(() =>
        {
            Assert.That(raw, Is.EquivalentTo(expected));
            Assert.That(enumerated.Select(f => (f.Address, ((uint)f.DeviceId << 16) | f.VendorId)), Is.EqualTo(raw));
        });
    }

    [Test]
    public async Task ExtendedConfigSpace_ThroughMmconfig_AgreesWithPortAccess(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioRng());

        Assert.Multiple(() =>
        {
            foreach ((PciAddress address, _, _) in Qemu.BuiltIn)
            {
                ulong ecam = QemuPlatform.EcamBase + ((ulong)address.Device << 15) + ((ulong)address.Function << 12);
                for (int offset = 0; offset < 64; offset += 4)
                {
                    Assert.That(platform.Read32(ecam + (ulong)offset), Is.EqualTo(platform.ReadConfig32(address, offset)), $"{address} +0x{offset:x}");
                }
            }
        });
    }

    [Test]
    public async Task ConfigWrites_OfEveryWidth_ReachTheDevice(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioRng());
        var rng = new PciAddress(0, 1, 0);

        // Interrupt line (0x3c) is a plain read-write byte; BAR4 takes an address and reads it back.
        platform.WriteConfig8(rng, 0x3c, 0x5a);
        platform.WriteConfig32(rng, 0x20, 0xc000_0000);
        platform.WriteConfig16(rng, 0x22, 0xc123);

        Assert.Multiple(() =>
        {
            Assert.That(platform.ReadConfig8(rng, 0x3c), Is.EqualTo(0x5a));
            Assert.That(platform.ReadConfig32(rng, 0x20) & 0xffff_fff0, Is.EqualTo(0xc123_0000u));
        });
    }

    [Test]
    public async Task Memory_AccessesOfEveryWidth_ReachGuestRam(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);
        const ulong Ram = 0x20_0000;

        platform.Write8(Ram, 0x11);
        platform.Write16(Ram + 2, 0x2233);
        platform.Write32(Ram + 4, 0x4455_6677);
        platform.Write64(Ram + 8, 0x8899_aabb_ccdd_eeff);

        byte[] block = new byte[16];
        platform.ReadMemory(Ram, block);
        Assert.Multiple(() =>
        {
            Assert.That(platform.Read8(Ram), Is.EqualTo(0x11));
            Assert.That(platform.Read16(Ram + 2), Is.EqualTo(0x2233));
            Assert.That(platform.Read32(Ram + 4), Is.EqualTo(0x4455_6677u));
            Assert.That(platform.Read64(Ram + 8), Is.EqualTo(0x8899_aabb_ccdd_eeffUL));
            Assert.That(block, Is.EqualTo(new byte[] { 0x11, 0, 0x33, 0x22, 0x77, 0x66, 0x55, 0x44, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88 }));
        });
    }

    [Test]
    public async Task BlockAccess_LargerThanOneQtestCommand_RoundTrips(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);
        byte[] written = new byte[200_000];
        new Random(7).NextBytes(written);

        platform.WriteMemory(0x30_0003, written);
        byte[] read = new byte[written.Length];
        platform.ReadMemory(0x30_0003, read);

        Assert.That(read, Is.EqualTo(written));
    }

    [Test]
    public async Task Dma_IsZeroedGuestRam_ReachedOnlyThroughQtest(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);
        DmaRegion first = platform.AllocateDma(8192);
        first.Write(0, "dirty"u8);
        ulong reusedAddress = first.BusAddress;
        first.Dispose();

        using DmaRegion region = platform.AllocateDma(8192);
        byte[] fresh = new byte[5];
        region.Read(0, fresh);
        region.WriteUInt32(16, 0xfeed_f00d);

        Assert.Multiple(() =>
        {
            Assert.That(region.BusAddress, Is.EqualTo(reusedAddress), "the freed range is reused");
            Assert.That(region.BusAddress, Is.GreaterThanOrEqualTo(QemuPlatform.DmaWindowBase));
            Assert.That(fresh, Is.All.Zero, "a new region is zeroed");
            Assert.That(region.TryGetSpan(out _), Is.False, "guest RAM is not host memory");
            Assert.That(platform.Read32(region.BusAddress + 16), Is.EqualTo(0xfeed_f00du), "devices see it at its bus address");
        });
    }

    [Test]
    public async Task Dma_BeyondGuestRam_FailsInOneLine(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);

        var error = Assert.Throws<InvalidOperationException>(() => platform.AllocateDma(512 << 20));

        Assert.That(error!.Message, Does.Contain("has no free 536870912-byte range").And.Not.Contain('\n'));
    }

    [Test]
    public async Task MsiVector_MessageWrittenToItsAddress_IsDelivered(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);
        using MsiVector first = platform.AllocateMsiVector();
        using MsiVector second = platform.AllocateMsiVector();

        // What a device's MSI-X write of the message does to guest memory.
        platform.Write32(second.Address, second.Data);

        Assert.Multiple(async () =>
        {
            Assert.That(await second.WaitAsync(ct), Is.EqualTo(1));
            Assert.That(first.TryTake(out _), Is.False);
            Assert.That(second.Address, Is.Not.EqualTo(first.Address));
            Assert.That(platform.Read32(second.Address), Is.Zero, "the mailbox slot is cleared for the next message");
        });
    }

    [Test]
    public void Start_WithoutTheQemuBinary_FailsInOneLine()
    {
        var settings = new QemuPlatformSettings { Executable = "qemu-system-nonesuch" };

        var error = Assert.ThrowsAsync<QemuException>(() => QemuPlatform.StartAsync(settings));

        Assert.That(error!.Message, Is.EqualTo("qemu-system-nonesuch not found; apt-get install qemu-system-x86"));
    }

    [Test]
    public void Start_WhenQemuRejectsItsArguments_ReportsExitCodeAndLastStderrLine(CancellationToken ct)
    {
        Qemu.Require();

        var error = Assert.ThrowsAsync<QemuException>(() => Qemu.StartAsync(ct, ["-device", "no-such-device"]));

        Assert.That(error!.Message, Is.EqualTo(
            "qemu-system-x86_64 exited with code 1: qemu-system-x86_64: -device no-such-device: 'no-such-device' is not a valid device model name"));
    }

    [Test]
    public async Task QemuDyingUnderThePlatform_IsReportedOnTheNextAccess(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct);

        using (var qemu = Process.GetProcessById(platform.ProcessId))
        {
            qemu.Kill();
            await qemu.WaitForExitAsync(ct);
        }

        var error = Assert.Throws<QemuException>(() => platform.ReadConfig32(HostBridge, 0));

        Assert.That(error!.Message, Does.StartWith("qemu-system-x86_64 exited with code 137: "));
    }

    [Test]
    public async Task Dispose_KillsQemu(CancellationToken ct)
    {
        QemuPlatform platform = await Qemu.StartAsync(ct);
        using var qemu = Process.GetProcessById(platform.ProcessId);

        await platform.DisposeAsync();

        Assert.That(qemu.HasExited, Is.True);
    }

    [Test]
    public async Task MemoryWindows_AreFreeForBars_BelowTheIoApicAndAbove4GiB(CancellationToken ct)
    {
        await using QemuPlatform platform = await Qemu.StartAsync(ct, QemuDevices.VirtioRng());

        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        IReadOnlyList<PciBar> bars = functions.Single(0x1af4, 0x1044).Bars;

        // virtio-rng-pci: MSI-X in a 32-bit BAR, the virtio structures in a 64-bit prefetchable one.
        Assert.Multiple(() =>
        {
            Assert.That(platform.MemoryWindows.Select(w => (w.BaseAddress, w.LastAddress)),
                Is.EqualTo(new[] { (0xc000_0000UL, 0xfebf_ffffUL), (0x1_0000_0000UL, 0x8_ffff_ffffUL) }));
            foreach (PciBar bar in bars)
            {
                PciMemoryWindow window = platform.MemoryWindows[bar.Is64Bit ? 1 : 0];
                Assert.That(bar.Address >= window.BaseAddress && bar.LastAddress <= window.LastAddress, Is.True, bar.ToString());
            }

            Assert.That(bars.Select(b => b.Is64Bit), Is.EquivalentTo(new[] { false, true }));
        });
    }

    [Test]
    public void Registry_CreatesTheQemuPlatformByName_ReportingFailuresInOneLine()
    {
        QemuPlatform.Register();
        QemuPlatform.Register();

        Assert.Multiple(() =>
        {
            Assert.That(PlatformFactory.Available, Does.Contain("qemu"));
            Assert.That(() => PlatformFactory.Create("qemu", PlatformOptions.Parse(["qemu=/nonexistent/qemu"])),
                Throws.ArgumentException.With.Message.EqualTo("/nonexistent/qemu not found; apt-get install qemu-system-x86"));
        });
    }

    [TestCase("rng=on", "-device virtio-rng-pci,disable-legacy=on")]
    [TestCase("args=-device virtio-rng-pci -m 1G", "-device virtio-rng-pci -m 1G")]
    public void Options_BuildTheDeviceArguments(string option, string arguments)
    {
        QemuPlatformSettings settings = QemuPlatformSettings.FromOptions(PlatformOptions.Parse([option]));

        Assert.That(string.Join(' ', settings.DeviceArguments), Is.EqualTo(arguments));
    }

    [TestCase("colour=blue", "unknown qemu platform option 'colour'; known: qemu, memory, args, rng, blk, ivshmem, ivshmem-doorbell, vectors")]
    [TestCase("memory=16", "memory=16: expected a whole number from 64 to 2048")]
    [TestCase("blk=/nonexistent.img", "blk=/nonexistent.img: no such file")]
    public void Options_Unusable_AreRejectedInOneLine(string option, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => QemuPlatformSettings.FromOptions(PlatformOptions.Parse([option])));

        Assert.That(error!.Message, Is.EqualTo(message));
    }
}
