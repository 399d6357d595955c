namespace VirtioHw.Host.Platforms;

/// <summary>
/// Chooses a platform by name. Each platform registers a factory once at start-up; the command
/// line and the tests then create platforms by name with <see cref="Create"/>.
/// </summary>
public static class PlatformFactory
{
    private static readonly Lock s_sync = new();
    private static readonly Dictionary<string, Func<PlatformOptions, Platform>> s_factories =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The platforms this kit defines, whether or not this build has registered them.</summary>
    public static IReadOnlyList<string> WellKnownNames { get; } = ["model", "rtl", "qemu", "sysfs"];

    /// <summary>The names registered so far, in ordinal order.</summary>
    public static IReadOnlyList<string> Available
    {
        get
        {
            lock (s_sync)
            {
                string[] names = [.. s_factories.Keys];
                Array.Sort(names, StringComparer.Ordinal);
                return names;
            }
        }
    }

    /// <summary>Makes <paramref name="create"/> the way to build the platform called <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">The name is already registered.</exception>
    public static void Register(string name, Func<PlatformOptions, Platform> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        lock (s_sync)
        {
            if (!s_factories.TryAdd(name, create))
            {
                throw new InvalidOperationException($"platform '{name}' is already registered");
            }
        }
    }

    /// <summary>Creates the platform registered as <paramref name="name"/>; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">
    /// No platform of that name is registered. The message is one line naming the platforms that are.
    /// </exception>
    public static Platform Create(string name, PlatformOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        Func<PlatformOptions, Platform>? create;
        lock (s_sync)
        {
            s_factories.TryGetValue(name, out create);
        }

        if (create is null)
        {
            string available = Available.Count == 0 ? "none" : string.Join(", ", Available);
            bool known = WellKnownNames.Contains(name, StringComparer.OrdinalIgnoreCase);
            throw new ArgumentException(known
                ? $"platform '{name}' is not available in this build; available: {available}"
                : $"unknown platform '{name}'; available: {available}");
        }

        return create(options ?? PlatformOptions.Default);
    }
}
