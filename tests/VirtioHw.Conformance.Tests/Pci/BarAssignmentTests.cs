using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Pci;

public sealed class BarAssignmentTests
{
    private const ulong FourGiB = 1UL << 32;

    private static FakePciPlatform PlatformWithMixedBars(IReadOnlyList<PciMemoryWindow>? windows = null)
    {
        var platform = new FakePciPlatform(windows);
        platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c,
            [new FakeBar(0, 0x4000, PciBarKind.Memory32), new FakeBar(1, 0x1000, PciBarKind.Memory32),
             new FakeBar(2, 0x40_0000, PciBarKind.Memory64, true)]));
        platform.Add(new FakeFunction(new PciAddress(0, 2, 0), 0x1af4, 0x1110,
            [new FakeBar(0, 0x100, PciBarKind.Memory32), new FakeBar(1, 0x1000, PciBarKind.Memory32, true),
             new FakeBar(2, 0x1_0000_0000, PciBarKind.Memory64, true), new FakeBar(4, 0x2_0000, PciBarKind.Memory64)]));
        platform.Add(new FakeFunction(new PciAddress(0, 3, 0), 0x8086, 0x7000,
            [new FakeBar(0, 0x20, PciBarKind.Io), new FakeBar(1, 0x10, PciBarKind.Memory32)]));
        return platform;
    }

    [Test]
    public async Task Assign_AlignsEveryBarToItsSize_AndNoTwoBarsOverlap()
    {
        await using FakePciPlatform platform = PlatformWithMixedBars();

        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);

        PciBar[] bars = [.. functions.SelectMany(f => f.Bars)];
        Assert.That(bars, Has.All.Matches<PciBar>(b => b.IsAssigned && b.Address % b.Size == 0));
        foreach (PciBar a in bars)
        {
            foreach (PciBar b in bars.Where(b => !ReferenceEquals(a, b) && a.Kind == PciBarKind.Io == (b.Kind == PciBarKind.Io)))
            {
                Assert.That(a.LastAddress < b.Address || b.LastAddress < a.Address, $"{a} overlaps {b}");
            }
        }
    }

    [Test]
    public async Task Assign_PlacesBarsInTheirWindows_LargestFirst()
    {
        await using FakePciPlatform platform = PlatformWithMixedBars();

        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);

        // Within each window, addresses rise as sizes fall.
        foreach (PciMemoryWindow window in platform.MemoryWindows)
        {
            PciBar[] inWindow = [.. functions.SelectMany(f => f.Bars)
                .Where(b => (b.Kind == PciBarKind.Io) == (window.Kind == PciWindowKind.Io) && b.Address >= window.BaseAddress && b.LastAddress <= window.LastAddress)
                .OrderBy(b => b.Address)];
            Assert.That(inWindow.Select(b => b.Size), Is.Ordered.Descending, window.ToString());
        }
    }

    [Test]
    public async Task Assign_Puts64BitPrefetchableBarsInThe64BitWindow_AndTheRestBelow4GiB()
    {
        await using FakePciPlatform platform = PlatformWithMixedBars();

        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);

        foreach (PciBar bar in functions.SelectMany(f => f.Bars).Where(b => b.IsMemory))
        {
            if (bar.Is64Bit && bar.Prefetchable)
            {
                Assert.That(bar.Address, Is.GreaterThanOrEqualTo(FourGiB), bar.ToString());
            }
            else
            {
                Assert.That(bar.LastAddress, Is.LessThan(FourGiB), bar.ToString());
            }
        }
    }

    [Test]
    public async Task Assign_Puts64BitPrefetchableBarsBelow4GiB_WhenThereIsNo64BitWindow()
    {
        await using var platform = new FakePciPlatform([new PciMemoryWindow(0x8000_0000, 0x4000_0000)]);
        platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c, [new FakeBar(2, 0x100_0000, PciBarKind.Memory64, true)]));

        PciBar bar = PciBus.Scan(platform).Single().GetBar(2)!;

        Assert.That(bar.IsAssigned, Is.True);
        Assert.That(bar.Address, Is.InRange(0x8000_0000UL, 0xbfff_ffffUL));
    }

    [Test]
    public async Task Assign_Keeps32BitBarsBelow4GiB_InAWindowThatCrossesIt()
    {
        await using var platform = new FakePciPlatform([new PciMemoryWindow(0xfff0_0000, 0x1000_0000)]);
        platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c,
            [new FakeBar(0, 0x10_0000, PciBarKind.Memory32), new FakeBar(1, 0x10_0000, PciBarKind.Memory32)]));

        PciFunction function = PciBus.Scan(platform).Single();

        Assert.That(function.GetBar(0)!.Address, Is.EqualTo(0xfff0_0000));
        Assert.That(function.GetBar(1)!.IsAssigned, Is.False, "the only room left is above 4 GiB");
        Assert.That(function.Diagnostics, Has.Some.Contains("BAR 1"));
    }

    [Test]
    public async Task Assign_BarThatFitsNowhere_StaysUnassigned_AndMemoryDecodingStaysOff()
    {
        await using var platform = new FakePciPlatform([new PciMemoryWindow(0xc000_0000, 0x1_0000)]);
        FakeFunction fake = platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c,
            [new FakeBar(0, 0x1000, PciBarKind.Memory32), new FakeBar(2, 0x10_0000, PciBarKind.Memory32)]));

        PciFunction function = PciBus.Scan(platform).Single();

        Assert.Multiple(() =>
        {
            Assert.That(function.GetBar(2)!.IsAssigned, Is.False);
            Assert.That(fake.MemoryEnabled, Is.False);
            Assert.That(function.Diagnostics, Has.Some.Contains("fits in none of the platform's windows"));
            Assert.That(function.Diagnostics, Has.Some.Contains("memory decoding stays off"));
        });
    }

    [Test]
    public async Task Assign_TurnsOnMemoryDecodeAndBusMaster_OnlyOnceEveryBarHoldsItsAddress()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction fake = platform.Add(new FakeFunction(new PciAddress(0, 2, 0), 0x1af4, 0x1110,
            [new FakeBar(0, 0x100, PciBarKind.Memory32), new FakeBar(2, 0x1_0000_0000, PciBarKind.Memory64, true)]));

        PciBus.Scan(platform);

        uint[] final = [.. Enumerable.Range(0, PciHeader.Bar.Count).Select(i => fake.Get(PciHeader.Bar.OffsetOf(i), 4))];
        Assert.That(fake.BarsWhenDecodeEnabled, Is.EqualTo(final));
        Assert.That(fake.Command & PciHeader.Command.BusMaster.Mask, Is.Not.Zero);
    }

    [Test]
    public async Task Assign_IoBarsGoToTheIoWindow_AndTurnOnIoDecode()
    {
        await using FakePciPlatform platform = PlatformWithMixedBars();

        PciFunction function = PciBus.Scan(platform).Find(new PciAddress(0, 3, 0));

        PciMemoryWindow io = platform.MemoryWindows.Single(w => w.Kind == PciWindowKind.Io);
        Assert.That(function.GetBar(0)!.Address, Is.InRange(io.BaseAddress, io.LastAddress));
        Assert.That(function.Command & PciHeader.Command.IoSpace.Mask, Is.Not.Zero);
    }

    [Test]
    public async Task Assign_WithoutWindows_KeepsTheAddressesFirmwareGave()
    {
        await using var platform = new FakePciPlatform([]);
        FakeFunction fake = platform.Add(new FakeFunction(new PciAddress(0, 1, 0), 0x1af4, 0x106c, [new FakeBar(0, 0x1000, PciBarKind.Memory32)]));
        fake.WriteConfig((int)PciHeader.Bar.OffsetOf(0), 4, 0xfe00_0000);

        PciFunction function = PciBus.Scan(platform).Single();

        Assert.That(function.GetBar(0)!.Address, Is.EqualTo(0xfe00_0000));
        Assert.That(fake.MemoryEnabled, Is.True);
    }

    [Test]
    public async Task Scan_WithoutAssignment_LeavesDecodingOff()
    {
        await using FakePciPlatform platform = PlatformWithMixedBars();

        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform, new PciScanOptions { AssignResources = false });

        Assert.That(functions.Select(f => f.Command & PciHeader.Command.MemorySpace.Mask), Has.All.Zero);
    }
}
