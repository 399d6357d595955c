using System.Text;
using VirtioHw.Regc.Elaboration;
using static VirtioHw.Regc.Generators.Naming;

namespace VirtioHw.Regc.Generators;

/// <summary>
/// C# for drivers and the software model: a static class of definitions per block (offsets,
/// widths, field shifts and masks, enums, a <c>BlockInfo</c>) and a register-block model class
/// whose typed hardware-side API mirrors the RTL's reg2hw/hw2reg structs.
/// </summary>
public sealed class CSharpGenerator : IGenerator
{
    private static readonly HashSet<string> RegisterMemberNames = new(StringComparer.Ordinal)
    {
        "Offset", "Width", "ResetValue", "Count", "Stride", "OffsetOf",
    };

    public string Option => "--cs";

    public IEnumerable<GeneratedFile> Generate(RegBlock block)
    {
        var w = new CodeWriter();
        w.Raw(Banner.Lines("//", block));
        w.Line("#nullable enable");
        w.Line();
        w.Line("namespace VirtioHw.Registers;");
        w.Line();
        WriteDefinitions(w, block);
        w.Line();
        WriteModel(w, block);
        yield return new GeneratedFile($"{Pascal(block.Name)}.g.cs", w.ToString());
    }

    private static void WriteDefinitions(CodeWriter w, RegBlock block)
    {
        string cls = Pascal(block.Name);
        Doc(w, block.DisplayName == block.Name ? block.Description : $"{block.DisplayName}. {block.Description}");
        w.Open($"public static class {cls}");
        w.Line("/// <summary>Bytes the block decodes.</summary>");
        w.Line($"public const uint Size = {Hex(block.Size)};");
        foreach (Register r in block.Registers)
        {
            w.Line();
            Doc(w, r.Description.Length > 0 ? r.Description : r.DisplayName);
            w.Open($"public static class {RegisterClassName(r)}");
            w.Line($"public const uint Offset = {Hex(r.Offset)};");
            w.Line($"public const int Width = {r.Width};");
            w.Line($"public const ulong ResetValue = {Hex(r.ResetValue)};");
            if (r.IsArray)
            {
                w.Line($"public const int Count = {r.Count};");
                w.Line($"public const uint Stride = {Hex(r.Stride)};");
                w.Line("/// <summary>Offset of element <paramref name=\"index\"/>.</summary>");
                w.Line("public static uint OffsetOf(int index) => Offset + (uint)index * Stride;");
            }
            foreach (RegField f in r.Fields)
            {
                Doc(w, f.Description.Length > 0 ? f.Description : f.DisplayName);
                w.Open($"public static class {FieldClassName(r, f)}");
                w.Line($"public const int Shift = {f.Lsb};");
                w.Line($"public const int Bits = {f.Width};");
                w.Line($"public const ulong Mask = {Hex(f.Mask)};");
                w.Line($"public const ulong Reset = {Hex(f.Reset)};");
                w.Close();
            }
            w.Close();
        }
        foreach (RegEnum e in block.Enums)
        {
            int width = block.Registers.SelectMany(r => r.Fields).Where(f => f.Enum == e).Max(f => f.Width);
            w.Line();
            Doc(w, e.Description.Length > 0 ? e.Description : $"Values of the fields encoded with '{e.Name}'.");
            w.Open($"public enum {EnumName(block, e)} : {UnsignedType(width, allowBool: false)}");
            foreach (EnumValue v in e.Values)
            {
                if (v.Description.Length > 0) Doc(w, v.Description);
                w.Line($"{Pascal(v.Name)} = {Hex(v.Value)},");
            }
            w.Close();
        }
        w.Line();
        w.Line("/// <summary>The block as data: names, offsets, fields and access, for tools and the model.</summary>");
        w.Line("public static BlockInfo Info { get; } = new(");
        w.Indent++;
        w.Line($"{Quote(block.Name)}, {Quote(block.DisplayName)}, {Quote(block.Description)}, {Quote(block.SourcePath.Replace('\\', '/'))}, Size,");
        w.Line("[");
        w.Indent++;
        foreach (Register r in block.Registers)
        {
            w.Line($"new RegisterInfo({Quote(r.Name)}, {Quote(r.Description)}, {Hex(r.Offset)}, {r.Width}, {r.Count}, {Hex(r.Stride)}, {Bool(r.IsArray)}, {Bool(r.External)},");
            w.Indent++;
            w.Line("[");
            w.Indent++;
            foreach (RegField f in r.Fields)
            {
                w.Line($"new FieldInfo({Quote(f.Name)}, {Quote(f.Description)}, {f.Lsb}, {f.Width}, SwAccess.{f.Sw}, HwAccess.{f.Hw}, {Hex(f.Reset)}, {Flags(f)}),");
            }
            w.Indent--;
            w.Line(r.Ram ? "], Ram: true)," : "]),");
            w.Indent--;
        }
        w.Indent--;
        w.Line("]);");
        w.Indent--;
        w.Close();
    }

