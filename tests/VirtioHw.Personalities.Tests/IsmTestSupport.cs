using System.Buffers.Binary;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Firmware.Ism;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Personalities.Tests;

/// <summary>Raw commands for tests that look at ack bytes and reply layouts themselves.</summary>
internal static class IsmRaw
{
    public static byte[] Command(byte cls, byte command, params ulong[] fields)
    {
        var request = new byte[2 + (8 * fields.Length)];
        request[0] = cls;
        request[1] = command;
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2 + (8 * i)), fields[i]);
        }

        return request;
    }

    public static ulong Field(byte[] reply, int index) => BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1 + (8 * index)));

    /// <summary>The next event of <paramref name="type"/> the device received.</summary>
    public static Task<IsmEvent> Next(this IsmDevice device, IsmEventType type, CancellationToken cancellationToken) =>
        device.WaitForEventAsync(e => e.Type == type, cancellationToken);

    /// <summary>Every event already delivered to the device's driver, without waiting for more.</summary>
    public static List<IsmEvent> Drain(this IsmDevice device)
    {
        var events = new List<IsmEvent>();
        while (device.TryReadEvent(out IsmEvent ev))
        {
            events.Add(ev);
        }

        return events;
    }
}

/// <summary>Where the domain of a test's devices lives: in the test process, or in a domain server the devices reach over its socket.</summary>
public enum DomainMode
{
    InProcess,
    Server,
}

/// <summary>
/// An <see cref="IsmBench"/> in either <see cref="DomainMode"/>, so one suite checks both: in
/// server mode a <see cref="DomainServer"/> on a socket of its own holds the domain, and the
/// devices' firmware and chunk windows go through <see cref="RemoteIsmDomain"/> and the memfd.
/// </summary>
internal sealed class ModeBench : IAsyncDisposable
{
    private readonly DomainServer? _server;
    private readonly string? _directory;

    private ModeBench(IsmBench bench, DomainServer? server, string? directory)
    {
        Bench = bench;
        _server = server;
        _directory = directory;
    }

    public IsmBench Bench { get; }

    public IReadOnlyList<IsmDevice> Devices => Bench.Devices;

    public VirtioHw.Model.ModelPlatform Platform => Bench.Platform;

    /// <summary>The domain itself, wherever it is held, for its counters.</summary>
    public IsmDomain Domain => _server?.Domain ?? Bench.Domain.Domain;

    /// <param name="mode">Where the domain lives.</param>
    /// <param name="devices">How many ISM devices.</param>
    /// <param name="cancellationToken">Stops the bring-up.</param>
    /// <param name="memory">Bytes of domain memory; null for what one endpoint maps.</param>
    public static async Task<ModeBench> StartAsync(DomainMode mode, int devices, CancellationToken cancellationToken, ulong? memory = null)
    {
        if (mode == DomainMode.InProcess)
        {
            return new ModeBench(await IsmBench.StartAsync(new IsmModelDomain(devices, memory: memory), cancellationToken), null, null);
        }

        string directory = Directory.CreateTempSubdirectory("vhwp-").FullName;
        var settings = new DomainServerSettings { SocketPath = Path.Combine(directory, "d.sock") };
        var server = new DomainServer(memory is { } bytes ? settings with { MemorySize = (long)bytes } : settings);
        try
        {
            return new ModeBench(await IsmBench.StartAsync(IsmModelDomain.Join(settings.SocketPath, devices), cancellationToken), server, directory);
        }
        catch
        {
            server.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Bench.DisposeAsync();
        _server?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
