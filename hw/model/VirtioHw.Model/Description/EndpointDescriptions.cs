using System.Reflection;

namespace VirtioHw.Model;

/// <summary>
/// Finds, reads and validates endpoint descriptions: the built-in ones of hw/endpoints/ (carried
/// inside this assembly) by name, or any file by path. Every error is one line naming the file and
/// the key at fault.
/// </summary>
public static class EndpointDescriptions
{
    private const string ResourcePrefix = "endpoints/";
    private const string Extension = ".yaml";

    /// <summary>Names of the built-in descriptions, such as <c>virtio-ism</c>, in ordinal order.</summary>
    public static IReadOnlyList<string> BuiltinNames { get; } =
        [.. typeof(EndpointDescriptions).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(Extension, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^Extension.Length])
            .Order(StringComparer.Ordinal)];

    /// <summary>A built-in description by name.</summary>
    /// <exception cref="EndpointDescriptionException">No built-in description has that name.</exception>
    public static EndpointDescription LoadBuiltin(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Assembly assembly = typeof(EndpointDescriptions).Assembly;
        using Stream? stream = assembly.GetManifestResourceStream(ResourcePrefix + name + Extension)
            ?? throw new EndpointDescriptionException(
                $"no built-in endpoint description '{name}' (built-in: {string.Join(", ", BuiltinNames)})");
        using var reader = new StreamReader(stream);
        return Parse($"hw/endpoints/{name}{Extension}", reader.ReadToEnd());
    }

    /// <summary>A description from a file.</summary>
    public static EndpointDescription Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EndpointDescriptionException($"cannot read endpoint description {path}: {e.Message}", e);
        }

        return Parse(path, text);
    }

    /// <summary>A file when <paramref name="nameOrPath"/> looks like a path (a '/' or a .yaml ending), otherwise a built-in name.</summary>
    public static EndpointDescription Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        bool isPath = nameOrPath.Contains('/', StringComparison.Ordinal)
            || nameOrPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)
            || nameOrPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        return isPath ? Load(nameOrPath) : LoadBuiltin(nameOrPath);
    }

    /// <summary>Reads and validates the YAML text of a description; <paramref name="source"/> names it in messages.</summary>
    public static EndpointDescription Parse(string source, string yaml)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(yaml);
        EndpointDescription description = DescriptionReader.Read(source, yaml);
        DescriptionRules.Check(description);
        return description;
    }

    /// <summary>Checks a description built or changed in code against the same rules.</summary>
    public static void Validate(EndpointDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        DescriptionRules.Check(description);
    }
}
