using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Pci;

public sealed class BarSizingTests
{
    private static readonly PciAddress Address = new(0, 3, 0);

    [TestCase(PciBarKind.Memory32, false, 0x1000UL)]
    [TestCase(PciBarKind.Memory32, true, 0x10_0000UL)]
    [TestCase(PciBarKind.Memory32, false, 0x8000_0000UL)]
    [TestCase(PciBarKind.Memory64, false, 0x4000UL)]
    [TestCase(PciBarKind.Memory64, true, 0x1_0000_0000UL)]
    [TestCase(PciBarKind.Memory64, true, 0x100_0000_0000UL)]
    [TestCase(PciBarKind.Io, false, 0x20UL)]
    [TestCase(PciBarKind.Io, false, 0x100UL)]
    public async Task Sizing_ReportsTheSizeAndKindTheBarDecodes(PciBarKind kind, bool prefetchable, ulong size)
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeFunction(Address, 0x1af4, 0x106c, [new FakeBar(2, size, kind, prefetchable)]));

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        PciBar bar = function.GetBar(2)!;
        Assert.Multiple(() =>
        {
            Assert.That(bar.Size, Is.EqualTo(size));
            Assert.That(bar.Kind, Is.EqualTo(kind));
            Assert.That(bar.Prefetchable, Is.EqualTo(prefetchable));
            Assert.That(function.Bars, Has.Count.EqualTo(1), "a 64-bit BAR's upper slot is not a BAR of its own");
            Assert.That(function.GetBar(3), Is.Null);
        });
    }

    [Test]
    public async Task Sizing_WritesAllOnesOnlyWhileDecodingIsOff()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction fake = platform.Add(new FakeFunction(Address, 0x1af4, 0x106c,
            [new FakeBar(0, 0x1000, PciBarKind.Memory32), new FakeBar(2, 0x10_0000, PciBarKind.Memory64, true), new FakeBar(4, 0x40, PciBarKind.Io)]));
        fake.WriteConfig((int)PciHeader.Command.Offset, 2, (uint)(PciHeader.Command.MemorySpace.Mask | PciHeader.Command.IoSpace.Mask));

        PciEnumerator.Enumerate(platform);

        Assert.That(fake.SizedWhileDecoding, Is.False);
        int[] sized = [.. fake.ConfigWrites.Where(w => w.Value == uint.MaxValue).Select(w => w.Offset)];
        Assert.That(sized, Is.SupersetOf(new[] { 0, 2, 3, 4 }.Select(i => (int)PciHeader.Bar.OffsetOf(i))), "BAR 0, both halves of BAR 2, BAR 4");
    }

    [Test]
    public async Task Sizing_RestoresEveryBarAndTheCommandRegister()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction fake = platform.Add(new FakeFunction(Address, 0x1af4, 0x106c,
            [new FakeBar(0, 0x1000, PciBarKind.Memory32), new FakeBar(2, 0x10_0000, PciBarKind.Memory64, true)]));
        fake.WriteConfig((int)PciHeader.Bar.OffsetOf(0), 4, 0xc000_1000);
        fake.WriteConfig((int)PciHeader.Bar.OffsetOf(2), 4, 0x0010_0000);
        fake.WriteConfig((int)PciHeader.Bar.OffsetOf(3), 4, 0x80);
        ushort command = (ushort)(PciHeader.Command.MemorySpace.Mask | PciHeader.Command.BusMaster.Mask);
        fake.WriteConfig((int)PciHeader.Command.Offset, 2, command);

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        Assert.Multiple(() =>
        {
            Assert.That(fake.BarAddress(0), Is.EqualTo(0xc000_1000));
            Assert.That(fake.BarAddress(2), Is.EqualTo(0x80_0010_0000));
            Assert.That(fake.Command, Is.EqualTo(command));
            Assert.That(function.GetBar(0)!.Address, Is.EqualTo(0xc000_1000), "the address found is reported");
            Assert.That(function.GetBar(2)!.Address, Is.EqualTo(0x80_0010_0000));
        });
    }

    [Test]
    public async Task Sizing_UnimplementedBarsAreNotReported()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeFunction(Address, 0x1af4, 0x106c, [new FakeBar(1, 0x1000, PciBarKind.Memory32)]));

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        Assert.That(function.Bars.Select(b => b.Index), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task Sizing_64BitBarInTheLastSlot_IsIgnoredWithADiagnostic()
    {
        await using var platform = new FakePciPlatform();
        FakeFunction fake = platform.Add(new FakeFunction(Address, 0x1af4, 0x106c));
        fake.Set32(PciHeader.Bar.OffsetOf(5), (uint)((ulong)PciBarEncoding.MemType64 << PciHeader.Bar.MemType.Shift));
        fake.SetWritable(PciHeader.Bar.OffsetOf(5), 4, 0xffff_f000);

        PciFunction function = PciEnumerator.Enumerate(platform).Single();

        Assert.That(function.Bars, Is.Empty);
        Assert.That(function.Diagnostics, Has.Some.Contains("BAR 5 is 64-bit but is the last BAR"));
    }
}
