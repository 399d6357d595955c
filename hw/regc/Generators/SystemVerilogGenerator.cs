using System.Globalization;
using System.Text;
using VirtioHw.Regc.Elaboration;

namespace VirtioHw.Regc.Generators;

/// <summary>
/// SystemVerilog register blocks: a package with offsets, enums and the reg2hw/hw2reg structs, and
/// an AXI4-Lite slave that stores the fields (through <c>hw/rtl/prim/regc_subreg.sv</c>) and
/// forwards accesses to external registers. The access semantics are those of hw/regs/README.md.
/// </summary>
public sealed class SystemVerilogGenerator : IGenerator
{
    public string Option => "--sv";

    public IEnumerable<GeneratedFile> Generate(RegBlock block)
    {
        var sv = new SvBlock(block);
        return
        [
            new GeneratedFile($"{block.Name}_reg_pkg.sv", sv.Package()),
            new GeneratedFile($"{block.Name}_reg_top.sv", sv.Top()),
        ];
    }

    /// <summary>One register (or register array) as the generated RTL sees it.</summary>
    private sealed class SvReg(Register r)
    {
        public Register R { get; } = r;

        public string Name => R.Name;

        /// <summary>Arrays get a generate loop over elements and packed [Count-1:0] struct members.</summary>
        public bool Array => R.IsArray || R.Count > 1;

        public int N => R.Count;

        public bool Wide => R.Width == 64;

        /// <summary>
        /// Byte lane of every element in its bus word, or null when elements of a narrow array sit
        /// in different lanes (a stride that is not a multiple of 4). 64-bit registers start at lane 0.
        /// </summary>
        public int? Lane => Array && R.Stride % 4 != 0 ? null : (int)(R.Offset % 4);

        /// <summary>Several elements in one bus word (stride below 4): one access may touch more than one.</summary>
        public bool SharesWords => Array && R.Stride < 4;

        public bool SwReadable => R.Fields.Any(f => f.SwReadable);

        public bool SwWritable => R.Fields.Any(f => f.SwWritable);

        public int IdxWidth => Math.Max(1, (int)Math.Ceiling(Math.Log2(N)));
    }

    /// <summary>The bits of a field that fall into one bus word of its register.</summary>
    private sealed record Piece(int RegLo, int Width, bool HighWord);

    /// <summary>A struct member; <paramref name="Inner"/> makes it an anonymous packed struct.</summary>
    private sealed record Member(string Type, string Name, string? Comment, IReadOnlyList<Member>? Inner = null);

    /// <summary>
    /// How code for one register element refers to its signals: directly for a single register,
    /// indexed by <c>i</c> inside a loop over an array.
    /// </summary>
    private sealed class Elem(SvReg reg, string? laneName)
    {
        private SvReg Reg { get; } = reg;

        /// <summary>The element's byte lane as SystemVerilog: a number, or an expression in i.</summary>
        private string LaneExpr { get; } = reg.Lane is { } l ? l.ToString(CultureInfo.InvariantCulture) : laneName!;

        public string Index(string flat) => Reg.Array ? $"{flat}[i]" : flat;

        public string Hit(bool highWord) =>
            Index(Reg.Wide ? $"{Reg.Name}_hit_{(highWord ? "hi" : "lo")}" : $"{Reg.Name}_hit");

        public string AnyHit => Reg.Wide ? $"({Hit(false)} || {Hit(true)})" : Hit(false);

        /// <summary>Bits [lo +: width] of this element in a flat vector of elemWidth-bit elements.</summary>
        public string Slice(string flat, int elemWidth, int lo, int width)
        {
            if (!Reg.Array) return width == elemWidth ? flat : Bits(flat, lo, width);
            string start = elemWidth == 1 ? "i" : lo == 0 ? $"i * {elemWidth}" : $"i * {elemWidth} + {lo}";
            return width == 1 ? $"{flat}[{start}]" : $"{flat}[{start} +: {width}]";
        }

        /// <summary>The bits of a 32-bit bus signal that carry register bits [regLo +: width].</summary>
        public string Bus(string signal, int regLo, int width) => LaneSlice(signal, Reg.Wide ? "0" : LaneExpr, 8, width, regLo % 32);

        /// <summary>The element's bits of a 4-bit per-lane signal.</summary>
        public string Lanes(string signal) => LaneSlice(signal, LaneExpr, 1, Reg.R.Bytes, 0);
    }

    /// <summary>Bits [lane * bitsPerLane + offset +: width], as a fixed range when the lane is a number.</summary>
    private static string LaneSlice(string signal, string lane, int bitsPerLane, int width, int offset)
    {
        if (int.TryParse(lane, NumberStyles.None, CultureInfo.InvariantCulture, out int l))
            return Bits(signal, l * bitsPerLane + offset, width);
        string start = (bitsPerLane == 1 ? lane : $"{lane} * {bitsPerLane}") + (offset == 0 ? "" : $" + {offset}");
        return width == 1 ? $"{signal}[{start}]" : $"{signal}[{start} +: {width}]";
    }

    private static string Bits(string signal, int lo, int width) =>
        width == 1 ? $"{signal}[{lo}]" : $"{signal}[{lo + width - 1}:{lo}]";

    /// <summary>Writes both files of one block; the names they declare are checked for clashes first.</summary>
    private sealed class SvBlock
    {
        private static readonly string[] FixedTopNames =
        [
            "clk_i", "rst_ni", "reg2hw_o", "hw2reg_i", "AW", "BlockAw", "axil_req", "axil_rsp", "u_adapter", "bus_we",
            "bus_re", "bus_addr", "bus_wdata", "bus_wstrb", "ext_done_q", "ext_done_d", "ext_rdata_q", "ext_rdata_d",
            "access_done", "reg_rdata", "word", "in_block", "wstrb_bits", "wr_en", "rd_en", "acc_strb", "wdata_be",
            "unused_bus", "unused_hw2reg", "gen_addr_high", "gen_addr_exact", "check_aw", "ram_wait", "ram_ready_q",
        ];

        private readonly RegBlock _b;
        private readonly List<SvReg> _regs;
        private readonly int _addrWidth;
        private readonly string _pkg;
        private readonly string _prefix;

        public SvBlock(RegBlock block)
        {
            _b = block;
            _regs = block.Registers.Select(r => new SvReg(r)).ToList();
            // At least one word-index bit, so that even a one-word block decodes its word.
            _addrWidth = Math.Max(3, (int)Math.Ceiling(Math.Log2(Math.Max(block.Size, 1u))));
            _pkg = $"{block.Name}_reg_pkg";
            _prefix = block.Name.ToUpperInvariant();
            CheckNames();
        }

        private int WordWidth => _addrWidth - 2;

        private IEnumerable<SvReg> Internal => _regs.Where(r => !r.R.External && !r.R.Ram);

