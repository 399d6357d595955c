using System.Text;
using VirtioHw.EpGen;
using VirtioHw.Model;

// epgen --sv DIR NAME-OR-PATH...
// Writes DIR/<name>_ep_pkg.sv for each endpoint description (a built-in name such as virtio-ism,
// or a path), rewriting a file only when its text changes.
const string Usage = "usage: epgen --sv DIR DESCRIPTION...";

string? svDir = null;
var inputs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--sv" when i + 1 < args.Length: svDir = args[++i]; break;
        case var a when a.StartsWith('-'):
            Console.Error.WriteLine($"epgen: unknown option '{a}'; {Usage}");
            return 2;
        default: inputs.Add(args[i]); break;
    }
}
if (svDir is null || inputs.Count == 0)
{
    Console.Error.WriteLine($"epgen: {Usage}");
    return 2;
}

foreach (string input in inputs)
{
    EndpointDescription description;
    try
    {
        description = EndpointDescriptions.Resolve(input);
    }
    catch (EndpointDescriptionException e)
    {
        Console.Error.WriteLine($"epgen: {e.Message}");
        return 1;
    }
    string path = Path.Combine(svDir, EndpointPackage.PackageName(description) + ".sv");
    string text = EndpointPackage.Write(description, input);
    if (File.Exists(path) && File.ReadAllText(path, Encoding.UTF8) == text) continue;
    Directory.CreateDirectory(svDir);
    File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    Console.WriteLine($"epgen: wrote {path}");
}
return 0;
