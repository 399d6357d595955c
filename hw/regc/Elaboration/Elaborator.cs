using VirtioHw.Regc.Syntax;

namespace VirtioHw.Regc.Elaboration;

/// <summary>
/// Turns parsed descriptions into checked register blocks: resolves types, properties (instance
/// overrides, then the definition, then lexical defaults), places fields and registers, flattens
/// regfiles, and rejects anything a generator could not honour.
/// </summary>
public sealed class Elaborator
{
    private static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
    {
        // Every IEEE 1800-2017 keyword: generated RTL uses RDL names as identifiers.
        "accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert",
        "assign", "assume", "automatic", "before", "begin", "bind", "bins", "binsof", "bit", "break",
        "buf", "bufif0", "bufif1", "byte", "case", "casex", "casez", "cell", "chandle", "checker", "class",
        "clocking", "cmos", "config", "const", "constraint", "context", "continue", "cover", "covergroup",
        "coverpoint", "cross", "deassign", "default", "defparam", "design", "disable", "dist", "do",
        "edge", "else", "end", "endcase", "endchecker", "endclass", "endclocking", "endconfig",
        "endfunction", "endgenerate", "endgroup", "endinterface", "endmodule", "endpackage",
        "endprimitive", "endprogram", "endproperty", "endsequence", "endspecify", "endtable", "endtask",
        "enum", "event", "eventually", "expect", "export", "extends", "extern", "final", "first_match",
        "for", "force", "foreach", "forever", "fork", "forkjoin", "function", "generate", "genvar",
        "global", "highz0", "highz1", "if", "iff", "ifnone", "ignore_bins", "illegal_bins", "implements",
        "implies", "import", "incdir", "include", "initial", "inout", "input", "inside", "instance", "int",
        "integer", "interconnect", "interface", "intersect", "join", "join_any", "join_none", "large",
        "let", "liblist", "library", "local", "localparam", "logic", "longint", "macromodule", "matches",
        "medium", "modport", "module", "nand", "negedge", "nettype", "new", "nexttime", "nmos", "nor",
        "noshowcancelled", "not", "notif0", "notif1", "null", "or", "output", "package", "packed",
        "parameter", "pmos", "posedge", "primitive", "priority", "program", "property", "protected",
        "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent", "pure",
        "rand", "randc", "randcase", "randsequence", "rcmos", "real", "realtime", "ref", "reg",
        "reject_on", "release", "repeat", "restrict", "return", "rnmos", "rpmos", "rtran", "rtranif0",
        "rtranif1", "s_always", "s_eventually", "s_nexttime", "s_until", "s_until_with", "scalared",
        "sequence", "shortint", "shortreal", "showcancelled", "signed", "small", "soft", "solve",
        "specify", "specparam", "static", "string", "strong", "strong0", "strong1", "struct", "super",
        "supply0", "supply1", "sync_accept_on", "sync_reject_on", "table", "tagged", "task", "this",
        "throughout", "time", "timeprecision", "timeunit", "tran", "tranif0", "tranif1", "tri", "tri0",
        "tri1", "triand", "trior", "trireg", "type", "typedef", "union", "unique", "unique0", "unsigned",
        "until", "until_with", "untyped", "use", "uwire", "var", "vectored", "virtual", "void", "wait",
        "wait_order", "wand", "weak", "weak0", "weak1", "while", "wildcard", "wire", "with", "within",
        "wor", "xnor", "xor",
    };

    private readonly Dictionary<ComponentDefinition, Scope> _definingScope = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ComponentDefinition, Scope> _bodyScope = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<EnumDefinition, RegEnum> _enums = new(ReferenceEqualityComparer.Instance);

    private Elaborator() { }

    /// <summary>Elaborates every top-level addrmap of the file.</summary>
    public static IReadOnlyList<RegBlock> Elaborate(RdlFile file)
    {
        var elaborator = new Elaborator();
        elaborator.BuildScope(file.Items, parent: null);
        var blocks = new List<RegBlock>();
        foreach (BodyItem item in file.Items)
        {
            switch (item)
            {
                case ComponentDefinition { Kind: ComponentKind.Addrmap } map:
                    blocks.Add(elaborator.ElaborateBlock(map, file.Path));
                    break;
                case Instantiation inst:
                    throw new RdlException(inst.Location, "instances belong inside an addrmap");
                case DynamicAssignment dyn:
                    throw new RdlException(dyn.Location, $"'{dyn.Instance}->{dyn.Property}' outside any component");
            }
        }
        if (blocks.Count == 0)
            throw new RdlException(new SourceLocation(file.Path, 1, 1), "no addrmap defined; a description needs at least one top-level addrmap");
        return blocks;
    }