        /// <summary>Arrays marked <c>ram</c>: stored in <c>hw/rtl/prim/regc_ram.sv</c>, read a clock after the address.</summary>
        private IEnumerable<SvReg> Rams => _regs.Where(r => r.R.Ram);

        private static bool HwReadsRam(SvReg r) => r.R.Fields.Any(f => f.HwReadable);

        private IEnumerable<SvReg> External => _regs.Where(r => r.R.External);

        /// <summary>A field has storage when software or hardware can see its value.</summary>
        private static bool Stored(RegField f) => SwVisible(f) || f.HwReadable;

        private static bool SwVisible(RegField f) => f.SwReadable && !f.SinglePulse;

        private static bool Changes(RegField f) =>
            f.SwWritable || f.OnRead == ReadEffect.Clear || f.HwWritable || f.HwSet || f.HwClr;

        /// <summary>The bits software writes this clock matter to the storage, swmod or swacc.</summary>
        private static bool NeedsWmask(RegField f) => f.SwWritable && (Stored(f) || f.SwMod || f.SwAcc);

        /// <summary>The bits software reads this clock matter to a read clear, swmod or swacc.</summary>
        private static bool NeedsRmask(RegField f) =>
            (f.OnRead == ReadEffect.Clear && (Stored(f) || f.SwMod)) || (f.SwAcc && f.SwReadable);

        private static bool HasReg2Hw(RegField f) => f.HwReadable || f.SwMod || f.SwAcc;

        private static bool HasHw2Reg(RegField f) => f.HwWritable || f.HwSet || f.HwClr;

        private static bool HasReg2Hw(SvReg r) => r.R.External || r.R.Fields.Any(HasReg2Hw);

        private static bool HasHw2Reg(SvReg r) => r.R.External || (r.R.Ram && HwReadsRam(r)) || r.R.Fields.Any(HasHw2Reg);

        private bool UsesWrEn => Internal.Any(r => r.R.Fields.Any(NeedsWmask)) || Rams.Any();

        private bool UsesRdEn => Internal.Any(r => r.R.Fields.Any(NeedsRmask));

        private string Lp(string name) => $"{_prefix}_{name.ToUpperInvariant()}";

        // ---- names ------------------------------------------------------------------------------

        /// <summary>
        /// Register and field names are joined with '_', so two different pairs can meet in one
        /// identifier (register a_b field c, register a field b_c); refuse rather than emit broken RTL.
        /// </summary>
        private void CheckNames()
        {
            var owners = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string n in FixedTopNames) owners[n] = "the bus logic";
            foreach (string n in new[] { Lp("ADDR_WIDTH"), Lp("SIZE"), $"{_b.Name}_reg2hw_t", $"{_b.Name}_hw2reg_t" })
                owners[n] = $"block '{_b.Name}'";
            foreach (SvReg r in _regs)
            {
                string n = r.Name;
                var names = new List<string> { Lp($"{n}_OFFSET"), $"gen_{n}", $"{_b.Name}_reg2hw_{n}_t", $"{_b.Name}_hw2reg_{n}_t" };
                if (r.Array) names.AddRange([Lp($"{n}_COUNT"), Lp($"{n}_STRIDE")]);
                names.AddRange(r.Wide ? [$"{n}_hit_lo", $"{n}_hit_hi"] : [$"{n}_hit"]);
                if (r.R.Ram) names.AddRange([$"{n}_idx", $"{n}_rdata", $"{n}_hw_rdata", $"u_{n}"]);
                if (r.R.External) names.AddRange([$"{n}_req", $"{n}_sel", $"{n}_idx", $"{n}_lane", $"{n}_hi", $"{n}_ack", $"{n}_re_held", $"{n}_we_held"]);
                Claim(owners, names, $"register '{n}'", r.R.Location);
                foreach (RegField f in r.R.Fields)
                {
                    string nf = $"{n}_{f.Name}";
                    Claim(owners, [Lp($"{nf}_LSB"), Lp($"{nf}_WIDTH"), $"{nf}_q", $"{nf}_wmask", $"{nf}_rmask", $"u_{nf}"],
                        $"field '{f.Name}' of register '{n}'", f.Location);
                }
            }
            foreach (RegEnum e in _b.Enums)
            {
                SourceLocation at = _b.Registers.SelectMany(r => r.Fields).First(f => f.Enum == e).Location;
                Claim(owners, e.Values.Select(v => EnumValueName(e, v)).Prepend(EnumType(e)), $"enum '{e.Name}'", at);
            }
        }

        private static void Claim(Dictionary<string, string> owners, IEnumerable<string> names, string owner, SourceLocation at)
        {
            foreach (string n in names)
            {
                if (owners.TryGetValue(n, out string? other) && other != owner)
                {
                    throw new RdlException(at,
                        $"{owner} and {other} both become '{n}' in the generated SystemVerilog; rename one of them");
                }
                owners[n] = owner;
            }
        }

        private static string EnumStem(RegEnum e) => e.Name.EndsWith("_e", StringComparison.Ordinal) ? e.Name[..^2] : e.Name;

        private static string EnumType(RegEnum e) => EnumStem(e) + "_e";

        private static string EnumValueName(RegEnum e, EnumValue v) =>
            $"{EnumStem(e).ToUpperInvariant()}_{v.Name.ToUpperInvariant()}";

        // ---- the package ------------------------------------------------------------------------

        public string Package()
        {
            var w = new SvWriter();
            w.Raw(Banner.Lines("//", _b));
            w.Line();
            w.Line("`default_nettype none");
            w.Line();
            w.Comment($"{_b.DisplayName}: offsets, enums and the structs between {_b.Name}_reg_top and the hand-written logic. {_b.Description}");
            w.Line($"package {_pkg};");
            w.In();
            w.Line();
            w.Line("// Address bits the block decodes, and the bytes it spans.");
            w.Line($"localparam int unsigned {Lp("ADDR_WIDTH")} = {_addrWidth};");
            w.Line($"localparam int unsigned {Lp("SIZE")} = 'h{Hx(_b.Size)};");
            foreach (SvReg r in _regs) WriteLocalparams(w, r);
            foreach (RegEnum e in _b.Enums) WriteEnum(w, e);

            w.Line();
            w.Line("// ---- reg2hw: from the register block to the hand-written logic ----");
            WriteStructs(w, "reg2hw", _regs.Where(HasReg2Hw), r => r.R.External ? ExternalRequest(r) : r.R.Ram ? RamRead(r) : FieldStructs(r, Reg2HwMembers),
                "no field is visible to hardware; a packed struct cannot be empty");
            w.Line();
            w.Line("// ---- hw2reg: from the hand-written logic to the register block ----");
            WriteStructs(w, "hw2reg", _regs.Where(HasHw2Reg), r => r.R.External ? ExternalResponse(r) : r.R.Ram ? RamAddress(r) : FieldStructs(r, Hw2RegMembers),
                "hardware writes no field; a packed struct cannot be empty");
            w.Out();
            w.Line();
            w.Line("endpackage");
            w.Line();
            w.Line("`default_nettype wire");
            return w.ToString();
        }

