using VirtioHw.Registers;
using T = VirtioHw.Registers.RegcSelftest;

namespace VirtioHw.Regc.Tests;

/// <summary>
/// The generated C# model of regc_selftest against the access semantics of hw/regs/README.md:
/// one test per access type. Offsets come from the generated definitions.
/// </summary>
public sealed class ModelSemanticsTests
{
    private RegcSelftestModel _m = null!;

    [SetUp]
    public void NewModel() => _m = new RegcSelftestModel();

    private static uint WordOf(uint offset) => offset & ~3u;

    private static int LaneOf(uint offset) => (int)(offset & 3) * 8;

    [Test]
    public void Reset_EveryRegisterReadsItsResetValue()
    {
        Assert.Multiple(() =>
        {
            Assert.That((_m.Read(T.Byte0.Offset) >> LaneOf(T.Byte0.Offset)) & 0xff, Is.EqualTo(T.Byte0.ResetValue));
            Assert.That((_m.Read(T.Byte1.Offset) >> LaneOf(T.Byte1.Offset)) & 0xff, Is.EqualTo(T.Byte1.ResetValue));
            Assert.That(_m.Read(T.Constant.Offset), Is.EqualTo(T.Constant.ResetValue));
            Assert.That(_m.Read(T.Wide.Offset), Is.EqualTo(T.Wide.ResetValue & 0xffff_ffff));
            Assert.That(_m.Read(T.Wide.Offset + 4), Is.EqualTo(T.Wide.ResetValue >> 32));
            Assert.That(_m.Byte0, Is.EqualTo((byte)T.Byte0.ResetValue), "hardware sees the reset value too");
        });
    }

    [Test]
    public void SharedWord_ReadReturnsEveryRegisterInItsLanes()
    {
        Assert.That(T.Byte0.Offset / 4, Is.EqualTo(T.Half1.Offset / 4), "the self-test block shares this word");
        uint word = _m.Read(WordOf(T.Byte0.Offset));
        ulong expected = (T.Byte0.ResetValue << LaneOf(T.Byte0.Offset))
            | (T.Byte1.ResetValue << LaneOf(T.Byte1.Offset))
            | (T.Half1.ResetValue << LaneOf(T.Half1.Offset));
        Assert.That(word, Is.EqualTo((uint)expected));
    }

    [Test]
    public void ByteStrobe_WritesOnlyTheStrobedRegister()
    {
        uint strobe = 1u << (int)(T.Byte0.Offset & 3);
        _m.Write(WordOf(T.Byte0.Offset), 0xffff_ffff, strobe);
        Assert.Multiple(() =>
        {
            Assert.That(_m.Byte0, Is.EqualTo(0xff));
            Assert.That(_m.Half1Level, Is.EqualTo((byte)(T.Half1.Level.Reset)), "neighbour in the same word untouched");
        });
    }

    [Test]
    public void PartialStrobe_OfSixteenBitRegister_ChangesOnlyThatByte()
    {
        // Strobe only the high byte of half1: level[11:4] keeps bits 7:4 from before.
        uint highByteLane = (T.Half1.Offset & 3) + 1;
        _m.Write(WordOf(T.Half1.Offset), 0xffff_ffff, 1u << (int)highByteLane);
        ulong expected = (T.Half1.Level.Reset & 0x0f) | 0xf0;
        Assert.That(_m.Half1Level, Is.EqualTo((byte)expected));
    }

    [Test]
    public void ReadOnlyField_IgnoresWrites_AndShowsHardwareValue()
    {
        _m.SetByte1(0x33);
        _m.Write(WordOf(T.Byte1.Offset), 0xffff_ffff);
        Assert.That((_m.Read(T.Byte1.Offset) >> LaneOf(T.Byte1.Offset)) & 0xff, Is.EqualTo(0x33u));
    }

    [Test]
    public void SixtyFourBitRegister_HalvesAreIndependentWords()
    {
        _m.Write(T.Wide.Offset + 4, 0xdead_beef);
        Assert.That(_m.Wide, Is.EqualTo(0xdead_beef_0000_0000UL | (T.Wide.ResetValue & 0xffff_ffff)));
        _m.Write(T.Wide.Offset, 0x1234_5678);
        Assert.That(_m.Wide, Is.EqualTo(0xdead_beef_1234_5678UL));
    }