    private static void WriteModel(CodeWriter w, RegBlock block)
    {
        string cls = Pascal(block.Name);
        w.Line($"/// <summary>Transaction-accurate model of the {Pascal(block.Name)} register block; the hardware side mirrors reg2hw/hw2reg.</summary>");
        w.Open($"public sealed class {cls}Model : RegisterBlockModel");
        w.Line($"public {cls}Model() : base({cls}.Info) {{ }}");
        var events = new List<(string Kind, int Register, int Field, string Name)>();
        for (int ri = 0; ri < block.Registers.Count; ri++)
        {
            Register r = block.Registers[ri];
            if (r.External)
            {
                w.Line();
                w.Line($"/// <summary>Hand-written storage behind the external register '{r.Name}'; without one, reads are 0 and writes are dropped.</summary>");
                w.Line($"public IExternalRegister? {Pascal(r.Name)}Handler {{ get => GetExternal({ri}); set => SetExternal({ri}, value); }}");
                continue;
            }
            for (int fi = 0; fi < r.Fields.Count; fi++)
            {
                RegField f = r.Fields[fi];
                string name = AccessorName(r, f);
                string type = UnsignedType(f.Width, allowBool: true);
                string idx = r.IsArray ? "index" : "0";
                string indexParam = r.IsArray ? "int index" : "";
                string read = type switch
                {
                    "bool" => $"HwRead({ri}, {fi}, {idx}) != 0",
                    "ulong" => $"HwRead({ri}, {fi}, {idx})",
                    _ => $"({type})HwRead({ri}, {fi}, {idx})",
                };
                // A single-pulse field is at rest whenever software could look; the model delivers
                // the pulse as an event instead of a readable value.
                bool hwReadable = f.HwReadable && !f.SinglePulse;
                string write = type == "bool" ? "value ? 1UL : 0UL" : "value";
                if (hwReadable || f.HwWritable || f.HwSet || f.HwClr)
                {
                    w.Line();
                    Doc(w, f.Description.Length > 0 ? $"{r.Name}.{f.Name}: {f.Description}" : $"{r.Name}.{f.Name}");
                }
                if (r.IsArray)
                {
                    if (hwReadable) w.Line($"public {type} Get{name}(int index) => {read};");
                    if (f.HwWritable) w.Line($"public void Set{name}(int index, {type} value) => HwWrite({ri}, {fi}, index, {write});");
                }
                else if (hwReadable && f.HwWritable)
                {
                    w.Line($"public {type} {name} {{ get => {read}; set => HwWrite({ri}, {fi}, 0, {write}); }}");
                }
                else if (hwReadable)
                {
                    w.Line($"public {type} {name} => {read};");
                }
                else if (f.HwWritable)
                {
                    w.Line($"public void Set{name}({type} value) => HwWrite({ri}, {fi}, 0, {write});");
                }
                if (f.HwSet) w.Line($"public void HwSet{name}({indexParam}) => HwSetOrClear({ri}, {fi}, {idx}, set: true);");
                if (f.HwClr) w.Line($"public void HwClear{name}({indexParam}) => HwSetOrClear({ri}, {fi}, {idx}, set: false);");
                if (f.SwMod) events.Add(("Modified", ri, fi, name + "Modified"));
                if (f.SwAcc) events.Add(("Accessed", ri, fi, name + "Accessed"));
                if (f.SinglePulse) events.Add(("Pulsed", ri, fi, name + "Pulsed"));
            }
        }
        foreach (var e in events)
        {
            w.Line();
            string what = e.Kind switch
            {
                "Modified" => "Software modified the field (swmod); the value is the new field value.",
                "Accessed" => "Software accessed the field (swacc); the value is the field value.",
                _ => "Software wrote the single-pulse field; the value is what was written.",
            };
            w.Line($"/// <summary>{what}</summary>");
            w.Line($"public event global::System.EventHandler<FieldEvent>? {e.Name};");
        }
        w.Line();
        w.Open("protected override void OnFieldEvent(FieldEventKind kind, int register, int field, FieldEvent e)");
        if (events.Count > 0)
        {
            w.Open("switch ((kind, register, field))");
            foreach (var e in events)
            {
                w.Line($"case (FieldEventKind.{e.Kind}, {e.Register}, {e.Field}): {e.Name}?.Invoke(this, e); break;");
            }
            w.Close();
        }
        w.Close();
        w.Close();
    }

