using VirtioHw.Regc.Elaboration;

namespace VirtioHw.Regc.Tests;

/// <summary>One test per construct of the subset: what it elaborates to.</summary>
public sealed class ElaborationTests
{
    [Test]
    public void Addrmap_NameAndDescription_AreKept()
    {
        RegBlock b = Rdl.Block("""addrmap blk { name = "Block"; desc = "Does things."; reg { field {} f[0:0]; } r; };""");
        Assert.Multiple(() =>
        {
            Assert.That(b.Name, Is.EqualTo("blk"));
            Assert.That(b.DisplayName, Is.EqualTo("Block"));
            Assert.That(b.Description, Is.EqualTo("Does things."));
            Assert.That(b.SourcePath, Is.EqualTo("test.rdl"));
        });
    }

    [Test]
    public void SeveralAddrmaps_InOneFile_AreSeveralBlocks()
    {
        var blocks = Rdl.Compile("addrmap a { reg { field {} f; } r; }; addrmap b { reg { field {} f; } r; };");
        Assert.That(blocks.Select(b => b.Name), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Reg_WithoutAddress_TakesNextFreeAlignedAddress()
    {
        RegBlock b = Rdl.Block("""
            addrmap m {
                reg { regwidth = 8; field {} f[7:0]; } a;
                reg { regwidth = 8; field {} f[7:0]; } b;
                reg { regwidth = 16; field {} f[15:0]; } c;
                reg { regwidth = 8; field {} f[7:0]; } d;
                reg { field {} f[31:0]; } e;
                reg { regwidth = 64; field {} f[63:0]; } g;
            };
            """);
        Assert.That(b.Registers.Select(r => (r.Name, r.Offset)),
            Is.EqualTo(new[] { ("a", 0u), ("b", 1u), ("c", 2u), ("d", 4u), ("e", 8u), ("g", 12u) }));
        Assert.That(b.Size, Is.EqualTo(20u));
    }

    [Test]
    public void Reg_ExplicitAddress_IsUsedAndLaterOnesFollowIt()
    {
        RegBlock b = Rdl.Block("addrmap m { reg { field {} f[31:0]; } a @ 0x100; reg { field {} f[31:0]; } b; };");
        Assert.Multiple(() =>
        {
            Assert.That(b.Reg("a").Offset, Is.EqualTo(0x100u));
            Assert.That(b.Reg("b").Offset, Is.EqualTo(0x104u));
        });
    }

    [Test]
    public void Alignment_PercentEquals_RoundsTheNextAddressUp()
    {
        RegBlock b = Rdl.Block("addrmap m { reg { field {} f[31:0]; } a; reg { field {} f[31:0]; } b %= 0x40; };");
        Assert.That(b.Reg("b").Offset, Is.EqualTo(0x40u));
    }

    [Test]
    public void Array_WithStride_HasCountStrideAndElementOffsets()
    {
        RegBlock b = Rdl.Block("addrmap m { reg { field {} f[15:0]; } t[4] @ 0x20 += 0x10; reg { field {} f; } after; };");
        Register t = b.Reg("t");
        Assert.Multiple(() =>
        {
            Assert.That((t.Count, t.Stride, t.IsArray), Is.EqualTo((4, 0x10u, true)));
            Assert.That(t.ElementOffset(3), Is.EqualTo(0x50u));
            Assert.That(b.Reg("after").Offset, Is.EqualTo(0x54u), "the next register follows the last element");
        });
    }

    [Test]
    public void Array_WithoutStride_IsPacked()
    {
        RegBlock b = Rdl.Block("addrmap m { reg { regwidth = 16; field {} f[15:0]; } t[3]; };");
        Assert.That((b.Reg("t").Stride, b.Size), Is.EqualTo((2u, 8u)));
    }

    [Test]
    public void Regfile_IsFlattenedWithPrefixedNamesAndOffsets()
    {
        RegBlock b = Rdl.Block("""
            addrmap m {
                regfile { reg { field {} lo[31:0]; } addr; reg { field {} x[31:0]; } ctrl @ 0x8; } q @ 0x100;
            };
            """);
        Assert.That(b.Registers.Select(r => (r.Name, r.Offset)), Is.EqualTo(new[] { ("q_addr", 0x100u), ("q_ctrl", 0x108u) }));
    }

    [Test]
    public void RegfileArray_MakesEveryInnerRegisterAnArray()
    {
        RegBlock b = Rdl.Block("""
            addrmap m {
                regfile { reg { field {} a[31:0]; } x; reg { field {} b[31:0]; } y; } slot[8] @ 0x40 += 0x20;
            };
            """);
        Register y = b.Reg("slot_y");
        Assert.That((y.Offset, y.Count, y.Stride, y.IsArray), Is.EqualTo((0x44u, 8, 0x20u, true)));
    }

    [Test]
    public void NestedRegfiles_ComposeOffsets()
    {
        RegBlock b = Rdl.Block("""
            addrmap m {
                regfile outer_t { regfile { reg { field {} f[31:0]; } r @ 0x4; } inner @ 0x10; };
                outer_t o @ 0x100;
            };
            """);
        Assert.That(b.Reg("o_inner_r").Offset, Is.EqualTo(0x114u));
    }

    [Test]
    public void NamedTypes_AreInstantiatedSeveralTimes()
    {
        RegBlock b = Rdl.Block("""
            reg ctrl_t { field { sw = rw; } en[0:0] = 1; };
            addrmap m { ctrl_t a, b @ 0x10; };
            """);
        Assert.Multiple(() =>
        {
            Assert.That(b.Registers.Select(r => (r.Name, r.Offset)), Is.EqualTo(new[] { ("a", 0u), ("b", 0x10u) }));
            Assert.That(b.Reg("b").Field("en").Reset, Is.EqualTo(1UL));
        });
    }

    [Test]
    public void Fields_WithoutRange_ArePlacedAtTheNextFreeBit()
    {
        Register r = Rdl.Block("addrmap m { reg { field {} a; field {} b[3]; field { fieldwidth = 4; } c; field {} d[31:28]; } r; };").Reg("r");
        Assert.That(r.Fields.Select(f => (f.Name, f.Lsb, f.Width)),
            Is.EqualTo(new[] { ("a", 0, 1), ("b", 1, 3), ("c", 4, 4), ("d", 28, 4) }));
    }

    [Test]
    public void Fields_AreOrderedByBitPosition()
    {
        Register r = Rdl.Block("addrmap m { reg { field {} hi[31:16]; field {} lo[15:0]; } r; };").Reg("r");
        Assert.That(r.Fields.Select(f => f.Name), Is.EqualTo(new[] { "lo", "hi" }));
    }

    [Test]
    public void FieldDefaults_AreSwRwHwRwResetZero()
    {
        RegField f = Rdl.Block("addrmap m { reg { field {} f[7:0]; } r; };").Reg("r").Field("f");
        Assert.That((f.Sw, f.Hw, f.Reset, f.OnRead, f.OnWrite), Is.EqualTo((SwAccess.RW, HwAccess.RW, 0UL, ReadEffect.None, WriteEffect.None)));
    }

    [TestCase("sw = r; hw = w;", SwAccess.R, HwAccess.W)]
    [TestCase("sw = w; hw = r;", SwAccess.W, HwAccess.R)]
    [TestCase("sw = rw; hw = na;", SwAccess.RW, HwAccess.NA)]
    [TestCase("sw = rw; hw = rw;", SwAccess.RW, HwAccess.RW)]
    public void AccessProperties_AreParsed(string props, SwAccess sw, HwAccess hw)
    {
        RegField f = Rdl.Block($"addrmap m {{ reg {{ field {{ {props} }} f[7:0]; }} r; }};").Reg("r").Field("f");
        Assert.That((f.Sw, f.Hw), Is.EqualTo((sw, hw)));
    }

    [Test]
    public void BehaviourProperties_AreParsed()
    {
        Register r = Rdl.Block("""
            addrmap m { reg {
                field { sw = r; onread = rclr; hwset; } a[0:0];
                field { onwrite = woclr; hwclr; } b[1:1];
                field { onwrite = woset; } c[2:2];
                field { sw = w; singlepulse; hw = r; } d[3:3];
                field { swmod = true; swacc = false; } e[4:4];
                field { swacc; } g[5:5];
            } r; };
            """).Reg("r");
        Assert.Multiple(() =>
        {
            Assert.That((r.Field("a").OnRead, r.Field("a").HwSet), Is.EqualTo((ReadEffect.Clear, true)));
            Assert.That((r.Field("b").OnWrite, r.Field("b").HwClr), Is.EqualTo((WriteEffect.OneToClear, true)));
            Assert.That(r.Field("c").OnWrite, Is.EqualTo(WriteEffect.OneToSet));
            Assert.That(r.Field("d").SinglePulse, Is.True);
            Assert.That((r.Field("e").SwMod, r.Field("e").SwAcc), Is.EqualTo((true, false)));
            Assert.That(r.Field("g").SwAcc, Is.True);
        });
    }

    [Test]
    public void Default_AppliesToComponentsDefinedInScope_AndExplicitWins()
    {
        Register r = Rdl.Block("""
            addrmap m {
                default sw = r;
                default hw = w;
                reg { field {} a[7:0]; field { sw = rw; } b[15:8]; } r;
            };
            """).Reg("r");
        Assert.That((r.Field("a").Sw, r.Field("a").Hw, r.Field("b").Sw), Is.EqualTo((SwAccess.R, HwAccess.W, SwAccess.RW)));
    }

    [Test]
    public void DefaultRegwidth_AppliesToRegisters()
    {
        RegBlock b = Rdl.Block("addrmap m { default regwidth = 16; reg { field {} f[15:0]; } a; reg { field {} f[15:0]; } b; };");
        Assert.That(b.Registers.Select(r => (r.Width, r.Offset)), Is.EqualTo(new[] { (16, 0u), (16, 2u) }));
    }

    [Test]
    public void DynamicAssignment_OverridesOneInstance()
    {
        RegBlock b = Rdl.Block("""
            reg ctrl_t { desc = "generic"; field {} en[0:0]; };
            addrmap m {
                ctrl_t a, b;
                b->desc = "special";
                reg { field {} x[3:0]; field {} y[7:4]; x->reset = 5; } c;
            };
            """);
        Assert.Multiple(() =>
        {
            Assert.That(b.Reg("a").Description, Is.EqualTo("generic"));
            Assert.That(b.Reg("b").Description, Is.EqualTo("special"));
            Assert.That(b.Reg("c").Field("x").Reset, Is.EqualTo(5UL));
        });
    }

    [Test]
    public void ResetValues_FromInstanceAndProperty_ComposeTheRegisterReset()
    {
        Register r = Rdl.Block("addrmap m { reg { field {} a[7:0] = 0x12; field { reset = 0x3; } b[11:8]; } r; };").Reg("r");
        Assert.That(r.ResetValue, Is.EqualTo(0x312UL));
    }

    [TestCase("42", 42UL)]
    [TestCase("0x2A", 42UL)]
    [TestCase("8'h2a", 42UL)]
    [TestCase("'b101010", 42UL)]
    [TestCase("8'd42", 42UL)]
    [TestCase("8'o52", 42UL)]
    [TestCase("0x0000_002a", 42UL)]
    public void NumberLiterals_AreParsed(string literal, ulong value)
    {
        RegField f = Rdl.Block($"addrmap m {{ reg {{ field {{}} f[7:0] = {literal}; }} r; }};").Reg("r").Field("f");
        Assert.That(f.Reset, Is.EqualTo(value));
    }

    [Test]
    public void SixtyFourBitRegister_HoldsSixtyFourBitField()
    {
        Register r = Rdl.Block("addrmap m { reg { regwidth = 64; field {} v[63:0] = 64'hffff_ffff_ffff_ffff; } r; };").Reg("r");
        Assert.That((r.Width, r.Field("v").Mask, r.ResetValue), Is.EqualTo((64, ulong.MaxValue, ulong.MaxValue)));
    }

    [Test]
    public void Enum_ValuesImplicitAndExplicit_WithDescriptions()
    {
        RegBlock b = Rdl.Block("""
            enum mode_e { OFF; ON; TURBO = 5 { desc = "Fast."; }; AFTER; };
            addrmap m { reg { field { encode = mode_e; } f[2:0]; } r; };
            """);
        RegEnum e = b.Reg("r").Field("f").Enum!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Values.Select(v => (v.Name, v.Value)), Is.EqualTo(new[] { ("OFF", 0UL), ("ON", 1UL), ("TURBO", 5UL), ("AFTER", 6UL) }));
            Assert.That(e.Values[2].Description, Is.EqualTo("Fast."));
            Assert.That(b.Enums, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void Enum_DefinedInsideAddrmap_IsFound()
    {
        RegBlock b = Rdl.Block("addrmap m { enum e { A = 1; }; reg { field { encode = e; } f[1:0]; } r; };");
        Assert.That(b.Reg("r").Field("f").Enum!.Name, Is.EqualTo("e"));
    }

    [Test]
    public void External_MarksRegister_AndDropsHwAccess()
    {
        RegBlock b = Rdl.Block("reg win_t { field { sw = rw; } v[31:0]; }; addrmap m { external reg { field { sw = r; } v[31:0]; } a; external win_t b; };");
        Assert.Multiple(() =>
        {
            Assert.That(b.Registers.All(r => r.External), Is.True);
            Assert.That(b.Reg("a").Field("v").Hw, Is.EqualTo(HwAccess.NA));
        });
    }

    [Test]
    public void Comments_BothKinds_AreIgnored()
    {
        RegBlock b = Rdl.Block("/* a\n block */ addrmap m { // line\n reg { field {} /* inline */ f[3:0]; } r; };");
        Assert.That(b.Reg("r").Field("f").Width, Is.EqualTo(4));
    }

    [Test]
    public void ErrorLocation_CountsLinesAcrossComments()
    {
        string message = Rdl.ErrorOf("/* one\ntwo\nthree */ addrmap m {\n  reg { field { bogus; } f; } r;\n};");
        Assert.That(message, Does.StartWith("test.rdl:4:17: error: unknown property 'bogus'"));
    }

    [Test]
    public void ReadClearRegister_AloneInItsWord_IsAccepted()
    {
        RegBlock b = Rdl.Block("addrmap m { reg { regwidth = 8; field { sw = r; onread = rclr; } f[7:0]; } isr @ 0x0; reg { regwidth = 8; field {} g[7:0]; } next @ 0x4; };");
        Assert.That(b.Registers, Has.Count.EqualTo(2));
    }
}
