using System.Buffers.Binary;
using VirtioHw.Cosim;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Firmware.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;
using VirtioHw.Wire;

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

    /// <summary>An alloc with <paramref name="buffer"/>, reply room for 16 chunks; the whole reply, ack first.</summary>
    public static async Task<byte[]> AllocRawAsync(this IsmDevice device, ulong size, ulong buffer, CancellationToken cancellationToken)
    {
        (_, byte[] reply) = await device.SendAsync(Command(IsmWire.ClassAlloc, IsmWire.AllocRegion, size, buffer), 1 + IsmWire.ChunkReplyHeaderSize + (8 * 16), cancellationToken);
        return reply;
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

/// <summary>What the devices of a per-statement suite are: the C# model, or the RTL endpoints in co-simulation.</summary>
public enum PlatformKind
{
    Model,
    Cosim,
}

/// <summary>
/// ISM devices of one domain, opened with the host stack, on a <see cref="PlatformKind"/> and in a
/// <see cref="DomainMode"/>, so one suite checks every statement on the model and on the RTL: on
/// the model an <see cref="IsmBench"/>, in server mode with a <see cref="DomainServer"/> on a
/// socket of its own holding the domain (the devices' firmware and chunk windows then go through
/// <see cref="RemoteIsmDomain"/> and the memfd); on the RTL <c>ism_endpoint_top</c> instances of a
/// <see cref="CosimPlatform"/> (<see cref="CosimIsmDomain"/>), ignored with the reason when the
/// co-simulation libraries are not built.
/// </summary>
internal sealed class ModeBench : IAsyncDisposable
{
    private readonly Func<ValueTask> _dispose;
    private readonly Action<ulong, byte[]> _write;

    private ModeBench(Platform platform, IReadOnlyList<IsmDevice> devices, IsmDomain domain, IReadOnlyList<PciAddress> addresses, Action<ulong, byte[]> write, Func<ValueTask> dispose)
    {
        Platform = platform;
        Devices = devices;
        Domain = domain;
        Addresses = addresses;
        _write = write;
        _dispose = dispose;
    }

    public IReadOnlyList<IsmDevice> Devices { get; }

    public Platform Platform { get; }

    /// <summary>The domain itself, wherever it is held, for its counters.</summary>
    public IsmDomain Domain { get; }

    /// <summary>Where the devices sit, in devid order.</summary>
    public IReadOnlyList<PciAddress> Addresses { get; }

    /// <inheritdoc cref="StartAsync(PlatformKind, DomainMode, int, CancellationToken, ulong?, IsmDeviceSettings?, bool)"/>
    public static Task<ModeBench> StartAsync(DomainMode mode, int devices, CancellationToken cancellationToken, ulong? memory = null) =>
        StartAsync(PlatformKind.Model, mode, devices, cancellationToken, memory);

    /// <param name="kind">Model or RTL.</param>
    /// <param name="mode">Where the domain lives; the RTL runs with the domain in process.</param>
    /// <param name="devices">How many ISM devices.</param>
    /// <param name="cancellationToken">Stops the bring-up.</param>
    /// <param name="memory">Bytes of domain memory; null for what one endpoint maps.</param>
    /// <param name="driver">How the drivers are opened; null for the defaults.</param>
    /// <param name="deviceMemory">Whether the devices offer VIRTIO_ISM_F_DEV_MEM; only with the domain in process.</param>
    public static async Task<ModeBench> StartAsync(
        PlatformKind kind, DomainMode mode, int devices, CancellationToken cancellationToken, ulong? memory = null, IsmDeviceSettings? driver = null, bool deviceMemory = true)
    {
        driver ??= new IsmDeviceSettings();
        Assert.That(deviceMemory || mode == DomainMode.InProcess, "a served domain's devices always offer DEV_MEM");
        if (kind == PlatformKind.Cosim)
        {
            Assert.That(mode, Is.EqualTo(DomainMode.InProcess), "the RTL suites run with the domain in process");
            return await StartCosimAsync(devices, memory, driver, deviceMemory, cancellationToken);
        }

        if (mode == DomainMode.InProcess)
        {
            IsmBench bench = await IsmBench.StartAsync(new IsmModelDomain(devices, memory: memory, deviceMemory: deviceMemory), driver, cancellationToken);
            return new ModeBench(bench.Platform, bench.Devices, bench.Domain.Domain, bench.Domain.Addresses, (at, bytes) => bench.Domain.Memory.Write(at, bytes), bench.DisposeAsync);
        }

        string directory = Directory.CreateTempSubdirectory("vhwp-").FullName;
        var settings = new DomainServerSettings { SocketPath = Path.Combine(directory, "d.sock") };
        var server = new DomainServer(memory is { } bytes ? settings with { MemorySize = (long)bytes } : settings);
        try
        {
            IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(settings.SocketPath, devices), driver, cancellationToken);
            return new ModeBench(bench.Platform, bench.Devices, server.Domain, bench.Domain.Addresses, (at, bytes) => bench.Domain.Memory.Write(at, bytes), async () =>
            {
                await bench.DisposeAsync();
                server.Dispose();
                Directory.Delete(directory, recursive: true);
            });
        }
        catch
        {
            server.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static async Task<ModeBench> StartCosimAsync(int devices, ulong? memory, IsmDeviceSettings driver, bool deviceMemory, CancellationToken cancellationToken)
    {
        var domain = new CosimIsmDomain(devices, memory: memory, deviceMemory: deviceMemory);
        CosimPlatform platform;
        try
        {
            platform = new CosimPlatform(domain.PlatformSettings());
        }
        catch (CosimLibraryException e)
        {
            domain.Dispose();
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }

        var opened = new List<IsmDevice>();
        async ValueTask DisposeAll()
        {
            foreach (IsmDevice device in opened)
            {
                await device.DisposeAsync();
            }

            await platform.DisposeAsync();
            domain.Dispose();
        }

        try
        {
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            foreach (PciAddress address in domain.Addresses)
            {
                opened.Add(await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(address)), driver, cancellationToken));
            }
        }
        catch
        {
            await DisposeAll();
            throw;
        }

        return new ModeBench(platform, opened, domain.Domain, domain.Addresses, (at, bytes) => domain.Memory.Write(at, bytes), DisposeAll);
    }

    /// <summary>Sets every byte of the domain memory to <paramref name="value"/> behind the devices' backs, as stale data would be.</summary>
    public void FillDomainMemory(byte value)
    {
        byte[] block = new byte[1 << 20];
        Array.Fill(block, value);
        ulong length = Domain.Memory.Length;
        for (ulong at = 0; at < length; at += (ulong)block.Length)
        {
            _write(at, length - at >= (ulong)block.Length ? block : block[..(int)(length - at)]);
        }
    }

    public ValueTask DisposeAsync() => _dispose();
}