        private void WriteLocalparams(SvWriter w, SvReg r)
        {
            w.Line();
            string where = r.Array
                ? $"{r.N} x {r.R.Width} bits at 0x{Hx(r.R.Offset)}, stride 0x{Hx(r.R.Stride)}"
                : $"{r.R.Width} bits at 0x{Hx(r.R.Offset)}";
            w.Comment($"{r.Name}{(r.R.External ? " (external)" : r.R.Ram ? " (ram)" : "")}: {where}. {r.R.Description}");
            w.Line($"localparam logic [{Lp("ADDR_WIDTH")}-1:0] {Lp(r.Name + "_OFFSET")} = {Lit(_addrWidth, r.R.Offset)};");
            if (r.Array)
            {
                w.Line($"localparam int unsigned {Lp(r.Name + "_COUNT")} = {r.N};");
                w.Line($"localparam int unsigned {Lp(r.Name + "_STRIDE")} = 'h{Hx(r.R.Stride)};");
            }
            foreach (RegField f in r.R.Fields)
            {
                w.Line($"localparam int unsigned {Lp($"{r.Name}_{f.Name}_LSB")} = {f.Lsb};");
                w.Line($"localparam int unsigned {Lp($"{r.Name}_{f.Name}_WIDTH")} = {f.Width};");
            }
        }

        /// <summary>An enum is as wide as the widest field that uses it in this block.</summary>
        private void WriteEnum(SvWriter w, RegEnum e)
        {
            int width = _b.Registers.SelectMany(r => r.Fields).Where(f => f.Enum == e).Max(f => f.Width);
            w.Line();
            w.Comment($"{e.Name}{(e.Description.Length > 0 ? ": " + e.Description : "")}");
            w.Line($"typedef enum logic {Range(width)}{{");
            w.In();
            var lines = e.Values.Select((v, i) => (Code: $"{EnumValueName(e, v)} = {Lit(width, v.Value)}{(i + 1 < e.Values.Count ? "," : "")}",
                v.Description)).ToList();
            int pad = lines.Max(l => l.Code.Length);
            foreach (var (code, desc) in lines)
                w.Line(desc.Length > 0 ? $"{code.PadRight(pad)}  // {OneLine(desc)}" : code);
            w.Out();
            w.Line($"}} {EnumType(e)};");
        }

        /// <summary>A typedef per register, then the block's struct of them.</summary>
        private void WriteStructs(SvWriter w, string direction, IEnumerable<SvReg> regs, Func<SvReg, List<Member>> members, string emptyReason)
        {
            var top = new List<Member>();
            foreach (SvReg r in regs)
            {
                string type = $"{_b.Name}_{direction}_{r.Name}_t";
                w.Line();
                WriteStruct(w, type, members(r));
                top.Add(new Member(type, r.Name, null));
            }
            if (top.Count == 0) top.Add(new Member("logic", "placeholder", emptyReason));
            w.Line();
            WriteStruct(w, $"{_b.Name}_{direction}_t", top);
        }

        private static void WriteStruct(SvWriter w, string typeName, IReadOnlyList<Member> members)
        {
            w.Line("typedef struct packed {");
            w.In();
            WriteMembers(w, members);
            w.Out();
            w.Line($"}} {typeName};");
        }

        private static void WriteMembers(SvWriter w, IReadOnlyList<Member> members)
        {
            int typePad = members.Where(m => m.Inner is null).Select(m => m.Type.Length).DefaultIfEmpty(0).Max();
            int namePad = members.Where(m => m.Comment is not null).Select(m => m.Name.Length + 1).DefaultIfEmpty(0).Max();
            foreach (Member m in members)
            {
                if (m.Inner is not null)
                {
                    w.Line("struct packed {");
                    w.In();
                    WriteMembers(w, m.Inner);
                    w.Out();
                    w.Line($"}} {m.Name};");
                }
                else if (m.Comment is null)
                {
                    w.Line($"{m.Type.PadRight(typePad)} {m.Name};");
                }
                else
                {
                    w.Line($"{m.Type.PadRight(typePad)} {(m.Name + ";").PadRight(namePad)}  // {m.Comment}");
                }
            }
        }

        /// <summary>A field member's type; arrays get a packed [Count-1:0] dimension in front.</summary>
        private static string FieldType(SvReg r, int width) =>
            r.Array ? $"logic [{r.N - 1}:0]{(width > 1 ? $"[{width - 1}:0]" : "")}" : $"logic{(width > 1 ? $" [{width - 1}:0]" : "")}";

        private static IEnumerable<Member> Reg2HwMembers(SvReg r, RegField f)
        {
            if (f.HwReadable) yield return new Member(FieldType(r, f.Width), "q", null);
            if (f.SwMod) yield return new Member(FieldType(r, 1), "swmod", "software wrote or read-cleared the field");
            if (f.SwAcc) yield return new Member(FieldType(r, 1), "swacc", "software read or wrote the field");
        }

        private static IEnumerable<Member> Hw2RegMembers(SvReg r, RegField f)
        {
            if (f.HwWritable)
            {
                yield return new Member(FieldType(r, f.Width), "d", null);
                yield return new Member(FieldType(r, 1), "de", "load d this clock");
            }
            if (f.HwSet) yield return new Member(FieldType(r, 1), "set", "set every bit");
            if (f.HwClr) yield return new Member(FieldType(r, 1), "clr", "clear every bit");
        }

        /// <summary>An anonymous struct per field that has members in this direction.</summary>
        private static List<Member> FieldStructs(SvReg r, Func<SvReg, RegField, IEnumerable<Member>> members) =>
            r.R.Fields.Select(f => (f.Name, Inner: members(r, f).ToList()))
                .Where(x => x.Inner.Count > 0)
                .Select(x => new Member("struct", x.Name, null, x.Inner))
                .ToList();

        private static List<Member> ExternalRequest(SvReg r)
        {
            var list = new List<Member>
            {
                new("logic", "re", "read request, held until ack"),
                new("logic", "we", "write request, held until ack"),
                new($"logic [{r.R.Width - 1}:0]", "wdata", "in the register's byte lanes; 0 where be is 0"),
                new($"logic{(r.R.Bytes > 1 ? $" [{r.R.Bytes - 1}:0]" : "")}", "be", "register bytes the access covers"),
            };
            if (r.Array) list.Add(new Member($"logic{(r.IdxWidth > 1 ? $" [{r.IdxWidth - 1}:0]" : "")}", "idx", "array element"));
            return list;
        }

        private static List<Member> RamRead(SvReg r) =>
        [
            new($"logic [{r.R.Width - 1}:0]", "rdata", "the element hw2reg raddr named a clock earlier (fields at their LSBs)"),
        ];

        private static List<Member> RamAddress(SvReg r) =>
        [
            new($"logic{(r.IdxWidth > 1 ? $" [{r.IdxWidth - 1}:0]" : "")}", "raddr", "the element hardware reads"),
        ];

