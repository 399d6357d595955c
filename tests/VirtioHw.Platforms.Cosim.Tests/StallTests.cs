using VirtioHw.Cosim;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>
/// An RTL instance that stops responding (its ports held without a request by
/// <see cref="CosimEndpoint.Stall"/>) under the host stack: every operation that needs it fails
/// with one line naming it after the bus timeout, nothing hangs, and the other instances go on.
/// </summary>
[CancelAfter(120_000)]
public sealed class StallTests
{
    private const string StoppedResponding = "the RTL stopped responding";

    [Test]
    public async Task IsmAllocate_OnAStalledInstance_FailsWithACosimException_AndTheOtherDeviceKeepsWorking(CancellationToken cancellationToken)
    {
        using var domain = new CosimIsmDomain(2);
        await using CosimPlatform platform = Rtl.Build(() => new CosimPlatform(domain.PlatformSettings() with { TimeoutCycles = 2000 }));
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        IsmDevice a = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[0])), cancellationToken);
        await using IsmDevice b = await IsmDevice.OpenAsync(VirtioPciTransport.Open(functions.Find(domain.Addresses[1])), cancellationToken);
        CosimEndpoint stalled = platform.FindEndpoint(domain.Addresses[0])!;

        stalled.Stall(StalledPorts.Host);
        var failure = Assert.ThrowsAsync<CosimException>(async () => await a.AllocateAsync(65536, cancellationToken))!;
        // The failed access alone: the instance's firmware port still runs, so its own traffic adds cycles to the instance.
        ulong spent = stalled.FailedAccessCycles ?? 0;

        IsmRegion region = await b.AllocateAsync(65536, cancellationToken);
        byte[] message = "still here"u8.ToArray();
        region.Write(0, message);
        var back = new byte[message.Length];
        region.Read(0, back);
        var disposing = Assert.ThrowsAsync<CosimException>(async () => await a.DisposeAsync())!;

        Assert.Multiple(() =>
        {
            Assert.That(failure.Message, Does.StartWith($"virtio-ism-00.01.0: {StoppedResponding}: write of BAR0"));
            Assert.That(failure.Message, Does.Not.Contain("\n"));
            Assert.That(spent, Is.InRange(2000ul, 2000ul + 100), "one access gave up after the timeout; nothing retried");
            Assert.That(back, Is.EqualTo(message), "the other device of the domain still allocates and reaches its region");
            Assert.That(platform.FindEndpoint(domain.Addresses[1])!.FirmwareTask!.IsFaulted, Is.False);
            Assert.That(disposing.Message, Is.EqualTo(failure.Message), "resetting the dead device fails at once with the same line");
        });
    }

    [Test]
    public void Enumeration_WithAStalledFunction_FailsOnItsConfigRead()
    {
        CosimPlatform platform = Rtl.Create(new CosimPlatformSettings
        {
            PciEndpoints = [new CosimEndpointPlacement(Rtl.Ism, Rtl.IsmDescription)],
            Firmware = _ => null,
            TimeoutCycles = 500,
            StallAtCycle = 0,
        });
        try
        {
            var e = Assert.Throws<CosimException>(() => PciBus.Scan(platform))!;
            Assert.That(e.Message, Does.StartWith($"virtio-ism-00.01.0: {StoppedResponding}: config read of config space 0x0 did not complete within 500 cycles"));
        }
        finally
        {
            platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [Test]
    public async Task FirmwarePort_Stalled_FailsTheFirmware_AndTheHostThenFailsAtOnce(CancellationToken cancellationToken)
    {
        await using CosimPlatform platform = Rtl.Build(() => new CosimPlatform(new CosimPlatformSettings
        {
            PciEndpoints = [new CosimEndpointPlacement(Rtl.Ism, Rtl.IsmDescription)],
            TimeoutCycles = 500,
        }));
        CosimEndpoint endpoint = platform.FindEndpoint(Rtl.Ism)!;
        PciFunction ism = PciBus.Scan(platform).Find(Rtl.Ism);
        Model.SharedMemoryRegion notify = Rtl.IsmDescription.SharedMemory.Single(r => r.Kind == Model.SharedMemoryKind.Notify);

        endpoint.Stall(StalledPorts.Firmware);
        platform.Write32(ism.GetBar(notify.Bar)!.Address + notify.Offset, 1);   // an event: the firmware wakes and reads it
        Exception? firmware = await endpoint.FirmwareTask!.ContinueWith(t => t.Exception?.InnerException, cancellationToken);

        var host = Assert.Throws<CosimException>(() => platform.ReadConfig32(Rtl.Ism, 0))!;
        Assert.Multiple(() =>
        {
            Assert.That(firmware, Is.InstanceOf<CosimException>());
            Assert.That(firmware!.Message, Does.StartWith($"virtio-ism-00.01.0: {StoppedResponding}: firmware CSR read of the firmware CSR port"));
            Assert.That(host.Message, Is.EqualTo(firmware.Message), "the failed instance fails every later call with the same line");
        });
    }

    /// <summary>The ISM demo with the host ports stopping at points through its whole run: each run ends, done or with the one line.</summary>
    [Test]
    public async Task IsmDemo_StalledAtAnyPoint_EndsWithACosimException_NeverHangs(CancellationToken cancellationToken)
    {
        var outcomes = new List<string>();
        for (ulong stallAt = 9_000; stallAt <= 13_000; stallAt += 500)
        {
            var transcript = new StringWriter();
            try
            {
                int code = await Rtl.BuildAsync(() => CosimDemo.RunIsmAsync(transcript, stallAt: stallAt, cancellationToken: cancellationToken));
                outcomes.Add($"{stallAt}: exit {code}");
                Assert.That(code, Is.Zero, transcript.ToString());
                Assert.That(transcript.ToString(), Does.Contain($"B read \"{IsmDemo.Message}\""), $"stalled at {stallAt}");
            }
            catch (CosimException e)
            {
                outcomes.Add($"{stallAt}: {e.Message}");
                Assert.That(e.Message, Does.Match($"^virtio-ism-00\\.0[12]\\.0: {StoppedResponding}: "), $"stalled at {stallAt}");
            }
        }

        TestContext.Out.WriteLine(string.Join(Environment.NewLine, outcomes));
        Assert.That(outcomes.Count(o => o.Contains(StoppedResponding, StringComparison.Ordinal)), Is.GreaterThan(1), "the stall points reach into the run");
    }

    [Test]
    public void Demo_InARealProcess_WithAStall_IsOneLineAndExitCode3()
    {
        Virtiohw.Result r = Virtiohw.Run(new Dictionary<string, string>(), "demo", "--platform", "rtl", "--stall-at", "12000");
        if (r.Stderr.Contains("make cosim", StringComparison.Ordinal))
        {
            Assert.Ignore($"co-simulation: {r.Stderr.Trim()}");
        }

        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3), r.Stdout + r.Stderr);
            Assert.That(r.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(r.Stderr, Does.StartWith($"virtiohw: virtio-ism-00.01.0: {StoppedResponding}: "));
            Assert.That(r.Stdout, Does.Not.Contain("B read"));
        });
    }
}
