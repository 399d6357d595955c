using VirtioHw.Regc.Elaboration;
using static VirtioHw.Regc.Generators.Naming;

namespace VirtioHw.Regc.Generators;

/// <summary>A C header per block: offsets, widths, resets, field shifts and masks, enum values.</summary>
public sealed class CHeaderGenerator : IGenerator
{
    public string Option => "--c";

    public IEnumerable<GeneratedFile> Generate(RegBlock block)
    {
        var w = new CodeWriter();
        string b = Upper(block.Name);
        string guard = $"VIRTIOHW_{b}_H";
        w.Raw(Banner.Lines("//", block));
        w.Line($"#ifndef {guard}");
        w.Line($"#define {guard}");
        w.Line();
        Comment(w, $"{block.DisplayName}: {block.Description}");
        w.Line($"#define {b}_SIZE {Hex(block.Size)}u");
        foreach (Register r in block.Registers)
        {
            string p = $"{b}_{Upper(r.Name)}";
            w.Line();
            Comment(w, r.Description.Length > 0 ? r.Description : r.DisplayName);
            w.Line($"#define {p}_OFFSET {Hex(r.Offset)}u");
            w.Line($"#define {p}_WIDTH {r.Width}u");
            w.Line($"#define {p}_RESET {Hex(r.ResetValue)}{Suffix(r.Width)}");
            if (r.IsArray)
            {
                w.Line($"#define {p}_COUNT {r.Count}u");
                w.Line($"#define {p}_STRIDE {Hex(r.Stride)}u");
                w.Line($"#define {p}_OFFSET_OF(i) ({p}_OFFSET + (uint32_t)(i) * {p}_STRIDE)");
            }
            foreach (RegField f in r.Fields)
            {
                string fp = $"{p}_{Upper(f.Name)}";
                w.Line($"#define {fp}_SHIFT {f.Lsb}u");
                w.Line($"#define {fp}_BITS {f.Width}u");
                w.Line($"#define {fp}_MASK {Hex(f.Mask)}{Suffix(r.Width)}");
            }
        }
        foreach (RegEnum e in block.Enums)
        {
            w.Line();
            Comment(w, $"enum {e.Name}");
            foreach (EnumValue v in e.Values)
                w.Line($"#define {b}_{Upper(e.Name)}_{Upper(v.Name)} {Hex(v.Value)}u");
        }
        w.Line();
        w.Line($"#endif // {guard}");
        yield return new GeneratedFile($"{block.Name}.h", w.ToString());
    }

    private static string Suffix(int width) => width > 32 ? "ull" : "u";

    private static void Comment(CodeWriter w, string text)
    {
        string line = OneLine(text);
        if (line.Length > 0) w.Line($"// {line}");
    }
}
