using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

/// <summary>The defaults <see cref="Platform"/> builds on its abstract core, seen through a fake.</summary>
public class PlatformTests
{
    private const ulong Base = FakePlatform.MemoryBase;
    private FakePlatform _platform = null!;

    [SetUp]
    public void SetUp() => _platform = new FakePlatform();

    [TearDown]
    public async Task TearDown() => await _platform.DisposeAsync();

    [Test]
    public void FixedWidthHelpers_EachMakeOneAccessOfTheirWidth()
    {
        _platform.Write8(Base, 0x11);
        _platform.Write16(Base + 2, 0x2222);
        _platform.Write32(Base + 4, 0x3333_3333);
        _platform.Write64(Base + 8, 0x4444_4444_4444_4444);
        _ = _platform.Read8(Base);
        _ = _platform.Read16(Base + 2);
        _ = _platform.Read32(Base + 4);
        _ = _platform.Read64(Base + 8);

        Assert.That(_platform.Accesses, Is.EqualTo(new[]
        {
            (true, Base, 1), (true, Base + 2, 2), (true, Base + 4, 4), (true, Base + 8, 8),
            (false, Base, 1), (false, Base + 2, 2), (false, Base + 4, 4), (false, Base + 8, 8),
        }));
    }

    [Test]
    public void FixedWidthHelpers_RoundTripLittleEndianValues()
    {
        _platform.Write64(Base, 0x0807_0605_0403_0201);

        Assert.Multiple(() =>
        {
            Assert.That(_platform.Read8(Base), Is.EqualTo(0x01));
            Assert.That(_platform.Read16(Base + 2), Is.EqualTo(0x0403));
            Assert.That(_platform.Read32(Base + 4), Is.EqualTo(0x0807_0605));
            Assert.That(_platform.Read64(Base), Is.EqualTo(0x0807_0605_0403_0201));
        });
    }