        private static List<Member> ExternalResponse(SvReg r) =>
        [
            new("logic", "ack", "request served; looked at only while re or we is high"),
            new($"logic [{r.R.Width - 1}:0]", "rdata", "read data in the register's byte lanes, taken with ack"),
        ];

        // ---- the module -------------------------------------------------------------------------

        public string Top()
        {
            var w = new SvWriter();
            w.Raw(Banner.Lines("//", _b));
            w.Line();
            w.Line("`default_nettype none");
            w.Line();
            w.Comment($"{_b.DisplayName}: AXI4-Lite register block. {_b.Description}");
            w.Comment("One transaction at a time, always OKAY; AW and W may arrive in either order. Unmapped words " +
                "read 0. Fields, strobes and side effects follow hw/regs/README.md.");
            w.Line($"module {_b.Name}_reg_top #(");
            w.Line($"  parameter int unsigned AW = {_pkg}::{Lp("ADDR_WIDTH")}  // AXI address bits, at least the block's");
            w.Line(") (");
            w.In();
            w.Line("input  wire logic          clk_i,");
            w.Line("input  wire logic          rst_ni,");
            w.Line("// AXI4-Lite slave");
            w.Line("input  wire logic [AW-1:0] s_axil_awaddr_i,");
            w.Line("input  wire logic          s_axil_awvalid_i,");
            w.Line("output logic               s_axil_awready_o,");
            w.Line("input  wire logic [31:0]   s_axil_wdata_i,");
            w.Line("input  wire logic [3:0]    s_axil_wstrb_i,");
            w.Line("input  wire logic          s_axil_wvalid_i,");
            w.Line("output logic               s_axil_wready_o,");
            w.Line("output logic [1:0]         s_axil_bresp_o,");
            w.Line("output logic               s_axil_bvalid_o,");
            w.Line("input  wire logic          s_axil_bready_i,");
            w.Line("input  wire logic [AW-1:0] s_axil_araddr_i,");
            w.Line("input  wire logic          s_axil_arvalid_i,");
            w.Line("output logic               s_axil_arready_o,");
            w.Line("output logic [31:0]        s_axil_rdata_o,");
            w.Line("output logic [1:0]         s_axil_rresp_o,");
            w.Line("output logic               s_axil_rvalid_o,");
            w.Line("input  wire logic          s_axil_rready_i,");
            w.Line("// To and from the hand-written logic");
            w.Line($"output {_pkg}::{_b.Name}_reg2hw_t reg2hw_o,");
            w.Line($"input  wire {_pkg}::{_b.Name}_hw2reg_t hw2reg_i");
            w.Out();
            w.Line(");");
            w.In();
            WriteBus(w);
            WriteDecode(w);
            foreach (SvReg r in Internal) WriteInternal(w, r);
            foreach (SvReg r in Rams) WriteRam(w, r);
            foreach (SvReg r in External) WriteExternal(w, r);
            WriteReadMux(w);
            WriteExternalTracking(w);
            WriteUnused(w);
            WriteAssertions(w);
            w.Out();
            w.Line();
            w.Line("endmodule");
            w.Line();
            w.Line("`default_nettype wire");
            return w.ToString();
        }

        private void WriteBus(SvWriter w)
        {
            bool ext = External.Any();
            bool extRead = External.Any(r => r.SwReadable);
            w.Line();
            w.Line($"localparam int unsigned BlockAw = {_pkg}::{Lp("ADDR_WIDTH")};");
            w.Line();
            w.Line("// ---- AXI4-Lite: the adapter takes one write or read and holds it until access_done ----");
            w.Line();
            var decls = new List<(string Type, string Names, string? Comment)>
            {
                ("axil_pkg::axil_req_t", "axil_req", null),
                ("axil_pkg::axil_rsp_t", "axil_rsp", null),
                ("logic", "bus_we, bus_re", "a write or read is being performed"),
                ("logic [AW-1:0]", "bus_addr", null),
                ("logic [31:0]", "bus_wdata", null),
                ("logic [3:0]", "bus_wstrb", null),
            };
            if (ext) decls.Add(("logic [3:0]", "ext_done_q, ext_done_d", "byte lanes whose external register has answered"));
            if (extRead) decls.Add(("logic [31:0]", "ext_rdata_q, ext_rdata_d", "the read data of those lanes"));
            decls.Add(("logic", "access_done", "no external register is left to answer after this clock"));
            decls.Add(("logic [31:0]", "reg_rdata", "the addressed word of the internal registers"));
            Declare(w, decls);
            w.Line();
            w.Line("always_comb begin");
            w.In();
            w.Line("axil_req         = axil_pkg::AXIL_REQ_IDLE;");
            w.Line("axil_req.awaddr  = 32'(s_axil_awaddr_i);");
            w.Line("axil_req.awvalid = s_axil_awvalid_i;");
            w.Line("axil_req.wdata   = s_axil_wdata_i;");
            w.Line("axil_req.wstrb   = s_axil_wstrb_i;");
            w.Line("axil_req.wvalid  = s_axil_wvalid_i;");
            w.Line("axil_req.bready  = s_axil_bready_i;");
            w.Line("axil_req.araddr  = 32'(s_axil_araddr_i);");
            w.Line("axil_req.arvalid = s_axil_arvalid_i;");
            w.Line("axil_req.rready  = s_axil_rready_i;");
            w.Out();
            w.Line("end");
            w.Line("assign s_axil_awready_o = axil_rsp.awready;");
            w.Line("assign s_axil_wready_o  = axil_rsp.wready;");
            w.Line("assign s_axil_bresp_o   = axil_rsp.bresp;");
            w.Line("assign s_axil_bvalid_o  = axil_rsp.bvalid;");
            w.Line("assign s_axil_arready_o = axil_rsp.arready;");
            w.Line("assign s_axil_rdata_o   = axil_rsp.rdata;");
            w.Line("assign s_axil_rresp_o   = axil_rsp.rresp;");
            w.Line("assign s_axil_rvalid_o  = axil_rsp.rvalid;");
            w.Line();
            w.Line("axil_adapter_reg #(.AW(AW)) u_adapter (");
            WriteConnections(w,
            [
                ("clk_i", "clk_i"), ("rst_ni", "rst_ni"), ("axil_req_i", "axil_req"), ("axil_rsp_o", "axil_rsp"),
                ("we_o", "bus_we"), ("re_o", "bus_re"), ("addr_o", "bus_addr"), ("wdata_o", "bus_wdata"),
                ("wstrb_o", "bus_wstrb"), ("done_i", "access_done"),
                ("rdata_i", extRead ? "reg_rdata | ext_rdata_d" : "reg_rdata"),
            ]);
            w.Line(");");
            if (!ext) return;
            var regs = new List<(string Name, string Reset)> { ("ext_done", "'0") };
            if (extRead) regs.Add(("ext_rdata", "'0"));
            int pad = regs.Max(x => x.Name.Length) + 2;
            w.Line();
            w.Line("always_ff @(posedge clk_i or negedge rst_ni) begin");
            w.In();
            w.Line("if (!rst_ni) begin");
            foreach (var (name, reset) in regs) w.Line($"  {(name + "_q").PadRight(pad)} <= {reset};");
            w.Line("end else begin");
            foreach (var (name, _) in regs) w.Line($"  {(name + "_q").PadRight(pad)} <= {name}_d;");
            w.Line("end");
            w.Out();
            w.Line("end");
        }

