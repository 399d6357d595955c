using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using VirtioHw.Regc;
using VirtioHw.Regc.Elaboration;
using VirtioHw.Regc.Generators;
using VirtioHw.Regc.Syntax;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Register descriptions into the register compiler: the repository's own .rdl files mutated
/// (their words and punctuation re-inserted, lines cut and copied), and random token soup. Every
/// input either compiles through every generator or is one <c>file:line:column: error:</c> line
/// whose position lies in the text; never another exception.
/// </summary>
public sealed partial class RdlTarget : FuzzTarget
{
    private const string FileName = "fuzz.rdl";

    private static readonly string[] Punctuation =
        ["{", "}", "[", "]", ";", "=", "@", "+=", "%=", ":", "'h", "32'h", "0x", "\"", "//", "/*", "*/", "\n", " ", "-", "'", "\\", "##"];

    private readonly byte[][] _seeds;
    private readonly byte[][] _tokens;

    public RdlTarget()
    {
        Assembly assembly = typeof(RdlTarget).Assembly;
        _seeds = [.. assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".rdl", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => ReadResource(assembly, n))];
        IEnumerable<string> words = _seeds.SelectMany(s => Word().Matches(Encoding.UTF8.GetString(s)).Select(m => m.Value));
        _tokens = [.. words.Concat(Punctuation).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(w => Encoding.UTF8.GetBytes(w))];
    }

    public override string Name => "rdl";

    public override string Description => "register descriptions into regc: compiled, or one file:line:column error";

    /// <summary>The descriptions mutation starts from (hw/regs/*.rdl, embedded at build time).</summary>
    public IReadOnlyList<byte[]> Seeds => _seeds;

    public override IEnumerable<byte[]> Starters(Random random, int count) => [.. _seeds, .. base.Starters(random, count)];

    public override byte[] Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (random.Next(8) == 0)
        {
            // Token soup: a description made only of the format's words and punctuation.
            var soup = new List<byte>();
            int count = random.Next(200);
            for (int i = 0; i < count; i++)
            {
                soup.AddRange(_tokens[random.Next(_tokens.Length)]);
                soup.Add((byte)' ');
            }

            return [.. soup];
        }

        return Mutator.Mutate(random, _seeds[random.Next(_seeds.Length)], _tokens, _seeds);
    }

    public override void Execute(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        IReadOnlyList<RegBlock> blocks;
        try
        {
            blocks = Elaborator.Elaborate(Parser.Parse(FileName, text));
        }
        catch (RdlException e)
        {
            CheckError(text, e);
            return;
        }

        foreach (RegBlock block in blocks)
        {
            foreach (IGenerator generator in RegcCommand.Generators)
            {
                foreach (GeneratedFile file in generator.Generate(block))
                {
                    FuzzFailure.Check(file.Text.Length > 0, $"the {generator.Option} generator wrote an empty {file.RelativePath} for a block that elaborated");
                }
            }
        }
    }

    private static void CheckError(string text, RdlException e)
    {
        Match m = ErrorLine().Match(e.Message);
        FuzzFailure.Check(m.Success, $"error message is not 'file:line:column: error: ...': {e.Message}");
        int line = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int column = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        string[] lines = text.Split('\n');
        FuzzFailure.Check(line >= 1 && line <= lines.Length, $"error names line {line} of a {lines.Length}-line text: {e.Message}");
        FuzzFailure.Check(column >= 1 && column <= lines[line - 1].Length + 1, $"error names column {column} of a {lines[line - 1].Length}-character line: {e.Message}");
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using Stream stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Word();

    [GeneratedRegex(@"\Afuzz\.rdl:(\d+):(\d+): error: [^\n]+\z")]
    private static partial Regex ErrorLine();
}
