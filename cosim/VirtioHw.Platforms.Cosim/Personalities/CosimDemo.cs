using System.Diagnostics;
using VirtioHw.Drivers.Dmabuf;
using VirtioHw.Drivers.Ism;
using VirtioHw.Drivers.Ivshmem;
using VirtioHw.Firmware.Dmabuf;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Platforms.Cosim.Personalities;

/// <summary>
/// <c>virtiohw demo --platform rtl</c>: the steps of <see cref="IsmDemo"/>, <see cref="IvshmemDemo"/>
/// and <see cref="DmabufDemo"/>, unchanged, on RTL endpoints in co-simulation, with a timed
/// transcript. With a waveform path, every instance writes its own FST beside it; with
/// <c>stallAt</c>, every instance's host ports stop answering from that clock cycle on
/// (<see cref="CosimPlatformSettings.StallAtCycle"/>): a part that gets there fails with a <see cref="VirtioHw.Cosim.CosimException"/>.
/// </summary>
public static class CosimDemo
{
    /// <summary>The virtio-ism part: two devices of one domain; returns the exit code (0: every step as expected).</summary>
    public static async Task<int> RunIsmAsync(TextWriter output, string? trace = null, ulong? stallAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        Action<string> say = Transcript(output);
        say("rtl platform: two virtio-ism endpoints (ism_endpoint_top) in one communication domain");
        using var domain = new CosimIsmDomain(2);
        await using var platform = new CosimPlatform(domain.PlatformSettings(trace) with { StallAtCycle = stallAt });
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        await using IsmDevice a = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[0])), cancellationToken).ConfigureAwait(false);
        await using IsmDevice b = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[1])), cancellationToken).ConfigureAwait(false);
        int code = await IsmDemo.RunFlowAsync(say, functions, a, b, domain.Domain, cancellationToken).ConfigureAwait(false);
        SayCycles(say, platform);
        return code;
    }

    /// <summary>The ivshmem part: two peers play ping-pong; returns the exit code.</summary>
    public static async Task<int> RunIvshmemAsync(TextWriter output, string? trace = null, ulong? stallAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        Action<string> say = Transcript(output);
        say("rtl platform: two ivshmem peers (ivshmem_endpoint_top) sharing one memory object");
        if (!CosimPlatform.HasRtl(EndpointDescriptions.LoadBuiltin("ivshmem"), mmio: false))
        {
            say("skipped: this build's RTL has no ivshmem_endpoint_top yet");
            return 0;
        }

        using var group = new CosimIvshmemGroup(2);
        await using var platform = new CosimPlatform(group.PlatformSettings(trace) with { StallAtCycle = stallAt });
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using IvshmemDevice peer0 = IvshmemDevice.Open(functions.Find(group.Addresses[0]));
        using IvshmemDevice peer1 = IvshmemDevice.Open(functions.Find(group.Addresses[1]));
        int code = await IvshmemDemo.RunFlowAsync(say, peer0, peer1, cancellationToken).ConfigureAwait(false);
        SayCycles(say, platform);
        return code;
    }

    /// <summary>The virtio-dmabuf part: export and release; returns the exit code.</summary>
    public static async Task<int> RunDmabufAsync(TextWriter output, string? trace = null, ulong? stallAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        Action<string> say = Transcript(output);
        say("rtl platform: one virtio-dmabuf endpoint (dmabuf_endpoint_top)");
        EndpointDescription description = EndpointDescriptions.LoadBuiltin("virtio-dmabuf");
        if (!CosimPlatform.HasRtl(description, mmio: false))
        {
            say("skipped: this build's RTL has no dmabuf_endpoint_top yet");
            return 0;
        }

        var address = new PciAddress(0, 1, 0);
        await using var platform = new CosimPlatform(new CosimPlatformSettings
        {
            PciEndpoints = [new CosimEndpointPlacement(address, description)],
            Firmware = endpoint => new DmabufFirmware(endpoint.Hal, vmId: 7, [.. endpoint.Description.Queues.Select(q => q.MaxSize)]),
            Trace = trace,
            StallAtCycle = stallAt,
        });
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        await using DmabufDevice device = await DmabufDevice.OpenAsync(
            VirtioPciTransport.Open(functions.Find(address)), description.Virtio!.DeviceId, cancellationToken).ConfigureAwait(false);
        int code = await DmabufDemo.RunFlowAsync(say, device, (DmabufFirmware)platform.FindEndpoint(address)!.Firmware!, cancellationToken).ConfigureAwait(false);
        SayCycles(say, platform);
        return code;
    }

    private static Action<string> Transcript(TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        return line => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,9:F3} ms] {line}");
    }

    private static void SayCycles(Action<string> say, CosimPlatform platform)
    {
        foreach (CosimEndpoint endpoint in platform.Endpoints)
        {
            say($"{endpoint.Name}: {endpoint.Cycle} clock cycles");
        }
    }
}