        private void WriteDecode(SvWriter w)
        {
            bool ext = External.Any();
            bool extWrite = External.Any(r => r.SwWritable);
            w.Line();
            w.Line("// ---- decode: the addressed word, and what the access does this clock ----");
            w.Line();
            var decls = new List<(string Type, string Names, string? Comment)>
            {
                ($"logic {Range(WordWidth)}".TrimEnd(), "word", "32-bit word index within the block"),
                ("logic", "in_block", "the address falls in the block"),
                ("logic [31:0]", "wstrb_bits", "bus_wstrb, one bit per data bit"),
            };
            if (UsesWrEn) decls.Add(("logic", "wr_en", "the write takes effect at the end of this clock"));
            if (UsesRdEn) decls.Add(("logic", "rd_en", "the read takes effect at the end of this clock"));
            if (ext) decls.Add(("logic [3:0]", "acc_strb", "bytes the access covers: the strobes, or the whole word"));
            if (extWrite) decls.Add(("logic [31:0]", "wdata_be", "write data, 0 in bytes not strobed"));
            Declare(w, decls);
            w.Line();
            w.Line("assign word = bus_addr[BlockAw-1:2];");
            w.Line("if (AW > BlockAw) begin : gen_addr_high");
            w.Line("  assign in_block = ~|bus_addr[AW-1:BlockAw];");
            w.Line("end else begin : gen_addr_exact");
            w.Line("  assign in_block = 1'b1;");
            w.Line("end");
            w.Line("assign wstrb_bits = {{8{bus_wstrb[3]}}, {8{bus_wstrb[2]}}, {8{bus_wstrb[1]}}, {8{bus_wstrb[0]}}};");
            if (UsesWrEn) w.Line("assign wr_en = bus_we && access_done;");
            if (UsesRdEn) w.Line("assign rd_en = bus_re && access_done;");
            if (ext) w.Line("assign acc_strb = bus_re ? 4'hf : bus_wstrb;");
            if (extWrite) w.Line("assign wdata_be = bus_wdata & wstrb_bits;");
        }

        // ---- per-register code ------------------------------------------------------------------

        /// <summary>Pieces of a field, most significant first: a 64-bit register's field may span both words.</summary>
        private static IEnumerable<Piece> Pieces(SvReg r, RegField f)
        {
            if (!r.Wide)
            {
                yield return new Piece(f.Lsb, f.Width, false);
                yield break;
            }
            if (f.Msb >= 32) yield return new Piece(Math.Max(f.Lsb, 32), f.Msb - Math.Max(f.Lsb, 32) + 1, true);
            if (f.Lsb < 32) yield return new Piece(f.Lsb, Math.Min(f.Msb, 31) - f.Lsb + 1, false);
        }

        private static string Concat(IEnumerable<string> parts)
        {
            var list = parts.ToList();
            return list.Count == 1 ? list[0] : "{" + string.Join(", ", list) + "}";
        }

        /// <summary>A condition widened to n bits.</summary>
        private static string Rep(int n, string condition) => n == 1 ? $"({condition})" : $"{{{n}{{{condition}}}}}";

        /// <summary>The byte offset of element i of an array, as SystemVerilog.</summary>
        private static string ArrayOffset(SvReg r) => $"'h{Hx(r.R.Offset)} + i * 'h{Hx(r.R.Stride)}";

        private string WordOf(SvReg r, bool highWord)
        {
            if (!r.Array) return Lit(WordWidth, r.R.Offset / 4 + (highWord ? 1u : 0u));
            return $"{WordWidth}'(({ArrayOffset(r)}) / 4{(highWord ? " + 1" : "")})";
        }

        /// <summary>
        /// Opens the generate loop of an array, or nothing for a single register. The element's byte
        /// lane is declared only where the loop body slices the bus by it (<paramref name="usesLane"/>):
        /// an unused localparam fails lint.
        /// </summary>
        private static Elem OpenElement(SvWriter w, SvReg r, bool usesLane)
        {
            if (!r.Array) return new Elem(r, null);
            w.Line($"for (genvar i = 0; i < {r.N}; i++) begin : gen_{r.Name}");
            w.In();
            if (r.Lane is null && usesLane) w.Line($"localparam int unsigned Lane = ({ArrayOffset(r)}) % 4;");
            return new Elem(r, "Lane");
        }

        private static void CloseElement(SvWriter w, SvReg r)
        {
            if (!r.Array) return;
            w.Out();
            w.Line("end");
        }

        private static void WriteHeading(SvWriter w, SvReg r)
        {
            string where = r.Array
                ? $"{r.N} x {r.R.Width} bits at 0x{Hx(r.R.Offset)} + i * 0x{Hx(r.R.Stride)}"
                : $"{r.R.Width} bits at 0x{Hx(r.R.Offset)}";
            w.Line();
            w.Line($"// ---- {r.Name}{(r.R.External ? " (external)" : r.R.Ram ? " (ram)" : "")}: {where} ----");
        }

        private static void DeclareHits(SvWriter w, SvReg r)
        {
            string vec = r.Array ? $" [{r.N - 1}:0]" : "";
            if (r.Wide) w.Line($"logic{vec} {r.Name}_hit_lo, {r.Name}_hit_hi;  // the access addresses the low or high word");
            else w.Line($"logic{vec} {r.Name}_hit;  // the access addresses the register's word");
        }

        private void AssignHits(SvWriter w, SvReg r, Elem e)
        {
            w.Line($"assign {e.Hit(false)} = in_block && word == {WordOf(r, false)};");
            if (r.Wide) w.Line($"assign {e.Hit(true)} = in_block && word == {WordOf(r, true)};");
        }

        private void WriteInternal(SvWriter w, SvReg r)
        {
            WriteHeading(w, r);
            DeclareHits(w, r);
            foreach (RegField f in r.R.Fields.Where(Stored))
                w.Line($"logic {Range(r.Array ? r.N * f.Width : f.Width)}{r.Name}_{f.Name}_q;");
            // Only software writes slice the bus by lane (strobes and data); reads use the whole word.
            Elem e = OpenElement(w, r, usesLane: r.R.Fields.Any(NeedsWmask));
            AssignHits(w, r, e);
            foreach (RegField f in r.R.Fields) WriteField(w, r, f, e);
            CloseElement(w, r);
            foreach (RegField f in r.R.Fields.Where(f => f.HwReadable))
                w.Line($"assign reg2hw_o.{r.Name}.{f.Name}.q = {r.Name}_{f.Name}_q;");
        }

