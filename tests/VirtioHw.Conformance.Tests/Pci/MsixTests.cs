using VirtioHw.Conformance.Tests.Fakes;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Conformance.Tests.Pci;

public sealed class MsixTests
{
    private static readonly PciAddress Address = new(0, 1, 0);

    private static (FakePciPlatform Platform, FakeVirtioPciFunction Fake, PciMsix Msix) Rig(int vectors = 4)
    {
        var platform = new FakePciPlatform();
        FakeVirtioPciFunction fake = platform.Add(new FakeVirtioPciFunction(platform, Address, new FakeVirtioSpec(), vectors));
        PciMsix msix = PciBus.Scan(platform).Single().OpenMsix();
        return (platform, fake, msix);
    }

    [Test]
    public async Task Open_LocatesTableAndPbaInTheirBar()
    {
        (FakePciPlatform platform, _, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;

        PciFunction function = PciEnumerator.Probe(platform, Address)!;
        Assert.That(msix.TableSize, Is.EqualTo(4));
        Assert.That(msix.PbaAddress - msix.TableAddress, Is.EqualTo(FakeVirtioPciFunction.PbaOffset));
        Assert.That(msix.TableAddress, Is.EqualTo(function.GetBar(1)!.Address));
    }

    [Test]
    public async Task Connect_ProgramsAddressAndData_AndUnmasksTheEntry()
    {
        (FakePciPlatform platform, _, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;
        using MsiVector vector = platform.AllocateMsiVector();

        msix.Connect(2, vector);

        Assert.That(msix.ReadEntry(2), Is.EqualTo((vector.Address, vector.Data)));
        Assert.That(msix.IsMasked(2), Is.False);
        Assert.That(msix.IsMasked(1), Is.True, "entries come out of reset masked");
    }

    [Test]
    public async Task MaskedEntry_HoldsItsMessagePending_UntilUnmasked()
    {
        (FakePciPlatform platform, FakeVirtioPciFunction fake, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;
        using MsiVector vector = platform.AllocateMsiVector();
        msix.Enabled = true;
        msix.Connect(1, vector);
        msix.Mask(1);

        fake.Signal(1);

        Assert.That(msix.IsPending(1), Is.True);
        Assert.That(msix.IsPending(0), Is.False);
        Assert.That(vector.DeliveredCount, Is.Zero);

        msix.Unmask(1);

        Assert.That(msix.IsPending(1), Is.False);
        Assert.That(vector.DeliveredCount, Is.EqualTo(1));
    }

    [Test]
    public async Task FunctionMask_HoldsEveryEntryPending_AndClearingItSendsThem()
    {
        (FakePciPlatform platform, FakeVirtioPciFunction fake, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;
        using MsiVector first = platform.AllocateMsiVector();
        using MsiVector second = platform.AllocateMsiVector();
        msix.Enabled = true;
        msix.Connect(0, first);
        msix.Connect(3, second);
        msix.FunctionMasked = true;

        fake.Signal(0);
        fake.Signal(3);

        Assert.That(msix.FunctionMasked, Is.True);
        Assert.That(new[] { msix.IsPending(0), msix.IsPending(3) }, Has.All.True);
        Assert.That(first.DeliveredCount + second.DeliveredCount, Is.Zero);

        msix.FunctionMasked = false;

        Assert.That(new[] { msix.IsPending(0), msix.IsPending(3) }, Has.All.False);
        Assert.That((first.DeliveredCount, second.DeliveredCount), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public async Task UnmaskedEntry_DeliversAtOnce()
    {
        (FakePciPlatform platform, FakeVirtioPciFunction fake, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;
        using MsiVector vector = platform.AllocateMsiVector();
        msix.Enabled = true;
        msix.Connect(1, vector);

        fake.Signal(1);

        Assert.That(vector.TryTake(out long sequence), Is.True);
        Assert.That(sequence, Is.EqualTo(1));
        Assert.That(msix.IsPending(1), Is.False);
    }

    [Test]
    public async Task Enable_SetsTheEnableBitInMessageControl()
    {
        (FakePciPlatform platform, FakeVirtioPciFunction fake, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;

        msix.Enabled = true;

        Assert.That(fake.MsixEnabled, Is.True);
        Assert.That(msix.Enabled, Is.True);
        msix.Enabled = false;
        Assert.That(fake.MsixEnabled, Is.False);
    }

    [TestCase(-1)]
    [TestCase(4)]
    public async Task EntryOutsideTheTable_IsRefused(int entry)
    {
        (FakePciPlatform platform, _, PciMsix msix) = Rig();
        await using FakePciPlatform owner = platform;

        Assert.That(() => msix.Mask(entry), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("4-entry table"));
    }

    [Test]
    public async Task Open_WithoutMsixCapability_SaysSo()
    {
        await using var platform = new FakePciPlatform();
        platform.Add(new FakeVirtioPciFunction(platform, Address, new FakeVirtioSpec(), msixVectors: 0));
        PciFunction function = PciBus.Scan(platform).Single();

        Assert.That(function.OpenMsix, Throws.InvalidOperationException.With.Message.EqualTo("00:01.0 has no MSI-X capability"));
    }
}
