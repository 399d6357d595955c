using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>Each command of the chip model against the W25Q128JV/W25Q256JV datasheet behaviour.</summary>
[TestFixture]
public class SimulatedFlashTests
{
    private ModelHarness _h = null!;

    [SetUp]
    public void SetUp() => _h = new ModelHarness(SimulatedChipSpec.W25Q128JV);

    [TearDown]
    public void TearDown() => _h.Dispose();

    [Test]
    public void JedecId_ReturnsManufacturerTypeAndCapacity()
    {
        Assert.That(_h.CommandRead([0x9f], 3), Is.EqualTo(new byte[] { 0xef, 0x40, 0x18 }));
    }

    [Test]
    public void WriteEnable_SetsWel_AndWriteDisableClearsIt()
    {
        _h.WriteEnable();
        Assert.That(_h.Status1() & 0x02, Is.EqualTo(0x02));
        _h.Command(0x04);
        Assert.That(_h.Status1() & 0x02, Is.Zero);
    }

    [Test]
    public void WriteEnable_FollowedByExtraByte_IsNotExecuted()
    {
        _h.Command(0x06, 0x00);
        Assert.That(_h.Status1() & 0x02, Is.Zero);
    }

    [Test]
    public void PageProgram_WithoutWriteEnable_IsIgnored()
    {
        _h.Bus.CommandWrite([0x02, 0, 0, 0], [0x00]);
        _h.WaitIdle();
        Assert.That(_h.Model.Contents[0], Is.EqualTo(0xff));
        Assert.That(_h.Model.Operations, Is.Empty);
    }

    [Test]
    public void PageProgram_CanOnlyClearBits()
    {
        _h.Program(0x100, [0x0f]);
        _h.WaitIdle();
        _h.Program(0x100, [0xf5]);
        _h.WaitIdle();
        Assert.That(_h.Read(0x100, 1)[0], Is.EqualTo(0x05));
    }

