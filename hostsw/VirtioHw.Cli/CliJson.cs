using System.Text.Json;

namespace VirtioHw.Cli;

/// <summary>
/// <c>--json</c> output: one JSON document on standard output, indented, ending with a newline.
/// Written with <see cref="Utf8JsonWriter"/> so each command's shape is spelled out where it is made.
/// </summary>
internal static class CliJson
{
    public static void Write(Action<Utf8JsonWriter> document)
    {
        ArgumentNullException.ThrowIfNull(document);
        using Stream stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            document(writer);
        }

        stdout.WriteByte((byte)'\n');
    }
}
