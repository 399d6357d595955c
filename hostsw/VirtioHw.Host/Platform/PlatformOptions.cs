using System.Collections.Frozen;

namespace VirtioHw.Host.Platforms;

/// <summary>
/// Settings handed to a platform when it is created: named parameters whose meaning belongs to
/// each platform (a socket path for <c>qemu</c>, a device for <c>sysfs</c>). Immutable; names
/// compare without regard to case.
/// </summary>
public sealed class PlatformOptions
{
    public PlatformOptions()
        : this([])
    {
    }

    /// <exception cref="ArgumentException">A name is empty or given twice.</exception>
    public PlatformOptions(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, string value) in parameters)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("a platform option has an empty name", nameof(parameters));
            }

            if (!copy.TryAdd(name, value))
            {
                throw new ArgumentException($"platform option '{name}' is given twice", nameof(parameters));
            }
        }

        Parameters = copy.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>No parameters.</summary>
    public static PlatformOptions Default { get; } = new();

    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>The value of parameter <paramref name="name"/>, or null when it was not given.</summary>
    public string? GetParameter(string name) => Parameters.GetValueOrDefault(name);

    /// <summary>Builds options from <c>name=value</c> items, as a command line gives them.</summary>
    /// <exception cref="FormatException">An item has no <c>=</c> or an empty name.</exception>
    public static PlatformOptions Parse(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var parameters = new List<KeyValuePair<string, string>>();
        foreach (string item in items)
        {
            int split = item.IndexOf('=', StringComparison.Ordinal);
            if (split <= 0)
            {
                throw new FormatException($"platform option '{item}' is not of the form name=value");
            }

            parameters.Add(new(item[..split].Trim(), item[(split + 1)..]));
        }

        return new PlatformOptions(parameters);
    }
}