        private static void WriteField(SvWriter w, SvReg r, RegField f, Elem e)
        {
            string n = $"{r.Name}_{f.Name}";
            string at = r.Array ? "[i]" : "";
            var pieces = Pieces(r, f).ToList();
            if (NeedsWmask(f))
            {
                w.Line($"logic {Range(f.Width)}{n}_wmask;");
                w.Line($"assign {n}_wmask = " +
                    Concat(pieces.Select(p => $"{Rep(p.Width, $"wr_en && {e.Hit(p.HighWord)}")} & {e.Bus("wstrb_bits", p.RegLo, p.Width)}")) + ";");
            }
            if (NeedsRmask(f))
            {
                w.Line($"logic {Range(f.Width)}{n}_rmask;");
                w.Line($"assign {n}_rmask = {Concat(pieces.Select(p => Rep(p.Width, $"rd_en && {e.Hit(p.HighWord)}")))};");
            }
            if (Stored(f))
            {
                string q = e.Slice($"{n}_q", f.Width, 0, f.Width);
                if (Changes(f)) WriteStorage(w, r, f, e, pieces, q);
                else w.Line($"assign {q} = {Lit(f.Width, f.Reset)};  // nothing changes it");
            }
            if (f.SwMod)
            {
                var terms = new List<string>();
                if (f.SwWritable) terms.Add($"|{n}_wmask");
                if (f.OnRead == ReadEffect.Clear) terms.Add($"|{n}_rmask");
                w.Line($"assign reg2hw_o.{r.Name}.{f.Name}.swmod{at} = {string.Join(" || ", terms)};");
            }
            if (f.SwAcc)
            {
                var terms = new List<string>();
                if (f.SwWritable) terms.Add($"|{n}_wmask");
                if (f.SwReadable) terms.Add($"|{n}_rmask");
                w.Line($"assign reg2hw_o.{r.Name}.{f.Name}.swacc{at} = {string.Join(" || ", terms)};");
            }
        }

        private static void WriteStorage(SvWriter w, SvReg r, RegField f, Elem e, List<Piece> pieces, string q)
        {
            string n = $"{r.Name}_{f.Name}";
            string Hw(string member) => $"hw2reg_i.{r.Name}.{f.Name}.{member}{(r.Array ? "[i]" : "")}";
            var pars = new List<(string, string)>
            {
                ("Width", f.Width.ToString(CultureInfo.InvariantCulture)),
                ("ResetValue", Lit(f.Width, f.Reset)),
            };
            if (f.SwWritable) pars.Add(("SwWrite", "1'b1"));
            if (f.OnWrite == WriteEffect.OneToClear) pars.Add(("OneToClear", "1'b1"));
            if (f.OnWrite == WriteEffect.OneToSet) pars.Add(("OneToSet", "1'b1"));
            if (f.SinglePulse) pars.Add(("SinglePulse", "1'b1"));
            if (f.OnRead == ReadEffect.Clear) pars.Add(("ReadClear", "1'b1"));
            if (f.HwWritable) pars.Add(("HwWrite", "1'b1"));
            if (f.HwSet) pars.Add(("HwSet", "1'b1"));
            if (f.HwClr) pars.Add(("HwClr", "1'b1"));
            var ports = new List<(string, string)>
            {
                ("clk_i", "clk_i"),
                ("rst_ni", "rst_ni"),
                ("wmask_i", f.SwWritable ? $"{n}_wmask" : "'0"),
                ("wdata_i", f.SwWritable ? Concat(pieces.Select(p => e.Bus("bus_wdata", p.RegLo, p.Width))) : "'0"),
                ("rmask_i", f.OnRead == ReadEffect.Clear ? $"{n}_rmask" : "'0"),
                ("de_i", f.HwWritable ? Hw("de") : "1'b0"),
                ("d_i", f.HwWritable ? Hw("d") : "'0"),
                ("set_i", f.HwSet ? Hw("set") : "1'b0"),
                ("clr_i", f.HwClr ? Hw("clr") : "1'b0"),
                ("q_o", q),
            };
            w.Line("regc_subreg #(");
            WriteConnections(w, pars);
            w.Line($") u_{n} (");
            WriteConnections(w, ports);
            w.Line(");");
        }

        private static void WriteConnections(SvWriter w, List<(string Name, string Value)> list)
        {
            int pad = list.Max(p => p.Name.Length);
            for (int i = 0; i < list.Count; i++)
                w.Line($"  .{list[i].Name.PadRight(pad)}({list[i].Value}){(i + 1 < list.Count ? "," : "")}");
        }

        /// <summary>
        /// A <c>ram</c> array: every element has its own word, so one access addresses at most one
        /// element; software's reads wait a clock for the RAM (ram_wait), hardware reads by raddr.
        /// </summary>
        private void WriteRam(SvWriter w, SvReg r)
        {
            string n = r.Name;
            ulong fieldMask = r.R.Fields.Aggregate(0UL, (acc, f) => acc | f.Mask);
            WriteHeading(w, r);
            DeclareHits(w, r);
            w.Line($"logic {Range(r.IdxWidth)}{n}_idx;  // the element the access addresses");
            w.Line($"logic [{r.R.Width - 1}:0] {n}_rdata;  // software's read port");
            if (!HwReadsRam(r)) w.Line($"logic [{r.R.Width - 1}:0] {n}_hw_rdata;  // no field is visible to hardware");
            Elem e = OpenElement(w, r, usesLane: false);
            AssignHits(w, r, e);
            CloseElement(w, r);
            w.Line("always_comb begin");
            w.In();
            w.Line($"{n}_idx = '0;");
            w.Line($"for (int i = 0; i < {r.N}; i++) {n}_idx |= {(r.IdxWidth == 1 ? $"{n}_hit[i]" : $"{{{r.IdxWidth}{{{n}_hit[i]}}}}")} & {r.IdxWidth}'(i);");
            w.Out();
            w.Line("end");
            w.Line("regc_ram #(");
            WriteConnections(w,
            [
                ("Width", r.R.Width.ToString(CultureInfo.InvariantCulture)),
                ("Depth", r.N.ToString(CultureInfo.InvariantCulture)),
                ("ResetValue", Lit(r.R.Width, r.R.ResetValue)),
            ]);
            w.Line($") u_{n} (");
            WriteConnections(w,
            [
                ("clk_i", "clk_i"),
                ("rst_ni", "rst_ni"),
                ("we_i", $"wr_en && |{n}_hit"),
                ("waddr_i", $"{n}_idx"),
                ("wdata_i", $"bus_wdata & {Lit(r.R.Width, fieldMask)}"),
                ("wbe_i", "bus_wstrb"),
                ("a_addr_i", $"{n}_idx"),
                ("a_rdata_o", $"{n}_rdata"),
                ("b_addr_i", HwReadsRam(r) ? $"hw2reg_i.{n}.raddr" : "'0"),
                ("b_rdata_o", HwReadsRam(r) ? $"reg2hw_o.{n}.rdata" : $"{n}_hw_rdata"),
            ]);
            w.Line(");");
        }

