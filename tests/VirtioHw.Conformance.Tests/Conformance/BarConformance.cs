using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>BAR sizing finds the described BARs; assignment places every kind where it belongs.</summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
[TestFixture(PlatformKind.Qemu)]
public sealed class BarConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    private const ulong FourGiB = 1UL << 32;

    [Test]
    public void Sizing_FindsEveryDescribedBar_WithItsSizeAndKind()
    {
        IReadOnlyList<PciFunction> found = PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in PciEndpoints)
            {
                PciFunction function = found.Find(e.Address!.Value);
                Assert.That(function.Bars.Select(b => new ExpectedBar(b.Index, b.Size, b.Kind, b.Prefetchable)), Is.EqualTo(e.Bars), e.ToString());
                Assert.That(function.Diagnostics, Is.Empty, e.ToString());
            }
        }
    }

    [Test]
    public void Assignment_GivesEveryBarAnAddressAlignedToItsSize_InAWindowOfItsKind()
    {
        IReadOnlyList<PciFunction> functions = Scan();
        bool has64BitWindow = Platform.MemoryWindows.Any(w => w.Is64Bit && w.Kind != PciWindowKind.Io);

        using (Assert.EnterMultipleScope())
        {
            foreach (PciBar bar in functions.Where(f => !Target.PlatformFunctions.Contains(f.Address)).SelectMany(f => f.Bars))
            {
                Assert.That(bar.IsAssigned, Is.True, bar.ToString());
                Assert.That(bar.Address % bar.Size, Is.Zero, bar.ToString());
                PciMemoryWindow? window = Platform.MemoryWindows.FirstOrDefault(w => bar.Address >= w.BaseAddress && bar.LastAddress <= w.LastAddress);
                Assert.That(window, Is.Not.Null, $"{bar} lies in a window");
                Assert.That(window?.Kind == PciWindowKind.Io, Is.EqualTo(bar.Kind == PciBarKind.Io), bar.ToString());
                if (bar.IsMemory && !(bar.Is64Bit && bar.Prefetchable))
                {
                    Assert.That(bar.LastAddress, Is.LessThan(FourGiB), $"{bar} stays below 4 GiB");
                }

                if (bar.Is64Bit && bar.Prefetchable && has64BitWindow)
                {
                    Assert.That(window?.Is64Bit, Is.True, $"{bar} goes to the 64-bit window");
                }
            }
        }
    }

    [Test]
    public void Assignment_NeverOverlapsTwoBars()
    {
        PciBar[] bars = [.. Scan().SelectMany(f => f.Bars).Where(b => b.IsMemory).OrderBy(b => b.Address)];

        for (int i = 1; i < bars.Length; i++)
        {
            Assert.That(bars[i].Address, Is.GreaterThan(bars[i - 1].LastAddress), $"{bars[i - 1]} and {bars[i]}");
        }
    }

    [Test]
    public void Assignment_IsWhatTheBarRegistersHold_AndDecodingAndBusMasteringAreOn()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions.Where(f => !Target.PlatformFunctions.Contains(f.Address)))
            {
                foreach (PciBar bar in function.Bars.Where(b => b.IsMemory))
                {
                    ulong held = Platform.ReadConfig32(function.Address, (int)PciHeader.Bar.OffsetOf(bar.Index)) & PciHeader.Bar.Address.Mask;
                    if (bar.Is64Bit)
                    {
                        held |= (ulong)Platform.ReadConfig32(function.Address, (int)PciHeader.Bar.OffsetOf(bar.Index + 1)) << 32;
                    }

                    Assert.That(held, Is.EqualTo(bar.Address), $"{function.Address} {bar}");
                }

                ushort command = function.Command;
                Assert.That(command & PciHeader.Command.MemorySpace.Mask, Is.Not.Zero, function.ToString());
                Assert.That(command & PciHeader.Command.BusMaster.Mask, Is.Not.Zero, function.ToString());
                Assert.That(function.Diagnostics, Is.Empty, function.ToString());
            }
        }
    }

    [Test]
    public void Sizing_LeavesTheBarsAndCommandAsTheyWere()
    {
        IReadOnlyList<PciFunction> functions = Scan();
        var before = functions.ToDictionary(f => f.Address, f => Snapshot(f.Address));

        PciEnumerator.Enumerate(Platform);

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions)
            {
                Assert.That(Snapshot(function.Address), Is.EqualTo(before[function.Address]), function.ToString());
            }
        }
    }

    [Test]
    public void UnusedBarSlots_ReadZeroAfterSizing()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in PciEndpoints)
            {
                PciFunction function = functions.Find(e.Address!.Value);
                var used = new HashSet<int>(e.Bars.SelectMany(b => b.Kind == PciBarKind.Memory64 ? new[] { b.Index, b.Index + 1 } : [b.Index]));
                foreach (int slot in Enumerable.Range(0, PciHeader.Bar.Count).Where(i => !used.Contains(i)))
                {
                    Platform.WriteConfig32(function.Address, (int)PciHeader.Bar.OffsetOf(slot), uint.MaxValue);
                    Assert.That(Platform.ReadConfig32(function.Address, (int)PciHeader.Bar.OffsetOf(slot)), Is.Zero, $"{e} BAR slot {slot}");
                }
            }
        }
    }

    private uint[] Snapshot(PciAddress address) =>
        [Platform.ReadConfig16(address, (int)PciHeader.Command.Offset),
         .. Enumerable.Range(0, PciHeader.Bar.Count).Select(i => Platform.ReadConfig32(address, (int)PciHeader.Bar.OffsetOf(i)))];
}