    /// <summary>Parses and elaborates several files; block names must be unique across them.</summary>
    public static IReadOnlyList<RegBlock> ElaborateFiles(IEnumerable<string> paths)
    {
        var blocks = new List<RegBlock>();
        var seen = new Dictionary<string, RegBlock>(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RdlException(new SourceLocation(path, 0, 0), $"cannot read: {e.Message}");
            }
            foreach (RegBlock block in Elaborate(Parser.Parse(path, text)))
            {
                if (seen.TryGetValue(block.Name, out RegBlock? other))
                    throw new RdlException(new SourceLocation(path, 1, 1), $"addrmap '{block.Name}' is also defined in {other.SourcePath}");
                seen.Add(block.Name, block);
                blocks.Add(block);
            }
        }
        return blocks;
    }

    private sealed class Scope(Scope? parent)
    {
        public Scope? Parent { get; } = parent;
        public Dictionary<string, ComponentDefinition> Types { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, EnumDefinition> Enums { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, PropertyAssignment> Defaults { get; } = new(StringComparer.Ordinal);
    }

    private Scope BuildScope(IReadOnlyList<BodyItem> items, Scope? parent)
    {
        var scope = new Scope(parent);
        foreach (BodyItem item in items)
        {
            ComponentDefinition? def = item switch
            {
                ComponentDefinition d => d,
                Instantiation { Definition: { } d } => d,
                _ => null,
            };
            if (def is not null)
            {
                if (def.Name is not null && item is ComponentDefinition && !scope.Types.TryAdd(def.Name, def))
                    throw new RdlException(def.Location, $"duplicate definition of '{def.Name}'");
                _definingScope[def] = scope;
                _bodyScope[def] = BuildScope(def.Body, scope);
            }
            switch (item)
            {
                case EnumDefinition e when !scope.Enums.TryAdd(e.Name, e):
                    throw new RdlException(e.Location, $"duplicate definition of enum '{e.Name}'");
                case PropertyAssignment { IsDefault: true } p:
                    Properties.CheckValue(p.Name, p.Value);
                    if (!scope.Defaults.TryAdd(p.Name, p))
                        throw new RdlException(p.Location, $"duplicate default for '{p.Name}'");
                    break;
            }
        }
        return scope;
    }

    // ---- properties -------------------------------------------------------------------------

    /// <summary>The properties of one instance: instance overrides, then the definition, then defaults.</summary>
    private sealed class PropertySet
    {
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);

        public void Set(string name, Value value) => _values[name] = value;

        public bool TryGet(string name, out Value value) => _values.TryGetValue(name, out value!);

        public string String(string name, string fallback) => TryGet(name, out Value v) ? v.Text : fallback;

        public bool Bool(string name) => TryGet(name, out Value v) && v.Boolean;

        public Value? Get(string name) => TryGet(name, out Value v) ? v : null;
    }

    private PropertySet ResolveProperties(ComponentDefinition def, IEnumerable<DynamicAssignment> overrides)
    {
        var set = new PropertySet();
        for (Scope? s = _definingScope[def]; s is not null; s = s.Parent)
        {
            foreach ((string name, PropertyAssignment p) in s.Defaults)
            {
                if (!set.TryGet(name, out _) && AppliesTo(name, def.Kind, p.Location)) set.Set(name, p.Value);
            }
        }
        var explicitlySet = new HashSet<string>(StringComparer.Ordinal);
        foreach (PropertyAssignment p in def.Body.OfType<PropertyAssignment>().Where(p => !p.IsDefault))
        {
            CheckApplies(p.Name, def.Kind, p.Location);
            Properties.CheckValue(p.Name, p.Value);
            if (!explicitlySet.Add(p.Name))
                throw new RdlException(p.Location, $"property '{p.Name}' is assigned twice");
            set.Set(p.Name, p.Value);
        }
        foreach (DynamicAssignment d in overrides)
        {
            CheckApplies(d.Property, def.Kind, d.Location);
            Properties.CheckValue(d.Property, d.Value);
            set.Set(d.Property, d.Value);
        }
        return set;
    }

    private static bool AppliesTo(string name, ComponentKind kind, SourceLocation at) =>
        Properties.Lookup(name, at).AppliesTo.Contains(kind);

    private static void CheckApplies(string name, ComponentKind kind, SourceLocation at)
    {
        if (!AppliesTo(name, kind, at))
            throw new RdlException(at, $"property '{name}' does not apply to a {kind.ToString().ToLowerInvariant()}");
    }

    // ---- structure --------------------------------------------------------------------------

    private RegBlock ElaborateBlock(ComponentDefinition map, string path)
    {
        string name = map.Name!;
        CheckName(name, map.Location);
        PropertySet props = ResolveProperties(map, []);
        var registers = ElaborateBody(map, prefix: "");
        if (registers.Count == 0)
            throw new RdlException(map.Location, $"addrmap '{name}' has no registers");

        var names = new Dictionary<string, Register>(StringComparer.Ordinal);
        foreach (Register r in registers)
        {
            if (!names.TryAdd(r.Name, r))
                throw new RdlException(r.Location, $"duplicate register name '{r.Name}'");
        }
        CheckFlattenedNames(registers);
        CheckOverlaps(registers);
        CheckReadClearWords(registers);

        ulong end = registers.Max(r => (ulong)r.End);
        if (end > uint.MaxValue)
            throw new RdlException(map.Location, $"addrmap '{name}' extends past the 32-bit address space");
        uint size = (uint)((end + 3) & ~3UL);
        var enums = registers.SelectMany(r => r.Fields).Select(f => f.Enum).OfType<RegEnum>()
            .Distinct().ToList();
        var enumNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (RegEnum e in enums)
        {
            if (!enumNames.Add(e.Name))
                throw new RdlException(map.Location, $"two different enums named '{e.Name}' are used in addrmap '{name}'");
        }
        if (registers.FirstOrDefault(r => r.Ram && !r.IsArray) is { } single)
            throw new RdlException(single.Location, $"register '{single.Name}' with ram must be an array (or in a regfile array)");
        return new RegBlock(name, props.String("name", name), props.String("desc", ""), path, size,
            registers.OrderBy(r => r.Offset).ToList(), enums);
    }

    /// <summary>Elaborates the registers of an addrmap or regfile body, at offsets relative to it.</summary>
    private List<Register> ElaborateBody(ComponentDefinition container, string prefix)
    {
        var result = new List<Register>();
        Scope scope = _bodyScope[container];
        var dynamics = container.Body.OfType<DynamicAssignment>().ToList();
        var instanceNames = new HashSet<string>(StringComparer.Ordinal);
        ulong next = 0;

        foreach (Instantiation inst in container.Body.OfType<Instantiation>())
        {
            ComponentDefinition def = inst.Definition ?? LookupType(scope, inst.TypeName!, inst.Location);
            switch (def.Kind)
            {
                case ComponentKind.Field:
                    throw new RdlException(inst.Location, $"a field belongs inside a reg, not directly in a {container.Kind.ToString().ToLowerInvariant()}");
                case ComponentKind.Addrmap:
                    throw new RdlException(inst.Location, "addrmap instances inside an addrmap are not in the supported SystemRDL subset");
            }
            foreach (InstanceDeclaration decl in inst.Instances)
            {
                CheckName(decl.Name, decl.Location);
                if (!instanceNames.Add(decl.Name))
                    throw new RdlException(decl.Location, $"duplicate instance name '{decl.Name}'");
                if (decl.Msb is not null)
                    throw new RdlException(decl.Location, $"'{decl.Name}' takes an array count [n], not a bit range");
                if (decl.Reset is not null)
                    throw new RdlException(decl.Location, $"only fields take a reset value in the instance; '{decl.Name}' is a {def.Kind.ToString().ToLowerInvariant()}");
                bool isArray = decl.Width is not null;
                ulong count = decl.Width ?? 1;
                if (count is 0 or > 65536)
                    throw new RdlException(decl.Location, $"array count of '{decl.Name}' must be 1..65536");
                var overrides = dynamics.Where(d => d.Instance == decl.Name).ToList();

                List<Register> inner;
                uint elementSize;
                uint alignment;
                if (def.Kind == ComponentKind.Reg)
                {
                    Register reg = ElaborateRegister(def, decl, prefix + decl.Name, inst.External, overrides);
                    inner = [reg];
                    elementSize = (uint)reg.Bytes;
                    alignment = (uint)Math.Min(reg.Bytes, 4);
                }
                else
                {
                    if (inst.External)
                        throw new RdlException(inst.Location, "'external' on a regfile is not in the supported SystemRDL subset; mark its registers external");
                    // Validates name/desc overrides of the regfile instance; a regfile has no other properties.
                    ResolveProperties(def, overrides);
                    inner = ElaborateBody(def, prefix + decl.Name + "_");
                    if (inner.Count == 0)
                        throw new RdlException(decl.Location, $"regfile '{decl.Name}' has no registers");
                    elementSize = (uint)((inner.Max(r => (ulong)r.End) + 3) & ~3UL);
                    alignment = 4;
                }

                if (decl.Alignment is { } align)
                {
                    if (align == 0 || (align & (align - 1)) != 0)
                        throw new RdlException(decl.Location, $"alignment {align} of '{decl.Name}' is not a power of two");
                    alignment = (uint)Math.Max(alignment, align);
                }
                ulong offset = decl.Address ?? AlignUp(next, alignment);
                if (offset % alignment != 0)
                    throw new RdlException(decl.Location, $"'{decl.Name}' at 0x{offset:x} is not aligned to {alignment} bytes");
                ulong stride = decl.Stride ?? elementSize;
                if (decl.Stride is not null && !isArray)
                    throw new RdlException(decl.Location, $"'{decl.Name}' has a stride but is not an array");
                if (isArray && stride < elementSize)
                    throw new RdlException(decl.Location, $"stride 0x{stride:x} of '{decl.Name}' is smaller than its element size 0x{elementSize:x}");
                if (isArray && stride % alignment != 0)
                    throw new RdlException(decl.Location, $"stride 0x{stride:x} of '{decl.Name}' is not a multiple of its alignment {alignment}");
                ulong end = offset + (count - 1) * stride + elementSize;
                if (end > uint.MaxValue)
                    throw new RdlException(decl.Location, $"'{decl.Name}' extends past the 32-bit address space");

                foreach (Register r in inner)
                {
                    if (isArray && r.IsArray)
                        throw new RdlException(decl.Location, $"'{decl.Name}' is an array of a regfile that holds the array '{r.Name}': nested arrays are not in the supported SystemRDL subset");
                    result.Add(isArray
                        ? r with { Offset = (uint)(offset + r.Offset), Count = (int)count, Stride = (uint)stride, IsArray = true }
                        : r with { Offset = (uint)(offset + r.Offset) });
                }
                next = end;
            }
        }
        foreach (DynamicAssignment d in dynamics)
        {
            if (!instanceNames.Contains(d.Instance))
                throw new RdlException(d.Location, $"no instance named '{d.Instance}' here");
        }
        return result;
    }

    private Register ElaborateRegister(ComponentDefinition def, InstanceDeclaration decl, string name, bool external, List<DynamicAssignment> overrides)
    {
        PropertySet props = ResolveProperties(def, overrides);
        int width = 32;
        if (props.Get("regwidth") is { } rw)
        {
            if (rw.Number is not (8 or 16 or 32 or 64))
                throw new RdlException(rw.Location, $"regwidth {rw.Number} is not one of 8, 16, 32, 64");
            width = (int)rw.Number;
        }

        Scope scope = _bodyScope[def];
        var fieldDynamics = def.Body.OfType<DynamicAssignment>().ToList();
        var fields = new List<RegField>();
        var fieldNames = new HashSet<string>(StringComparer.Ordinal);
        ulong used = 0;
        int nextBit = 0;
        foreach (BodyItem item in def.Body)
        {
            if (item is not Instantiation inst) continue;
            ComponentDefinition fieldDef = inst.Definition ?? LookupType(scope, inst.TypeName!, inst.Location);
            if (fieldDef.Kind != ComponentKind.Field)
                throw new RdlException(inst.Location, $"a reg holds only fields, not a {fieldDef.Kind.ToString().ToLowerInvariant()}");
            if (inst.External)
                throw new RdlException(inst.Location, "'external' applies to registers, not fields");
            foreach (InstanceDeclaration fdecl in inst.Instances)
            {
                CheckName(fdecl.Name, fdecl.Location);
                if (!fieldNames.Add(fdecl.Name))
                    throw new RdlException(fdecl.Location, $"duplicate field name '{fdecl.Name}' in register '{name}'");
                RegField field = ElaborateField(fieldDef, fdecl, name, width, external, ref nextBit,
                    fieldDynamics.Where(d => d.Instance == fdecl.Name));
                if ((used & field.Mask) != 0)
                {
                    RegField other = fields.First(f => (f.Mask & field.Mask) != 0);
                    throw new RdlException(fdecl.Location, $"field '{field.Name}' [{field.Msb}:{field.Lsb}] overlaps field '{other.Name}' [{other.Msb}:{other.Lsb}]");
                }
                used |= field.Mask;
                fields.Add(field);
            }
        }
        foreach (DynamicAssignment d in fieldDynamics)
        {
            if (!fieldNames.Contains(d.Instance))
                throw new RdlException(d.Location, $"no field named '{d.Instance}' in register '{name}'");
        }
        if (fields.Count == 0)
            throw new RdlException(decl.Location, $"register '{name}' has no fields");

        bool ram = props.Bool("ram");
        if (ram)
        {
            string where = $"register '{name}' with ram";
            if (external)
                throw new RdlException(decl.Location, $"{where} cannot be external (a RAM is the block's own storage)");
            if (width != 32)
                throw new RdlException(decl.Location, $"{where} must be 32 bits wide, one RAM word per bus word");
            foreach (RegField f in fields)
            {
                if (f.Sw != SwAccess.RW || f.HwWritable || f.OnRead != ReadEffect.None || f.OnWrite != WriteEffect.None
                    || f.SinglePulse || f.SwMod || f.SwAcc || f.HwSet || f.HwClr)
                {
                    throw new RdlException(f.Location,
                        $"field '{f.Name}' of {where} must be plain storage (sw = rw, hw = r or na, no side effects)");
                }
            }
        }

        return new Register(name, props.String("name", decl.Name), props.String("desc", ""), 0, width,
            Count: 1, Stride: (uint)(width / 8), IsArray: false, external,
            fields.OrderBy(f => f.Lsb).ToList(), decl.Location) { Ram = ram };
    }

    private RegField ElaborateField(ComponentDefinition def, InstanceDeclaration decl, string regName, int regWidth,
        bool external, ref int nextBit, IEnumerable<DynamicAssignment> overrides)
    {
        PropertySet props = ResolveProperties(def, overrides);
        string where = $"field '{decl.Name}' of register '{regName}'";
        int lsb, width;
        if (decl.Msb is { } msb)
        {
            ulong low = decl.Lsb!.Value;
            if (msb < low)
                throw new RdlException(decl.Location, $"{where}: [{msb}:{low}] has msb below lsb; only [msb:lsb] order is in the subset");
            if (msb >= (ulong)regWidth)
                throw new RdlException(decl.Location, $"{where} [{msb}:{low}] does not fit in the {regWidth}-bit register");
            lsb = (int)low;
            width = (int)(msb - low + 1);
        }
        else
        {
            ulong w = decl.Width ?? props.Get("fieldwidth")?.Number ?? 1;
            if (w == 0)
                throw new RdlException(decl.Location, $"{where} has width 0");
            lsb = nextBit;
            if ((ulong)lsb + w > (ulong)regWidth)
                throw new RdlException(decl.Location, $"{where} [{(ulong)lsb + w - 1}:{lsb}] does not fit in the {regWidth}-bit register");
            width = (int)w;
        }
        if (props.Get("fieldwidth") is { } fw && fw.Number != (ulong)width)
            throw new RdlException(fw.Location, $"{where}: fieldwidth {fw.Number} disagrees with the instance width {width}");
        nextBit = lsb + width;

        Value? resetValue = decl.Reset ?? props.Get("reset");
        ulong reset = 0;
        if (resetValue is not null)
        {
            if (resetValue.Kind != ValueKind.Number)
                throw new RdlException(resetValue.Location, $"{where}: reset takes a number, not {resetValue}");
            if (width < 64 && resetValue.Number >> width != 0)
                throw new RdlException(resetValue.Location, $"{where}: reset value {resetValue.Text} is wider than the field ({width} bits)");
            if (resetValue.NumberWidth != 0 && resetValue.NumberWidth != width)
                throw new RdlException(resetValue.Location, $"{where}: reset literal {resetValue.Text} is {resetValue.NumberWidth} bits wide but the field is {width}");
            reset = resetValue.Number;
        }

        SwAccess sw = props.Get("sw")?.Text switch
        {
            "r" => SwAccess.R,
            "w" => SwAccess.W,
            _ => SwAccess.RW,
        };
        HwAccess hw = props.Get("hw")?.Text switch
        {
            "r" => HwAccess.R,
            "w" => HwAccess.W,
            "na" => HwAccess.NA,
            _ => HwAccess.RW,
        };
        ReadEffect onRead = props.Get("onread") is null ? ReadEffect.None : ReadEffect.Clear;
        WriteEffect onWrite = props.Get("onwrite")?.Text switch
        {
            "woclr" => WriteEffect.OneToClear,
            "woset" => WriteEffect.OneToSet,
            _ => WriteEffect.None,
        };
        bool singlePulse = props.Bool("singlepulse");
        bool swMod = props.Bool("swmod");
        bool swAcc = props.Bool("swacc");
        bool hwSet = props.Bool("hwset");
        bool hwClr = props.Bool("hwclr");

        SourceLocation at = decl.Location;
        if (external)
        {
            string? behaviour = onRead != ReadEffect.None ? "onread" : onWrite != WriteEffect.None ? "onwrite"
                : singlePulse ? "singlepulse" : swMod ? "swmod" : swAcc ? "swacc" : hwSet ? "hwset" : hwClr ? "hwclr" : null;
            if (behaviour is not null)
                throw new RdlException(at, $"{where}: '{behaviour}' is not allowed in an external register (its behaviour lives in hand-written logic)");
            hw = HwAccess.NA;
        }
        if (onRead == ReadEffect.Clear && sw == SwAccess.W)
            throw new RdlException(at, $"{where}: onread = rclr needs a readable field, but sw = w");
        if (onWrite != WriteEffect.None && sw == SwAccess.R)
            throw new RdlException(at, $"{where}: onwrite needs a writable field, but sw = r");
        if (singlePulse && sw == SwAccess.R)
            throw new RdlException(at, $"{where}: singlepulse needs a writable field, but sw = r");
        if (singlePulse && onWrite != WriteEffect.None)
            throw new RdlException(at, $"{where}: singlepulse cannot be combined with onwrite");
        if (swMod && sw == SwAccess.R && onRead == ReadEffect.None)
            throw new RdlException(at, $"{where}: swmod needs a field software can modify (sw writable or onread = rclr)");
        if (singlePulse && hw is HwAccess.W or HwAccess.RW)
            throw new RdlException(at, $"{where}: a singlepulse field cannot be written by hardware (set hw = r)");

        RegEnum? regEnum = null;
        if (props.Get("encode") is { } encode)
        {
            EnumDefinition enumDef = LookupEnum(_bodyScope[def], encode.Text, encode.Location);
            regEnum = ElaborateEnum(enumDef);
            foreach (EnumValue v in regEnum.Values)
            {
                if (width < 64 && v.Value >> width != 0)
                    throw new RdlException(encode.Location, $"{where}: enum '{regEnum.Name}' value {v.Name} = {v.Value} does not fit in {width} bits");
            }
        }

        return new RegField(decl.Name, props.String("name", decl.Name), props.String("desc", ""), lsb, width,
            sw, hw, reset, onRead, onWrite, singlePulse, swMod, swAcc, hwSet, hwClr, regEnum, decl.Location);
    }

    private RegEnum ElaborateEnum(EnumDefinition def)
    {
        if (_enums.TryGetValue(def, out RegEnum? done)) return done;
        var values = new List<EnumValue>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var numbers = new Dictionary<ulong, string>();
        ulong next = 0;
        foreach (EnumEntry entry in def.Entries)
        {
            CheckName(entry.Name, entry.Location);
            if (!names.Add(entry.Name))
                throw new RdlException(entry.Location, $"duplicate entry '{entry.Name}' in enum '{def.Name}'");
            ulong value = entry.Value?.Number ?? next;
            if (numbers.TryGetValue(value, out string? other))
                throw new RdlException(entry.Location, $"enum '{def.Name}': '{entry.Name}' and '{other}' both have value {value}");
            numbers.Add(value, entry.Name);
            string desc = "";
            foreach (PropertyAssignment p in entry.Properties)
            {
                if (p.Name is not ("name" or "desc"))
                    throw new RdlException(p.Location, $"enum entries take only name and desc, not '{p.Name}'");
                Properties.CheckValue(p.Name, p.Value);
                if (p.Name == "desc") desc = p.Value.Text;
            }
            values.Add(new EnumValue(entry.Name, value, desc));
            next = value + 1;
        }
        if (values.Count == 0)
            throw new RdlException(def.Location, $"enum '{def.Name}' has no entries");
        var result = new RegEnum(def.Name, "", values);
        _enums[def] = result;
        return result;
    }

    private static ComponentDefinition LookupType(Scope scope, string name, SourceLocation at)
    {
        for (Scope? s = scope; s is not null; s = s.Parent)
        {
            if (s.Types.TryGetValue(name, out ComponentDefinition? def)) return def;
        }
        throw new RdlException(at, $"unknown component type '{name}'");
    }

    private static EnumDefinition LookupEnum(Scope scope, string name, SourceLocation at)
    {
        for (Scope? s = scope; s is not null; s = s.Parent)
        {
            if (s.Enums.TryGetValue(name, out EnumDefinition? def)) return def;
        }
        throw new RdlException(at, $"unknown enum '{name}'");
    }

    private static void CheckName(string name, SourceLocation at)
    {
        if (ReservedNames.Contains(name))
            throw new RdlException(at, $"'{name}' is a SystemVerilog keyword and cannot name a register, field or block");
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;

    private static IEnumerable<(Register Register, int Element, uint Start)> Elements(IEnumerable<Register> registers) =>
        registers.SelectMany(r => Enumerable.Range(0, r.Count).Select(i => (r, i, r.ElementOffset(i))));

    /// <summary>
    /// Generated constants join names with '_' (<c>BLOCK_REG_FIELD_LSB</c>), so register 'a_b'
    /// with field 'c' and register 'a' with field 'b_c' would name the same thing.
    /// </summary>
    private static void CheckFlattenedNames(List<Register> registers)
    {
        var seen = new Dictionary<string, (Register Register, RegField? Field)>(StringComparer.OrdinalIgnoreCase);
        foreach (Register r in registers)
        {
            Claim(r.Name, r, null);
            foreach (RegField f in r.Fields) Claim($"{r.Name}_{f.Name}", r, f);
        }

        void Claim(string joined, Register r, RegField? f)
        {
            if (seen.TryGetValue(joined, out var other))
            {
                string mine = f is null ? $"register '{r.Name}'" : $"field '{r.Name}.{f.Name}'";
                string theirs = other.Field is null ? $"register '{other.Register.Name}'" : $"field '{other.Register.Name}.{other.Field.Name}'";
                throw new RdlException(f?.Location ?? r.Location, $"{mine} and {theirs} both generate the name '{joined}'");
            }
            seen.Add(joined, (r, f));
        }
    }

    private static void CheckOverlaps(List<Register> registers)
    {
        var ordered = Elements(registers).OrderBy(e => e.Start).ToList();
        for (int i = 1; i < ordered.Count; i++)
        {
            var prev = ordered[i - 1];
            var cur = ordered[i];
            if (cur.Start < prev.Start + (uint)prev.Register.Bytes)
            {
                throw new RdlException(cur.Register.Location,
                    $"register '{Describe(cur)}' at 0x{cur.Start:x} overlaps register '{Describe(prev)}' at 0x{prev.Start:x}");
            }
        }

        static string Describe((Register Register, int Element, uint Start) e) =>
            e.Register.IsArray ? $"{e.Register.Name}[{e.Element}]" : e.Register.Name;
    }

    /// <summary>
    /// A bus read returns a whole 32-bit word, so a read side effect would hit every register in
    /// that word; a register that clears on read must have its words to itself.
    /// </summary>
    private static void CheckReadClearWords(List<Register> registers)
    {
        var words = new Dictionary<uint, Register>();
        foreach (var (reg, _, start) in Elements(registers))
        {
            for (uint w = start & ~3u; w < start + (uint)reg.Bytes; w += 4)
            {
                if (words.TryGetValue(w, out Register? other) && !ReferenceEquals(other, reg)
                    && (HasReadClear(other) || HasReadClear(reg)))
                {
                    Register culprit = HasReadClear(reg) ? reg : other;
                    Register neighbour = ReferenceEquals(culprit, reg) ? other : reg;
                    throw new RdlException(culprit.Location,
                        $"register '{culprit.Name}' clears on read but shares the 32-bit word at 0x{w:x} with '{neighbour.Name}'; a read of either would clear it");
                }
                words[w] = reg;
            }
        }

        static bool HasReadClear(Register r) => r.Fields.Any(f => f.OnRead == ReadEffect.Clear);
    }
}