        private void WriteExternal(SvWriter w, SvReg r)
        {
            string n = r.Name;
            string vec = r.Array ? $" [{r.N - 1}:0]" : "";
            // Only an array whose elements share a word can have several requesting at once.
            string sel = r.SharesWords ? $"{n}_sel" : $"{n}_req";
            string any = r.Array ? $"|{n}_req" : $"{n}_req";
            string lane = r.Lane is { } l ? l.ToString(CultureInfo.InvariantCulture) : $"{n}_lane";
            string hi = r.Array ? $"{n}_hi" : $"{n}_hit_hi";

            WriteHeading(w, r);
            DeclareHits(w, r);
            w.Line($"logic{vec} {n}_req;  // the access touches the element, which has not answered yet");
            if (r.SharesWords) w.Line($"logic{vec} {n}_sel;  // the element served now: the lowest requesting one");
            if (r.Array) w.Line($"logic {Range(r.IdxWidth)}{n}_idx;");
            if (r.Lane is null) w.Line($"logic [1:0] {n}_lane;  // byte lane of the element served");
            if (r.Wide && r.Array) w.Line($"logic {n}_hi;  // the element served is accessed in its high word");
            w.Line($"logic {n}_ack;");

            Elem e = OpenElement(w, r, usesLane: true);
            AssignHits(w, r, e);
            string done = r.Wide ? "ext_done_q" : e.Lanes("ext_done_q");
            string write = $"bus_we && |{(r.Wide ? "bus_wstrb" : e.Lanes("bus_wstrb"))}";
            string kind = (r.SwWritable, r.SwReadable) switch
            {
                (true, true) => $"(({write}) || bus_re)",
                (true, false) => write,
                _ => "bus_re",
            };
            w.Line($"assign {e.Index($"{n}_req")} = {e.AnyHit} && !(|{done}) && {kind};");
            CloseElement(w, r);

            if (r.SharesWords) w.Line($"assign {n}_sel = {n}_req & (~{n}_req + {r.N}'d1);");
            if (r.Array)
            {
                w.Line("always_comb begin");
                w.In();
                w.Line($"{n}_idx = '0;");
                if (r.Lane is null) w.Line($"{n}_lane = '0;");
                if (r.Wide) w.Line($"{n}_hi = 1'b0;");
                w.Line($"for (int i = 0; i < {r.N}; i++) begin");
                w.In();
                w.Line($"{n}_idx |= {(r.IdxWidth == 1 ? $"{sel}[i]" : $"{{{r.IdxWidth}{{{sel}[i]}}}}")} & {r.IdxWidth}'(i);");
                if (r.Lane is null) w.Line($"{n}_lane |= {{2{{{sel}[i]}}}} & 2'(({ArrayOffset(r)}) % 4);");
                if (r.Wide) w.Line($"{n}_hi |= {sel}[i] & {n}_hit_hi[i];");
                w.Out();
                w.Line("end");
                w.Out();
                w.Line("end");
            }
            w.Line($"assign {n}_ack = {any} && hw2reg_i.{n}.ack;");

            w.Line($"assign reg2hw_o.{n}.re = {(r.SwReadable ? $"bus_re && {any}" : "1'b0")};");
            w.Line($"assign reg2hw_o.{n}.we = {(r.SwWritable ? $"bus_we && {any}" : "1'b0")};");
            string wdata = !r.SwWritable ? "'0"
                : r.Wide ? $"{hi} ? {{wdata_be, 32'h0}} : {{32'h0, wdata_be}}"
                : LaneSlice("wdata_be", lane, 8, r.R.Width, 0);
            w.Line($"assign reg2hw_o.{n}.wdata = {wdata};");
            string be = r.Wide ? $"{hi} ? {{acc_strb, 4'h0}} : {{4'h0, acc_strb}}" : LaneSlice("acc_strb", lane, 1, r.R.Bytes, 0);
            w.Line($"assign reg2hw_o.{n}.be = {be};");
            if (r.Array) w.Line($"assign reg2hw_o.{n}.idx = {n}_idx;");
        }

        private void WriteReadMux(SvWriter w)
        {
            w.Line();
            w.Line("// ---- read data: the registers of one word own disjoint lanes, so their bits are ORed ----");
            w.Line();
            w.Line("always_comb begin");
            w.In();
            w.Line("reg_rdata = '0;");
            foreach (SvReg r in Rams) w.Line($"reg_rdata |= {{32{{|{r.Name}_hit}}}} & {r.Name}_rdata;");
            foreach (SvReg r in Internal.Where(r => r.R.Fields.Any(SwVisible)))
            {
                // The loop variable is an int here, not a genvar, so the lane is written out.
                var e = new Elem(r, $"(({ArrayOffset(r)}) % 4)");
                if (r.Array)
                {
                    w.Line($"for (int i = 0; i < {r.N}; i++) begin");
                    w.In();
                }
                foreach (RegField f in r.R.Fields.Where(SwVisible))
                {
                    foreach (Piece p in Pieces(r, f))
                    {
                        string q = e.Slice($"{r.Name}_{f.Name}_q", f.Width, p.RegLo - f.Lsb, p.Width);
                        string hit = e.Hit(p.HighWord);
                        w.Line($"{e.Bus("reg_rdata", p.RegLo, p.Width)} |= {(p.Width == 1 ? hit : $"{{{p.Width}{{{hit}}}}}")} & {q};");
                    }
                }
                if (r.Array)
                {
                    w.Out();
                    w.Line("end");
                }
            }
            w.Out();
            w.Line("end");
        }

        private void WriteExternalTracking(SvWriter w)
        {
            string? busyExtra = null;
            w.Line();
            if (Rams.Any())
            {
                w.Line("// A read of a RAM word takes a clock more: the RAM registers its read data.");
                w.Line("logic ram_wait, ram_ready_q;");
                w.Line("always_ff @(posedge clk_i or negedge rst_ni) begin");
                w.Line("  if (!rst_ni) ram_ready_q <= 1'b0;");
                w.Line("  else ram_ready_q <= bus_re;");
                w.Line("end");
                w.Line($"assign ram_wait = bus_re && !ram_ready_q && ({string.Join(" || ", Rams.Select(r => $"|{r.Name}_hit"))});");
                w.Line();
            }
            if (!External.Any())
            {
                w.Line(Rams.Any()
                    ? "assign access_done = !ram_wait;  // no external registers"
                    : "assign access_done = 1'b1;  // no external registers: every access completes at once");
                return;
            }
            if (Rams.Any()) busyExtra = "ram_wait";
            bool extRead = External.Any(r => r.SwReadable);
            w.Line("// ---- external registers: each request is held until its ack; the access ends when all are in ----");
            w.Line();
            var busy = External.Select(r => r.SharesWords
                ? $"|({r.Name}_req & ~({{{r.N}{{hw2reg_i.{r.Name}.ack}}}} & {r.Name}_sel))"
                : $"({(r.Array ? "|" : "")}{r.Name}_req && !hw2reg_i.{r.Name}.ack)").ToList();
            if (busyExtra is not null) busy.Add(busyExtra);
            w.Line($"assign access_done = !({string.Join(" ||\n                       ", busy)});");
            w.Line();
            w.Line("always_comb begin");
            w.In();
            w.Line("ext_done_d = ext_done_q;");
            if (extRead) w.Line("ext_rdata_d = ext_rdata_q;");
            w.Line("if (!bus_we && !bus_re) begin");
            w.Line("  ext_done_d = '0;");
            if (extRead) w.Line("  ext_rdata_d = '0;");
            w.Line("end");
            foreach (SvReg r in External)
            {
                string n = r.Name;
                string lane = r.Lane is { } l ? l.ToString(CultureInfo.InvariantCulture) : $"{n}_lane";
                string hi = r.Array ? $"{n}_hi" : $"{n}_hit_hi";
                w.Line($"if ({n}_ack) begin");
                w.In();
                w.Line(r.Wide ? "ext_done_d = '1;" : $"{LaneSlice("ext_done_d", lane, 1, r.R.Bytes, 0)} = '1;");
                if (r.SwReadable)
                {
                    w.Line(r.Wide
                        ? $"ext_rdata_d = {hi} ? hw2reg_i.{n}.rdata[63:32] : hw2reg_i.{n}.rdata[31:0];"
                        : $"{LaneSlice("ext_rdata_d", lane, 8, r.R.Width, 0)} = hw2reg_i.{n}.rdata;");
                }
                w.Out();
                w.Line("end");
            }
            w.Out();
            w.Line("end");
        }

        private void WriteUnused(SvWriter w)
        {
            w.Line();
            if (!_regs.Any(HasReg2Hw)) w.Line("assign reg2hw_o.placeholder = 1'b0;");
            w.Line("// Not every block has a register in every byte lane, or reads and writes alike; word");
            w.Line("// addresses leave the byte bits unused.");
            w.Line("logic unused_bus;");
            w.Line("assign unused_bus = ^{bus_wdata, wstrb_bits, bus_addr[1:0], bus_we, bus_re};");
            var sink = new List<string>();
            if (!_regs.Any(HasHw2Reg)) sink.Add("hw2reg_i");
            foreach (SvReg r in Internal)
            {
                foreach (RegField f in r.R.Fields.Where(f => !Stored(f) && HasHw2Reg(f)))
                    sink.Add($"hw2reg_i.{r.Name}.{f.Name}");
            }
            foreach (SvReg r in External.Where(r => !r.SwReadable)) sink.Add($"hw2reg_i.{r.Name}.rdata");
            foreach (SvReg r in Rams.Where(r => !HwReadsRam(r))) sink.Add($"{r.Name}_hw_rdata");
            if (sink.Count == 0) return;
            w.Line("// Inputs with no use here: hardware values of fields nobody can see, read data of write-only");
            w.Line("// external registers, the placeholder of an empty struct.");
            w.Line("logic unused_hw2reg;");
            w.Line($"assign unused_hw2reg = ^{{{string.Join(", ", sink)}}};");
        }

        private void WriteAssertions(SvWriter w)
        {
            w.Line();
            w.Raw("`ifndef SYNTHESIS\n");
            w.Line("initial begin : check_aw");
            w.Line($"  assert (AW >= BlockAw) else $fatal(1, \"{_b.Name}_reg_top: AW must be at least %0d\", BlockAw);");
            w.Line("end");
            w.Line();
            w.Line("// The AXI4-Lite handshake is checked in axil_adapter_reg.");
            foreach (SvReg r in External)
            {
                string n = r.Name;
                string idx = r.Array ? $" && $stable(reg2hw_o.{n}.idx)" : "";
                w.Line($"// {n}: a request stays up, unchanged, until it is acked.");
                Assert(w, $"{n}_re_held", $"reg2hw_o.{n}.re && !hw2reg_i.{n}.ack", $"reg2hw_o.{n}.re{idx}");
                Assert(w, $"{n}_we_held", $"reg2hw_o.{n}.we && !hw2reg_i.{n}.ack",
                    $"reg2hw_o.{n}.we{idx} && $stable(reg2hw_o.{n}.wdata) && $stable(reg2hw_o.{n}.be)");
            }
            w.Raw("`endif\n");
        }

        private static void Assert(SvWriter w, string label, string antecedent, string consequent)
        {
            w.Line($"{label}: assert property (@(posedge clk_i) disable iff (!rst_ni)");
            w.Line($"  {antecedent} |=> {consequent});");
        }

        /// <summary>Type, names and comment per line, in aligned columns.</summary>
        private static void Declare(SvWriter w, List<(string Type, string Names, string? Comment)> decls)
        {
            int typePad = decls.Max(d => d.Type.Length);
            int namePad = decls.Where(d => d.Comment is not null).Select(d => d.Names.Length + 1).DefaultIfEmpty(0).Max();
            foreach (var (type, names, comment) in decls)
            {
                w.Line(comment is null
                    ? $"{type.PadRight(typePad)} {names};"
                    : $"{type.PadRight(typePad)} {(names + ";").PadRight(namePad)}  // {comment}");
            }
        }

        private static string OneLine(string text) =>
            string.Join(' ', text.Split(['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

        private static string Hx(ulong value) => value.ToString("x", CultureInfo.InvariantCulture);

        private static string Lit(int width, ulong value) => $"{width}'h{Hx(value)}";

        private static string Range(int width) => width > 1 ? $"[{width - 1}:0] " : "";
    }

    /// <summary>Lines with two-space indentation and LF endings; comments wrapped at 100 columns.</summary>
    private sealed class SvWriter
    {
        private const int Columns = 100;
        private readonly StringBuilder _sb = new();
        private int _indent;

        public void In() => _indent++;

        public void Out() => _indent--;

        public void Raw(string text) => _sb.Append(text);

        public void Line(string text = "")
        {
            foreach (string line in text.Split('\n'))
            {
                if (line.Length > 0) _sb.Append(' ', _indent * 2).Append(line);
                _sb.Append('\n');
            }
        }

        /// <summary>A // comment of one or more lines; the text comes from descriptions, so it is reflowed.</summary>
        public void Comment(string text)
        {
            int width = Columns - _indent * 2 - 3;
            var line = new StringBuilder();
            foreach (string word in text.Split(['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > width)
                {
                    Line($"// {line}");
                    line.Clear();
                }
                if (line.Length > 0) line.Append(' ');
                line.Append(word);
            }
            if (line.Length > 0) Line($"// {line}");
        }

        public override string ToString() => _sb.ToString();
    }
}