    [TestCase(0)]
    [TestCase(3)]
    [TestCase(16)]
    [TestCase(-1)]
    public void ReadMemory_WidthNotOneTwoFourOrEight_ThrowsArgumentOutOfRange(int width)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _platform.ReadMemory(Base, width));
        Assert.That(error!.ParamName, Is.EqualTo("width"));
    }

    [TestCase(2, 1UL)]
    [TestCase(4, 2UL)]
    [TestCase(8, 4UL)]
    public void WriteMemory_MisalignedForItsWidth_ThrowsArgumentOutOfRange(int width, ulong offset)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _platform.WriteMemory(Base + offset, width, 0));
        Assert.That(error!.ParamName, Is.EqualTo("address"));
    }

    [Test]
    public void BulkRead_SplitsIntoTheWidestAlignedAccesses()
    {
        byte[] data = new byte[15];
        _platform.ReadMemory(Base + 1, data);

        Assert.That(_platform.Accesses.Select(a => (a.Address - Base, a.Width)),
            Is.EqualTo(new[] { (1UL, 1), (2UL, 2), (4UL, 4), (8UL, 8) }));
    }

    [Test]
    public void BulkWrite_ThenBulkRead_RoundTripsUnalignedBlock()
    {
        byte[] data = [.. Enumerable.Range(1, 29).Select(i => (byte)i)];
        _platform.WriteMemory(Base + 3, data);
        byte[] back = new byte[data.Length];
        _platform.ReadMemory(Base + 3, back);

        Assert.Multiple(() =>
        {
            Assert.That(back, Is.EqualTo(data));
            Assert.That(_platform.Read8(Base + 2), Is.Zero, "the byte before the block is untouched");
            Assert.That(_platform.Read8(Base + 32), Is.Zero, "the byte after the block is untouched");
            Assert.That(_platform.Accesses.Where(a => a.Write).Max(a => a.Width), Is.EqualTo(8));
        });
    }

    [Test]
    public void BulkRead_PastTheEndOfTheAddressSpace_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _platform.ReadMemory(ulong.MaxValue - 2, new byte[4]));
    }

    [Test]
    public void ReadConfig_AbsentFunction_ReadsAllOnesAtEveryWidth()
    {
        var absent = new PciAddress(0, 5, 0);

        Assert.Multiple(() =>
        {
            Assert.That(_platform.ReadConfig8(absent, 0), Is.EqualTo(0xff));
            Assert.That(_platform.ReadConfig16(absent, 0), Is.EqualTo(0xffff));
            Assert.That(_platform.ReadConfig32(absent, 0), Is.EqualTo(0xffff_ffff));
        });
    }

    [Test]
    public void ConfigHelpers_OnPresentFunction_RoundTrip()
    {
        var function = new PciAddress(0, 1, 0);
        _platform.AddFunction(function);
        _platform.WriteConfig32(function, 0x10, 0xfebc_0000);
        _platform.WriteConfig16(function, 0x04, 0x0006);
        _platform.WriteConfig8(function, 0x3c, 0x0b);

        Assert.Multiple(() =>
        {
            Assert.That(_platform.ReadConfig32(function, 0x10), Is.EqualTo(0xfebc_0000));
            Assert.That(_platform.ReadConfig16(function, 0x12), Is.EqualTo(0xfebc));
            Assert.That(_platform.ReadConfig16(function, 0x04), Is.EqualTo(0x0006));
            Assert.That(_platform.ReadConfig8(function, 0x3c), Is.EqualTo(0x0b));
        });
    }

    [TestCase(0, 3)]
    [TestCase(0, 8)]
    [TestCase(4096, 1)]
    [TestCase(4094, 4)]
    [TestCase(2, 4)]
    [TestCase(-4, 4)]
    public void ReadConfig_BadWidthOrOffset_ThrowsArgumentOutOfRange(int offset, int width)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _platform.ReadConfig(new PciAddress(0, 0, 0), offset, width));
    }

    [Test]
    public void AllocateDma_GivesDistinctAlignedBusAddresses()
    {
        using DmaRegion a = _platform.AllocateDma(100);
        using DmaRegion b = _platform.AllocateDma(5000, 8192);
        using DmaRegion c = _platform.AllocateDma(16, 16);

        Assert.Multiple(() =>
        {
            Assert.That(a.BusAddress % 4096, Is.Zero);
            Assert.That(b.BusAddress % 8192, Is.Zero);
            Assert.That(c.BusAddress % 16, Is.Zero);
            Assert.That(Overlap(a, b) || Overlap(a, c) || Overlap(b, c), Is.False);
        });

        static bool Overlap(DmaRegion x, DmaRegion y) =>
            x.BusAddress < y.BusAddress + (ulong)y.Length && y.BusAddress < x.BusAddress + (ulong)x.Length;
    }

    [Test]
    public void AllocateDma_AfterDispose_ReusesTheFreedBusRange()
    {
        DmaRegion first = _platform.AllocateDma(4096);
        ulong address = first.BusAddress;
        first.Dispose();
        using DmaRegion second = _platform.AllocateDma(4096);

        Assert.That(second.BusAddress, Is.EqualTo(address));
    }

    [Test]
    public void DmaRegion_DeviceWritesByBusAddress_AreSeenByTheDriver()
    {
        using DmaRegion region = _platform.AllocateDma(64);
        _platform.DeviceWrite(region.BusAddress + 8, [1, 2, 3, 4]);

        Assert.That(region.ReadUInt32(8), Is.EqualTo(0x0403_0201));
    }

    [Test]
    public void DmaRegion_Disposed_IsNoLongerReachableByDevices()
    {
        DmaRegion region = _platform.AllocateDma(64);
        ulong address = region.BusAddress;
        region.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(_platform.Dma.TryRead(address, new byte[4]), Is.False);
            Assert.Throws<ObjectDisposedException>(() => region.ReadUInt32(0));
        });
    }

    [Test]
    public async Task DisposeAsync_ReleasesRegionsAndEndsVectorStreams()
    {
        DmaRegion region = _platform.AllocateDma(64);
        MsiVector vector = _platform.AllocateMsiVector();
        await _platform.DisposeAsync();

        int messages = 0;
        await foreach (long _ in vector.ReadAllAsync())
        {
            messages++;
        }

        Assert.Multiple(() =>
        {
            Assert.That(region.IsDisposed, Is.True);
            Assert.That(messages, Is.Zero);
        });
    }
}
