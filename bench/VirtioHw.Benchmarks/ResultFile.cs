using System.Text.Json;
using System.Text.Json.Serialization;

namespace VirtioHw.Benchmarks;

/// <summary>
/// What one harness measured, as the report writer reads it: named numbers and named notes. The C++,
/// Python and Icarus harnesses write the same JSON shape, so every figure of a table comes from a file
/// of this form in the results folder.
/// </summary>
public sealed class ResultFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The harness, e.g. <c>cosim-native</c>; also the file name.</summary>
    public required string Benchmark { get; init; }

    /// <summary>How the figures were taken (tool, job settings), one line.</summary>
    public required string Producer { get; init; }

    [JsonPropertyName("values")]
    public Dictionary<string, double> Values { get; init; } = [];

    [JsonPropertyName("notes")]
    public Dictionary<string, string> Notes { get; init; } = [];

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, Benchmark + ".json"), JsonSerializer.Serialize(this, Json));
    }

    /// <summary>Every result file in <paramref name="directory"/>, by benchmark name.</summary>
    public static Dictionary<string, ResultFile> LoadAll(string directory)
    {
        var all = new Dictionary<string, ResultFile>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return all;
        }

        foreach (string path in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            ResultFile? file;
            try
            {
                file = JsonSerializer.Deserialize<ResultFile>(File.ReadAllText(path), Json);
            }
            catch (JsonException e)
            {
                throw new UserErrorException($"{path}: not a result file ({e.Message})");
            }

            if (file is null)
            {
                throw new UserErrorException($"{path}: empty result file");
            }

            all[file.Benchmark] = file;
        }

        return all;
    }
}

/// <summary>A mistake of whoever ran the command: one line on stderr, exit code 2.</summary>
public sealed class UserErrorException : Exception
{
    public UserErrorException(string message) : base(message) { }

    public UserErrorException() { }

    public UserErrorException(string message, Exception inner) : base(message, inner) { }
}