    [Test]
    public void PageProgram_PastPageEnd_WrapsWithinPage()
    {
        _h.Program(0x1fe, [0x11, 0x22, 0x33, 0x44]);
        _h.WaitIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_h.Read(0x1fe, 2), Is.EqualTo(new byte[] { 0x11, 0x22 }));
            Assert.That(_h.Read(0x100, 2), Is.EqualTo(new byte[] { 0x33, 0x44 }), "wrapped to the start of the same page");
            Assert.That(_h.Read(0x200, 1)[0], Is.EqualTo(0xff), "the next page is untouched");
        });
    }

    [Test]
    public void PageProgram_MoreThanAPage_KeepsTheLastByteSentForEachColumn()
    {
        byte[] data = new byte[258];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i < 256 ? 0xa0 : 0x0b);
        }

        _h.Program(0x300, data);
        _h.WaitIdle();
        Assert.That(_h.Read(0x300, 3), Is.EqualTo(new byte[] { 0x0b, 0x0b, 0xa0 }));
    }

    [Test]
    public void PageProgram_IsBusyForTypicalTime_ThenClearsWel()
    {
        _h.Program(0, [0x00]);
        Assert.That(_h.Status1() & 0x03, Is.EqualTo(0x03), "busy with the latch still set");
        _h.Bus.Wait(TimeSpan.FromMilliseconds(0.4));
        Assert.Multiple(() =>
        {
            Assert.That(_h.Status1() & 0x03, Is.Zero, "done after tPP, latch cleared");
            Assert.That(_h.Model.Contents[0], Is.Zero);
            Assert.That(_h.Model.Operations[0].Duration, Is.EqualTo(TimeSpan.FromMilliseconds(0.4)));
        });
    }

    [Test]
    public void CommandsWhileBusy_AreIgnored_ExceptStatusReads()
    {
        _h.Program(0, [0x00]);
        Assert.Multiple(() =>
        {
            Assert.That(_h.CommandRead([0x9f], 3), Is.EqualTo(new byte[] { 0xff, 0xff, 0xff }), "ID read ignored while busy");
            Assert.That(_h.Read(0, 1)[0], Is.EqualTo(0xff), "array read ignored while busy");
            Assert.That(_h.Status1() & 0x01, Is.EqualTo(0x01));
        });
    }

    [Test]
    public void TimeScale_MultipliesBusyTime()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q128JV, timeScale: 0.5);
        h.Erase(0x20, 0);
        Assert.That(h.Model.Operations[0].Duration, Is.EqualTo(TimeSpan.FromMilliseconds(22.5)));
    }

    [TestCase(0x20, 4096, 45.0)]
    [TestCase(0x52, 32768, 120.0)]
    [TestCase(0xd8, 65536, 150.0)]
    public void BlockErase_SetsItsAlignedBlockToFF_AndLeavesNeighbours(int opcode, int size, double typicalMs)
    {
        _h.Model.Load(0, TestData.Filled(3 * 65536, 0x00));
        _h.Erase((byte)opcode, size + 123);
        _h.WaitIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.Contents.Slice(size, size).ContainsAnyExcept((byte)0xff), Is.False, "the block reads blank");
            Assert.That(_h.Model.Contents[size - 1], Is.Zero);
            Assert.That(_h.Model.Contents[2 * size], Is.Zero);
            Assert.That(_h.Model.Operations[0].Duration.TotalMilliseconds, Is.EqualTo(typicalMs).Within(1e-6));
        });
    }

    [Test]
    public void Erase_WithExtraByteBeforeChipSelectRises_IsNotExecuted()
    {
        _h.Model.Load(0, [0x00]);
        _h.WriteEnable();
        _h.Command(0x20, 0, 0, 0, 0);
        _h.WaitIdle();
        Assert.That(_h.Model.Contents[0], Is.Zero);
    }

    [TestCase(0xc7)]
    [TestCase(0x60)]
    public void ChipErase_SetsEverythingToFF(int opcode)
    {
        _h.Model.Load(0x123456, [0x00, 0x12]);
        _h.WriteEnable();
        _h.Command((byte)opcode);
        Assert.That(_h.Status1() & 0x01, Is.EqualTo(0x01));
        _h.WaitIdle();
        Assert.That(_h.Model.Contents.ContainsAnyExcept((byte)0xff), Is.False);
    }

    [Test]
    public void Read_WrapsAtTheEndOfTheArray()
    {
        _h.Model.Load(0, [0x5a]);
        _h.Model.Load(_h.Model.Part.Size - 1, [0xa5]);
        Assert.That(_h.Read(_h.Model.Part.Size - 1, 2), Is.EqualTo(new byte[] { 0xa5, 0x5a }));
    }

    [Test]
    public void FastRead_SkipsOneDummyByte()
    {
        _h.Model.Load(0x10, [1, 2, 3]);
        Assert.That(_h.CommandRead([0x0b, 0, 0, 0x10, 0x00], 3), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void WriteStatus_SetsProtectionBits_ClearsWel_AfterWriteTime()
    {
        _h.WriteEnable();
        _h.Bus.CommandWrite([0x01], [0x1c]);
        Assert.That(_h.Status1() & 0x01, Is.EqualTo(0x01), "busy for tW");
        _h.Bus.Wait(TimeSpan.FromMilliseconds(10));
        Assert.That(_h.Status1(), Is.EqualTo(0x1c));
    }

    [Test]
    public void WriteStatus_TwoBytes_AlsoWritesStatusRegister2()
    {
        _h.WriteEnable();
        _h.Bus.CommandWrite([0x01], [0x00, 0x40]);
        _h.WaitIdle();
        Assert.That(_h.CommandRead([0x35], 1)[0], Is.EqualTo(0x40));
    }

    [Test]
    public void WriteStatus_WithSrpSetAndWpLow_IsIgnored()
    {
        _h.Model.SetStatusRegisters(0x80 | 0x1c);
        _h.Model.WriteProtectPinHigh = false;
        _h.WriteEnable();
        _h.Bus.CommandWrite([0x01], [0x00]);
        _h.WaitIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_h.Status1() & 0xfc, Is.EqualTo(0x9c));
            Assert.That(_h.Status1() & 0x02, Is.EqualTo(0x02), "an ignored command leaves the latch set");
        });
    }

    [Test]
    public void ProtectedRange_IgnoresProgramAndErase()
    {
        // BP0 alone protects the upper 1/64 (256 KiB) of a 16 MiB part.
        _h.Model.SetStatusRegisters(0x04);
        long top = _h.Model.Part.Size - 4096;
        _h.Program(top, [0x00]);
        _h.WaitIdle();
        _h.Model.Load(top + 1, [0x00]);
        _h.Erase(0x20, top);
        _h.WaitIdle();
        _h.Program(0, [0x00]);
        _h.WaitIdle();
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.Contents[(int)top], Is.EqualTo(0xff), "program refused");
            Assert.That(_h.Model.Contents[(int)top + 1], Is.Zero, "erase refused");
            Assert.That(_h.Model.Contents[0], Is.Zero, "unprotected page programmed");
        });
    }

    [Test]
    public void ChipErase_WithAnyBlockProtected_IsIgnored()
    {
        _h.Model.SetStatusRegisters(0x04);
        _h.Model.Load(0, [0x00]);
        _h.WriteEnable();
        _h.Command(0xc7);
        _h.WaitIdle();
        Assert.That(_h.Model.Contents[0], Is.Zero);
    }

    [Test]
    public void PowerDown_IgnoresEverythingButRelease_WhichReturnsTheDeviceId()
    {
        _h.Command(0xb9);
        _h.Bus.Wait(TimeSpan.FromMicroseconds(5));
        Assert.That(_h.CommandRead([0x9f], 3), Is.EqualTo(new byte[] { 0xff, 0xff, 0xff }));
        Assert.That(_h.CommandRead([0xab, 0, 0, 0], 1)[0], Is.EqualTo(0x17));
        _h.Bus.Wait(TimeSpan.FromMicroseconds(5));
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.IsPoweredDown, Is.False);
            Assert.That(_h.CommandRead([0x9f], 3), Is.EqualTo(new byte[] { 0xef, 0x40, 0x18 }));
        });
    }

    [Test]
    public void Release_CommandsBeforeTres1_AreIgnored()
    {
        _h.Command(0xb9);
        _h.Command(0xab);
        Assert.That(_h.CommandRead([0x9f], 3)[0], Is.EqualTo(0xff));
    }

    [Test]
    public void Reset_WithoutResetEnable_DoesNothing_AndWithItClearsWel()
    {
        _h.WriteEnable();
        _h.Command(0x99);
        Assert.That(_h.Status1() & 0x02, Is.EqualTo(0x02));
        _h.Command(0x66);
        _h.Command(0x99);
        _h.Bus.Wait(TimeSpan.FromMicroseconds(30));
        Assert.That(_h.Status1() & 0x02, Is.Zero);
    }

    [Test]
    public void Sfdp_StartsWithSignatureAndPointsAtTheBasicTable()
    {
        byte[] header = _h.CommandRead([0x5a, 0, 0, 0, 0], 16);
        Assert.Multiple(() =>
        {
            Assert.That(header[..4], Is.EqualTo("SFDP"u8.ToArray()));
            Assert.That(header[5], Is.EqualTo(1), "major revision");
            Assert.That(header[8], Is.Zero, "parameter ID LSB of the basic table");
            Assert.That(header[15], Is.EqualTo(0xff), "parameter ID MSB of the basic table");
            Assert.That(header[12], Is.EqualTo(0x80), "table pointer");
        });
    }

    [Test]
    public void BusBytes_CountEveryBytePeriod()
    {
        long before = _h.Model.BusBytes;
        _h.CommandRead([0x9f], 3);
        Assert.That(_h.Model.BusBytes - before, Is.EqualTo(4));
    }

    [Test]
    public void BusClock_AdvancesModelTimePerByte()
    {
        long before = _h.Model.Clock.Nanoseconds;
        _h.CommandRead([0x03, 0, 0, 0], 6);
        Assert.That(_h.Model.Clock.Nanoseconds - before, Is.EqualTo(10 * 800), "10 bytes at 10 MHz");
    }

    [Test]
    public void PowerLoss_DuringErase_LeavesAPrefixErased()
    {
        _h.Model.Load(0, TestData.Filled(4096, 0x00));
        _h.Model.SchedulePowerLossDuringOperation(0, 0.25);
        _h.Erase(0x20, 0);
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.IsPoweredOff, Is.True);
            Assert.That(_h.Model.Contents[..1024].ContainsAnyExcept((byte)0xff), Is.False, "the first quarter is erased");
            Assert.That(_h.Model.Contents[1024..4096].ContainsAnyExcept((byte)0x00), Is.False, "the rest still holds zeros");
        });
    }

    [Test]
    public void PowerLoss_DuringPageProgram_LeavesAPrefixOfTheBytesProgrammed()
    {
        _h.Model.SchedulePowerLossDuringOperation(0, 0.5);
        _h.Program(0, TestData.Filled(256, 0x00));
        Assert.Multiple(() =>
        {
            Assert.That(_h.Model.Contents[..128].ContainsAnyExcept((byte)0x00), Is.False, "the first half is programmed");
            Assert.That(_h.Model.Contents[128..256].ContainsAnyExcept((byte)0xff), Is.False, "the second half is not");
        });
    }

    [Test]
    public void PowerLoss_AfterBusBytes_FailsTheBusUntilPowerReturns_ThenVolatileStateIsReset()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q256JV);
        h.Command(0xb7);
        h.WriteEnable();
        h.Model.SchedulePowerLossAfterBusBytes(h.Model.BusBytes + 1);
        Assert.Throws<SimulatedPowerLossException>(() => h.CommandRead([0x05], 1));
        Assert.Throws<SimulatedPowerLossException>(() => h.CommandRead([0x05], 1));
        h.Model.RestorePower();
        Assert.Multiple(() =>
        {
            Assert.That(h.Status1() & 0x02, Is.Zero, "write-enable latch is volatile");
            Assert.That(h.Model.IsInFourByteMode, Is.False, "address mode returns to the power-up default");
        });
    }

    [Test]
    public void PowerLoss_MidWriteStatus_KeepsTheOldValue()
    {
        _h.Model.SchedulePowerLossDuringOperation(0, 0.5);
        _h.WriteEnable();
        _h.Bus.CommandWrite([0x01], [0x1c]);
        _h.Model.RestorePower();
        Assert.That(_h.Status1(), Is.Zero);
    }

    [Test]
    public void CorruptReads_FlipBitsOnlyTheGivenNumberOfTimes()
    {
        _h.Model.CorruptReads(5, 0x01, times: 1);
        Assert.Multiple(() =>
        {
            Assert.That(_h.Read(5, 1)[0], Is.EqualTo(0xfe));
            Assert.That(_h.Read(5, 1)[0], Is.EqualTo(0xff));
        });
    }
}

