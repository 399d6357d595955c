using VirtioHw.Cosim;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Co-simulation stalls under the host stack: two virtio-ism RTL endpoints of one domain, the
/// first of which stops answering (its host ports, its firmware port or both held without a
/// request, <see cref="CosimEndpoint.Stall"/>) at a cycle the input chooses, while the driver
/// allocates, writes and reads regions on it. Every operation on the stalled device completes or
/// fails with one line naming it; none waits forever; the other device of the domain still
/// allocates, writes and reads back, and its firmware does not fail.
/// </summary>
public sealed class CosimStallTarget : FuzzTarget
{
    private const uint TimeoutCycles = 2000;
    private const string StalledName = "virtio-ism-00.01.0: ";
    private static readonly TimeSpan OperationLimit = TimeSpan.FromSeconds(30);

    /// <summary>The driver's command timeout here: well inside <see cref="OperationLimit"/>.</summary>
    private static readonly IsmDeviceSettings Driver = new() { CommandTimeout = TimeSpan.FromSeconds(5) };
    private static readonly StalledPorts[] Ports = [StalledPorts.Host, StalledPorts.Firmware, StalledPorts.Host | StalledPorts.Firmware];

    private readonly Lazy<string?> _unavailable = new(Probe);

    public override string Name => "cosim-stall";

    public override string Description => "an RTL endpoint that stops answering under the ISM driver: one line naming it, no wait forever, the other device goes on";

    public override string? Unavailable => _unavailable.Value;

    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(120);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 64);

    public override void Execute(byte[] input) => ExecuteAsync(new FuzzInput(input)).GetAwaiter().GetResult();

    private async Task ExecuteAsync(FuzzInput choices)
    {
        using var domain = new CosimIsmDomain(2);
        await using var platform = new CosimPlatform(domain.PlatformSettings() with { TimeoutCycles = TimeoutCycles });
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using var limit = new CancellationTokenSource(OperationLimit);
        IsmDevice a = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[0])), Driver, limit.Token);
        await using IsmDevice b = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[1])), Driver, limit.Token);
        CosimEndpoint stalled = platform.FindEndpoint(domain.Addresses[0])!;
        stalled.Stall(choices.Choose(Ports), stalled.Cycle + (ulong)choices.Choose(30_000));
        CountFault();

        int operations = 1 + choices.Choose(4);
        for (int i = 0; i < operations; i++)
        {
            ulong size = (ulong)(1 + choices.Choose(4)) << 16;
            await Survive(async token =>
            {
                IsmRegion region = await a.AllocateAsync(size, token);
                byte[] data = [(byte)i, 0x5a, 0xa5];
                region.Write(size - 3, data);
                var back = new byte[3];
                region.Read(size - 3, back);
                FuzzFailure.Check(back.AsSpan().SequenceEqual(data), "a region of the device read back other bytes than were written before it stalled");
            });
        }

        await Survive(async _ => await a.DisposeAsync());

        IsmRegion other = await b.AllocateAsync(65536, limit.Token);
        byte[] message = "still here"u8.ToArray();
        other.Write(0, message);
        var read = new byte[message.Length];
        other.Read(0, read);
        FuzzFailure.Check(read.AsSpan().SequenceEqual(message), "the other device of the domain no longer reaches its region");
        FuzzFailure.Check(platform.FindEndpoint(domain.Addresses[1])!.FirmwareTask?.IsFaulted != true, "the other device's firmware failed");
    }

    /// <summary>An operation on the stalled device: done, or one line naming it; never a wait past the limit.</summary>
    private static async Task Survive(Func<CancellationToken, Task> operation)
    {
        using var limit = new CancellationTokenSource(OperationLimit);
        try
        {
            await operation(limit.Token);
        }
        catch (CosimException e)
        {
            FuzzFailure.Check(e.Message.StartsWith(StalledName, StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
                $"the stalled device's error is not one line naming it: {e.Message}");
        }
        catch (IsmException e)
        {
            // Needs reset, or no answer within the driver's command timeout.
            FuzzFailure.Check(e.Message.Contains("00:01.0", StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
                $"the driver's error is not one line naming the device: {e.Message}");
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new FuzzFailure($"an operation on the stalled device waited {OperationLimit.TotalSeconds:0} s: the driver neither finished nor failed");
        }
    }

    private static string? Probe()
    {
        try
        {
            using var domain = new CosimIsmDomain(1);
            new CosimPlatform(domain.PlatformSettings()).DisposeAsync().AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (CosimLibraryException e)
        {
            return $"{e.Message} (the co-simulation libraries are built by make cosim)";
        }
    }
}
