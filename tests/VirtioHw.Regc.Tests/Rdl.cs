using VirtioHw.Regc.Elaboration;
using VirtioHw.Regc.Syntax;

namespace VirtioHw.Regc.Tests;

/// <summary>Compiles description text in memory.</summary>
internal static class Rdl
{
    public static IReadOnlyList<RegBlock> Compile(string text, string file = "test.rdl") =>
        Elaborator.Elaborate(Parser.Parse(file, text));

    public static RegBlock Block(string text) => Compile(text).Single();

    public static Register Reg(this RegBlock block, string name) => block.Registers.Single(r => r.Name == name);

    public static RegField Field(this Register reg, string name) => reg.Fields.Single(f => f.Name == name);

    public static string ErrorOf(string text)
    {
        var e = Assert.Throws<RdlException>(() => Compile(text))!;
        return e.Message;
    }
}