    /// <summary>A register class cannot share its name with its own members or the block's.</summary>
    private static string RegisterClassName(Register r)
    {
        string name = Pascal(r.Name);
        return RegisterMemberNames.Contains(name) || name is "Size" or "Info" ? name + "Register" : name;
    }

    private static string AccessorName(Register r, RegField f) =>
        r.Fields.Count == 1 || f.Name == r.Name ? Pascal(r.Name) : Pascal(r.Name) + Pascal(f.Name);

    private static string FieldClassName(Register r, RegField f)
    {
        string name = Pascal(f.Name);
        bool clash = name == RegisterClassName(r) || RegisterMemberNames.Contains(name) || name is "Shift" or "Bits" or "Mask" or "Reset";
        return clash ? name + "Field" : name;
    }

    private static string EnumName(RegBlock block, RegEnum e)
    {
        string name = Pascal(e.Name);
        return block.Registers.Any(r => Pascal(r.Name) == name) || name == "Info" || name == "Size" ? name + "Enum" : name;
    }

    private static string UnsignedType(int width, bool allowBool) => width switch
    {
        1 when allowBool => "bool",
        <= 8 => "byte",
        <= 16 => "ushort",
        <= 32 => "uint",
        _ => "ulong",
    };

    private static string Flags(RegField f)
    {
        var flags = new List<string>();
        if (f.OnRead == ReadEffect.Clear) flags.Add("FieldFlags.ReadClear");
        if (f.OnWrite == WriteEffect.OneToClear) flags.Add("FieldFlags.WriteOneToClear");
        if (f.OnWrite == WriteEffect.OneToSet) flags.Add("FieldFlags.WriteOneToSet");
        if (f.SinglePulse) flags.Add("FieldFlags.SinglePulse");
        if (f.SwMod) flags.Add("FieldFlags.SwMod");
        if (f.SwAcc) flags.Add("FieldFlags.SwAcc");
        if (f.HwSet) flags.Add("FieldFlags.HwSet");
        if (f.HwClr) flags.Add("FieldFlags.HwClear");
        return flags.Count == 0 ? "FieldFlags.None" : string.Join(" | ", flags);
    }

    private static string Bool(bool b) => b ? "true" : "false";

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in OneLine(s))
        {
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", _ => c.ToString() });
        }
        return sb.Append('"').ToString();
    }

    private static void Doc(CodeWriter w, string text)
    {
        string line = XmlEscape(OneLine(text));
        if (line.Length > 0) w.Line($"/// <summary>{line}</summary>");
    }
}

/// <summary>Indented line writer shared by the text generators.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();

    public int Indent { get; set; }

    public void Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', Indent * 4).Append(text);
        _sb.Append('\n');
    }

    public void Raw(string text) => _sb.Append(text);

    public void Open(string header)
    {
        Line(header);
        Line("{");
        Indent++;
    }

    public void Close(string trailer = "")
    {
        Indent--;
        Line("}" + trailer);
    }

    public override string ToString() => _sb.ToString();
}
