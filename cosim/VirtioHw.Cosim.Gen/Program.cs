using System.Text;
using VirtioHw.Cosim.Gen;

// cosim-gen --shim build/cosim --cs cosim/VirtioHw.Cosim/gen build/cosim/<top>/<top>.xml ...
// Writes build/cosim/<top>/<top>_shim.cpp and <cs>/<Top>.g.cs per top, and <cs>/CosimTops.g.cs.
// A file is rewritten only when its text changes, so make rebuilds only what depends on a change.
const string Regenerate = "make cosim";
const string Usage = "usage: cosim-gen --shim DIR --cs DIR TOP.xml...";

string? shimDir = null, csDir = null;
var xmls = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--shim" when i + 1 < args.Length: shimDir = args[++i]; break;
        case "--cs" when i + 1 < args.Length: csDir = args[++i]; break;
        case var a when a.StartsWith('-'):
            Console.Error.WriteLine($"cosim-gen: unknown option '{a}'; {Usage}");
            return 2;
        default: xmls.Add(args[i]); break;
    }
}
if (shimDir is null || csDir is null || xmls.Count == 0)
{
    Console.Error.WriteLine($"cosim-gen: {Usage}");
    return 2;
}

var tops = new List<TopModule>();
foreach (string xml in xmls)
{
    try
    {
        TopModule top = VerilatorXml.Load(xml);
        WriteIfChanged(Path.Combine(shimDir, top.Name, top.Name + "_shim.cpp"), ShimWriter.Write(top, Regenerate), announce: false);
        tops.Add(top);
    }
    catch (GenException e)
    {
        Console.Error.WriteLine($"cosim-gen: {xml}: {e.Message}");
        return 1;
    }
}

tops.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
Directory.CreateDirectory(csDir);
var written = new HashSet<string>(StringComparer.Ordinal);
foreach (TopModule top in tops)
{
    string path = Path.Combine(csDir, Naming.Pascal(top.Name) + ".g.cs");
    WriteIfChanged(path, BindingWriter.Write(top, Regenerate), announce: true);
    written.Add(Path.GetFullPath(path));
}
string registry = Path.Combine(csDir, "CosimTops.g.cs");
WriteIfChanged(registry, BindingWriter.WriteRegistry(tops, Regenerate), announce: true);
written.Add(Path.GetFullPath(registry));
// The folder holds only generated bindings: one of a top that no longer exists goes.
foreach (string stale in Directory.GetFiles(csDir, "*.g.cs").Where(f => !written.Contains(Path.GetFullPath(f))))
{
    File.Delete(stale);
    Console.WriteLine($"cosim: binding removed: {stale}");
}
return 0;

static void WriteIfChanged(string path, string text, bool announce)
{
    if (File.Exists(path) && File.ReadAllText(path, Encoding.UTF8) == text) return;
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    // Bindings are committed: say so when one changes, so that it gets committed with its RTL.
    if (announce) Console.WriteLine($"cosim: binding updated: {path}");
}