    [Test]
    public void ReadClear_ReturnsValueThenClears_AndSwmodFires()
    {
        var modified = new List<FieldEvent>();
        _m.RclrStatusEventAModified += (_, e) => modified.Add(e);
        _m.HwSetRclrStatusEventA();
        _m.RclrStatusEventsB = 0x5;
        uint first = _m.Read(T.RclrStatus.Offset);
        uint second = _m.Read(T.RclrStatus.Offset);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo((uint)(T.RclrStatus.EventA.Mask | (5UL << T.RclrStatus.EventsB.Shift))));
            Assert.That(second, Is.Zero);
            Assert.That(modified, Has.Count.EqualTo(2), "each read clear is a software modification");
        });
    }

    [Test]
    public void ReadClear_OfOneHalf_LeavesTheOtherHalf()
    {
        _m.RclrWide = 0x1111_2222_3333_4444;
        uint low = _m.Read(T.RclrWide.Offset);
        Assert.Multiple(() =>
        {
            Assert.That(low, Is.EqualTo(0x3333_4444u));
            Assert.That(_m.RclrWide, Is.EqualTo(0x1111_2222_0000_0000UL));
            Assert.That(_m.Read(T.RclrWide.Offset + 4), Is.EqualTo(0x1111_2222u));
            Assert.That(_m.RclrWide, Is.Zero);
        });
    }

    [Test]
    public void WriteOneToClear_ClearsOnlyTheOnes()
    {
        _m.HwSetWoclrStatus();
        _m.Write(T.WoclrStatus.Offset, 0b0000_0101);
        Assert.That(_m.Read(T.WoclrStatus.Offset), Is.EqualTo(0b1111_1010u));
    }

    [Test]
    public void WriteOneToSet_SetsOnlyTheOnes_AndHardwareClears()
    {
        _m.Write(T.WosetCtrl.Offset, 0b0001_0001);
        _m.Write(T.WosetCtrl.Offset, 0b0000_0100);
        Assert.That(_m.WosetCtrl, Is.EqualTo(0b0001_0101));
        _m.HwClearWosetCtrl();
        Assert.That(_m.Read(T.WosetCtrl.Offset), Is.Zero);
    }

    [Test]
    public void SinglePulse_DeliversWrittenValueOnce_AndReadsZero()
    {
        var go = new List<FieldEvent>();
        var kick = new List<FieldEvent>();
        _m.PulseGoPulsed += (_, e) => go.Add(e);
        _m.PulseKickPulsed += (_, e) => kick.Add(e);
        _m.Write(T.Pulse.Offset, (uint)(T.Pulse.Go.Mask | (0x81UL << T.Pulse.Kick.Shift)));
        Assert.Multiple(() =>
        {
            Assert.That(go.Select(e => e.Value), Is.EqualTo(new[] { 1UL }));
            Assert.That(kick.Select(e => e.Value), Is.EqualTo(new[] { 0x81UL }));
            Assert.That(_m.Read(T.Pulse.Offset), Is.Zero, "a pulse is over before software can read it");
        });
    }

    [Test]
    public void Swmod_FiresOnWriteOnly_SwaccOnReadAndWrite()
    {
        var mod = new List<FieldEvent>();
        var acc = new List<FieldEvent>();
        _m.StrobesModifiedModified += (_, e) => mod.Add(e);
        _m.StrobesAccessedAccessed += (_, e) => acc.Add(e);

        _m.Read(T.Strobes.Offset);
        Assert.That((mod.Count, acc.Count), Is.EqualTo((0, 1)), "read: swacc only");

        _m.Write(T.Strobes.Offset, 0x0007_0009);
        Assert.Multiple(() =>
        {
            Assert.That(mod.Select(e => e.Value), Is.EqualTo(new[] { 9UL }), "swmod carries the new value");
            Assert.That(acc.Select(e => e.Value), Is.EqualTo(new[] { 0UL, 7UL }));
        });

        // A write whose strobes miss the field neither modifies nor accesses it.
        _m.Write(T.Strobes.Offset, 0xffff_ffff, strobe: 0b1100);
        Assert.That(mod, Has.Count.EqualTo(1));
    }

    [Test]
    public void WriteOnly_ReadsZero_ButHardwareSeesTheValue()
    {
        _m.Write(T.WriteOnly.Offset, 0xcafe_f00d);
        Assert.Multiple(() =>
        {
            Assert.That(_m.Read(T.WriteOnly.Offset), Is.Zero);
            Assert.That(_m.WriteOnly, Is.EqualTo(0xcafe_f00du));
        });
    }

    [Test]
    public void Constant_IgnoresWrites()
    {
        _m.Write(T.Constant.Offset, 0);
        Assert.That(_m.Read(T.Constant.Offset), Is.EqualTo(T.Constant.ResetValue));
    }

    [Test]
    public void HardwareWrite_And_SoftwareWrite_BothLand()
    {
        _m.SharedRw = 0x1111;
        Assert.That(_m.Read(T.SharedRw.Offset), Is.EqualTo(0x1111u));
        _m.Write(T.SharedRw.Offset, 0x2222);
        Assert.That(_m.SharedRw, Is.EqualTo(0x2222u));
    }

    [Test]
    public void HardwareWrite_WiderThanField_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _m.RclrStatusEventsB = 1 << T.RclrStatus.EventsB.Bits);

    [Test]
    public void Arrays_ElementsAreIndependent()
    {
        for (int i = 0; i < T.Entries.Count; i++)
            _m.Write(T.Entries.OffsetOf(i), (uint)(0x100 + i));
        Assert.Multiple(() =>
        {
            for (int i = 0; i < T.Entries.Count; i++)
                Assert.That(_m.GetEntries(i), Is.EqualTo((ushort)(0x100 + i)));
            Assert.That(_m.Read(T.Entries.OffsetOf(0) + 4), Is.Zero, "the gap between elements is unmapped");
        });
    }

    [Test]
    public void RegfileArray_ElementsAreIndependent()
    {
        _m.Write(T.SlotLo.OffsetOf(1), 0xabcd_0000);
        _m.Write(T.SlotFlags.OffsetOf(1), 0x7);
        Assert.Multiple(() =>
        {
            Assert.That(_m.GetSlotLo(0), Is.Zero);
            Assert.That(_m.GetSlotLo(1), Is.EqualTo(0xabcd_0000u));
            Assert.That(_m.GetSlotFlags(1), Is.EqualTo(7));
        });
    }

    [Test]
    public void UnmappedAndOutOfRange_ReadZero_WritesIgnored()
    {
        _m.Write(0x34, 0xffff_ffff);
        _m.Write(0x1_0000, 0xffff_ffff);
        Assert.Multiple(() =>
        {
            Assert.That(_m.Read(0x34), Is.Zero);
            Assert.That(_m.Read(0x1_0000), Is.Zero);
        });
    }

    [Test]
    public void External_RequestsCarryRegisterLanesAndElement()
    {
        var calls = new List<string>();
        ulong stored = 0;
        _m.ExtWideHandler = new ExternalRegister(
            (el, mask) => { calls.Add($"R{el}:{mask:x}"); return stored; },
            (el, v, mask) => { calls.Add($"W{el}:{v:x}:{mask:x}"); stored = v; });
        _m.ExtArrayHandler = new ExternalRegister(
            (el, mask) => (ulong)(0x1000 + el),
            (el, v, mask) => calls.Add($"A{el}:{v:x}:{mask:x}"));

        _m.Write(T.ExtWide.Offset + 4, 0x1234_5678, strobe: 0b0110);
        uint hi = _m.Read(T.ExtWide.Offset + 4);
        _m.Write(T.ExtArray.OffsetOf(2), 0x55);
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(new[] { "W0:34560000000000:60", "R0:f0", "A2:55:f" }));
            Assert.That(hi, Is.EqualTo(0x0034_5600u));
            Assert.That(_m.Read(T.ExtArray.OffsetOf(3)), Is.EqualTo(0x1003u));
        });
    }

    [Test]
    public void External_SharedWord_ReadOnlyAndWriteOnlyHalves()
    {
        var writes = new List<ulong>();
        int roReads = 0;
        _m.ExtRoHandler = new ExternalRegister((_, _) => { roReads++; return 0xbeef; }, (_, _, _) => Assert.Fail("sw = r is never written"));
        _m.ExtWoHandler = new ExternalRegister((_, _) => { Assert.Fail("sw = w is never read"); return 0; }, (_, v, _) => writes.Add(v));
        Assert.That(T.ExtRo.Offset / 4, Is.EqualTo(T.ExtWo.Offset / 4));

        uint word = _m.Read(WordOf(T.ExtRo.Offset));
        _m.Write(WordOf(T.ExtRo.Offset), 0x1234_5678);
        Assert.Multiple(() =>
        {
            Assert.That(word, Is.EqualTo(0xbeefu << LaneOf(T.ExtRo.Offset)));
            Assert.That(roReads, Is.EqualTo(1));
            Assert.That(writes, Is.EqualTo(new[] { 0x1234UL }));
        });
    }

    [Test]
    public void External_WithoutHandler_ReadsZero()
    {
        _m.Write(T.ExtWord.Offset, 0xffff_ffff);
        Assert.That(_m.Read(T.ExtWord.Offset), Is.Zero);
    }

    [Test]
    public void Reset_RestoresResetValues()
    {
        _m.Write(T.SharedRw.Offset, 0x99);
        _m.Write(T.Byte0.Offset, 0);
        _m.Reset();
        Assert.Multiple(() =>
        {
            Assert.That(_m.SharedRw, Is.Zero);
            Assert.That(_m.Byte0, Is.EqualTo((byte)T.Byte0.ResetValue));
        });
    }

    [Test]
    public void BusAccesses_AllocateNothing()
    {
        _m.ExtWordHandler = new ExternalRegister((_, _) => 1, (_, _, _) => { });
        void Accesses()
        {
            for (uint offset = 0; offset < T.Size; offset += 4)
            {
                _m.Read(offset);
                _m.Write(offset, 0x5a5a_5a5a, 0b0101);
            }
        }
        Accesses();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Accesses();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void BlockInfo_MatchesDefinitions()
    {
        RegisterInfo info = T.Info.Find("half1")!;
        Assert.Multiple(() =>
        {
            Assert.That(info.Offset, Is.EqualTo(T.Half1.Offset));
            Assert.That(info.Width, Is.EqualTo(T.Half1.Width));
            Assert.That(info.Fields.Select(f => f.Mask), Is.EqualTo(new[] { T.Half1.Mode.Mask, T.Half1.Level.Mask }));
            Assert.That(T.Info.Size, Is.EqualTo(T.Size));
            Assert.That((byte)T.SelftestMode.Halt, Is.EqualTo(3));
        });
    }
}