/// <summary>The 32 MiB model: 3- and 4-byte addressing.</summary>
[TestFixture]
public class SimulatedFlashFourByteTests
{
    [Test]
    public void EnterFourByteMode_MakesReadTakeFourAddressBytes()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q256JV);
        h.Model.Load(0x1800000, [0x42]);
        h.Command(0xb7);
        Assert.Multiple(() =>
        {
            Assert.That(h.Model.IsInFourByteMode, Is.True);
            Assert.That(h.CommandRead([0x15], 1)[0] & 0x01, Is.EqualTo(0x01), "ADS shows the current mode");
            Assert.That(h.Read(0x1800000, 1, fourByte: true)[0], Is.EqualTo(0x42));
        });
        h.Command(0xe9);
        Assert.That(h.Model.IsInFourByteMode, Is.False);
    }

    [Test]
    public void ThreeByteMode_AddressesTheLowerSixteenMiB()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q256JV);
        h.Model.Load(0x1800000, [0x42]);
        h.Model.Load(0x0800000, [0x24]);
        Assert.That(h.Read(0x800000, 1)[0], Is.EqualTo(0x24));
    }

    [Test]
    public void FourByteOpcodes_WorkWithoutEnteringFourByteMode()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q256JV);
        h.WriteEnable();
        h.Bus.CommandWrite([0x12, 0x01, 0x80, 0x00, 0x10], [0x99]);
        h.WaitIdle();
        Assert.That(h.CommandRead([0x13, 0x01, 0x80, 0x00, 0x10], 1)[0], Is.EqualTo(0x99));
        h.WriteEnable();
        h.Command(0x21, 0x01, 0x80, 0x00, 0x00);
        h.WaitIdle();
        Assert.That(h.Model.Contents[0x1800010], Is.EqualTo(0xff));
    }

    [Test]
    public void WriteStatus3_Adp_MakesThePartPowerUpInFourByteMode()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q256JV);
        h.WriteEnable();
        h.Bus.CommandWrite([0x11], [0x02]);
        h.WaitIdle();
        Assert.That(h.Model.IsInFourByteMode, Is.False, "ADP changes only the power-up mode");
        h.Model.SchedulePowerLossAfterBusBytes(h.Model.BusBytes);
        Assert.Throws<SimulatedPowerLossException>(() => h.Status1());
        h.Model.RestorePower();
        Assert.That(h.CommandRead([0x15], 1)[0] & 0x03, Is.EqualTo(0x03), "ADP kept, ADS set");
    }

    [Test]
    public void FourByteOpcodes_OnASixteenMiBPart_AreIgnored()
    {
        using var h = new ModelHarness(SimulatedChipSpec.W25Q128JV);
        h.Model.Load(0, [0x00]);
        h.WriteEnable();
        h.Command(0x21, 0, 0, 0, 0);
        h.WaitIdle();
        Assert.That(h.Model.Contents[0], Is.Zero);
    }
}
