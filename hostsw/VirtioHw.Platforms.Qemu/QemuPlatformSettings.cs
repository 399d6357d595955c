using System.Globalization;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// How a <see cref="QemuPlatform"/> starts its QEMU: which binary, how much guest RAM, which
/// devices, and how long to wait. Immutable once built.
/// </summary>
public sealed class QemuPlatformSettings
{
    /// <summary>The QEMU binary the kit drives, found on PATH unless a path is given.</summary>
    public const string DefaultExecutable = "qemu-system-x86_64";

    private static readonly string[] KnownOptions = ["qemu", "memory", "args", "rng", "blk", "ivshmem", "ivshmem-doorbell", "vectors"];

    /// <summary>Defaults: q35 with 256 MiB of RAM and no devices of its own.</summary>
    public static QemuPlatformSettings Default { get; } = new();

    /// <summary>A binary name looked up on PATH, or a path. Default <see cref="DefaultExecutable"/>.</summary>
    public string Executable { get; init; } = DefaultExecutable;

    /// <summary>Guest RAM in MiB, 64 to 2048 (the RAM stays below the 32-bit PCI window). Default 256.</summary>
    public int MemoryMiB { get; init; } = 256;

    /// <summary>
    /// Further QEMU arguments, typically devices from <see cref="QemuDevices"/>. The platform adds
    /// the machine, accelerator, qtest and memory options itself.
    /// </summary>
    public IReadOnlyList<string> DeviceArguments { get; init; } = [];

    /// <summary>How long QEMU may take to connect its qtest socket. Default 30 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one qtest command may take before QEMU is declared hung. Default 10 s.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the MSI mailbox in guest RAM is looked at while vectors are live. Default 1 ms.</summary>
    public TimeSpan MsiPollInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Settings from the <c>--platform qemu</c> options: <c>qemu=PATH</c>, <c>memory=MIB</c>,
    /// <c>args="QEMU ARGUMENTS"</c> (split at spaces), <c>rng=on</c>, <c>blk=IMAGE</c>,
    /// <c>ivshmem=FILE</c> (ivshmem-plain, sized by the file), <c>ivshmem-doorbell=SOCKET</c>
    /// with <c>vectors=N</c> (default 1).
    /// </summary>
    /// <exception cref="ArgumentException">An option is unknown or its value unusable; one line.</exception>
    public static QemuPlatformSettings FromOptions(PlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (string name in options.Parameters.Keys)
        {
            if (!KnownOptions.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"unknown qemu platform option '{name}'; known: {string.Join(", ", KnownOptions)}");
            }
        }

        var arguments = new List<string>();
        if (options.GetParameter("rng") is { } rng)
        {
            if (ParseSwitch("rng", rng))
            {
                arguments.AddRange(QemuDevices.VirtioRng());
            }
        }

        if (options.GetParameter("blk") is { } image)
        {
            arguments.AddRange(QemuDevices.VirtioBlock(RequireFile("blk", image)));
        }

        if (options.GetParameter("ivshmem") is { } backing)
        {
            long size = new FileInfo(RequireFile("ivshmem", backing)).Length;
            if (size == 0 || !long.IsPow2(size))
            {
                throw new ArgumentException($"ivshmem={backing}: the file is {size} bytes; ivshmem needs a power of two");
            }

            arguments.AddRange(QemuDevices.IvshmemPlain(backing, size));
        }

        int vectors = ParseInt("vectors", options.GetParameter("vectors") ?? "1", 1, 64);
        if (options.GetParameter("ivshmem-doorbell") is { } socket)
        {
            arguments.AddRange(QemuDevices.IvshmemDoorbell(socket, vectors, id: "ivshmem1"));
        }

        if (options.GetParameter("args") is { } extra)
        {
            arguments.AddRange(extra.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return new QemuPlatformSettings
        {
            Executable = options.GetParameter("qemu") ?? DefaultExecutable,
            MemoryMiB = ParseInt("memory", options.GetParameter("memory") ?? "256", 64, 2048),
            DeviceArguments = arguments,
        };
    }

    /// <summary>Throws with a one-line message naming the first setting out of range.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Executable))
        {
            throw new ArgumentException("the QEMU executable is empty");
        }

        if (MemoryMiB is < 64 or > 2048)
        {
            throw new ArgumentException($"guest RAM of {MemoryMiB} MiB is outside 64 to 2048");
        }

        if (StartTimeout <= TimeSpan.Zero || CommandTimeout <= TimeSpan.Zero || MsiPollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("QEMU timeouts and the MSI poll interval must be positive");
        }
    }

    private static bool ParseSwitch(string name, string value) => value.ToUpperInvariant() switch
    {
        "ON" or "TRUE" or "YES" or "1" => true,
        "OFF" or "FALSE" or "NO" or "0" => false,
        _ => throw new ArgumentException($"{name}={value}: expected on or off"),
    };

    private static int ParseInt(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed >= min && parsed <= max
            ? parsed
            : throw new ArgumentException($"{name}={value}: expected a whole number from {min} to {max}");

    private static string RequireFile(string name, string path) =>
        File.Exists(path) ? Path.GetFullPath(path) : throw new ArgumentException($"{name}={path}: no such file");
}
