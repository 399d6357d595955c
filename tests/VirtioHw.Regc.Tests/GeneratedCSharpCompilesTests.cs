using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using VirtioHw.Regc.Generators;
using VirtioHw.Registers;

namespace VirtioHw.Regc.Tests;

/// <summary>
/// Names in a description may clash with the members the C# generator emits (a register called
/// 'offset', a field called 'mask'); the generated code must still compile.
/// </summary>
public sealed class GeneratedCSharpCompilesTests
{
    private const string Clashing = """
        enum size { info = 1; };
        addrmap clash {
            reg { field { encode = size; } mask[1:0]; field {} reset[3:2]; field {} shift[5:4]; field {} bits[7:6]; field {} offset[9:8]; } offset;
            reg { field {} width[31:0]; } width;
            reg { field {} v[31:0]; } size;
            reg { field {} info[31:0]; } info;
            reg { field {} count[15:0]; field {} stride[31:16]; } count;
            reg { field { sw = w; hw = r; swmod; } go[0:0]; field { hwset; onread = rclr; sw = r; } done[1:1]; } ctrl;
            external reg { field {} v[31:0]; } window;
            reg { field {} v[31:0]; } reset_value[2];
        };
        """;

    [Test]
    public void ClashingNames_GenerateCompilableCSharp()
    {
        var block = Rdl.Block(Clashing);
        string code = new CSharpGenerator().Generate(block).Single().Text;

        var references = new[]
        {
            typeof(object).Assembly.Location,
            typeof(RegisterBlockModel).Assembly.Location,
            Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Runtime.dll"),
        }.Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Clash",
            [CSharpSyntaxTree.ParseText(code)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.That(errors, Is.Empty, code);
    }
}
