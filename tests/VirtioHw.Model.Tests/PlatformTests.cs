using VirtioHw.Firmware;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class PlatformTests
{
    [Test]
    public async Task DefaultPlatform_HasIsmIvshmemAndDmabufOnBus0_AndAnMmioIsm()
    {
        await using var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });

        Assert.That(
            platform.Endpoints.Select(e => (e.Address?.ToString(), e.Hardware.Description.Name, e.Hardware.GetType().Name)),
            Is.EqualTo(new (string?, string, string)[]
            {
                ("00:01.0", "virtio-ism", nameof(VirtioPciEndpointModel)),
                ("00:02.0", "ivshmem", nameof(IvshmemEndpointModel)),
                ("00:03.0", "virtio-dmabuf", nameof(VirtioPciEndpointModel)),
                (null, "virtio-ism", nameof(VirtioMmioEndpointModel)),
            }));
        Assert.That(platform.Endpoints.Select(e => e.Firmware?.IsBooted), Has.All.True);
    }

    [Test]
    public async Task MemoryWindows_AreA32BitAndA64BitPrefetchableWindow()
    {
        await using var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });

        Assert.That(platform.MemoryWindows.Select(w => (w.Is64Bit, w.Kind)), Is.EqualTo(new[]
        {
            (false, PciWindowKind.Memory),
            (true, PciWindowKind.PrefetchableMemory),
        }));
    }

    [Test]
    public async Task Register_MakesTheModelAvailableByName_AndMayBeCalledTwice()
    {
        ModelPlatform.Register();
        ModelPlatform.Register();

        await using Platform platform = PlatformFactory.Create("model", PlatformOptions.Parse(["firmware=manual"]));

        Assert.That(platform, Is.InstanceOf<ModelPlatform>());
        Assert.That(PlatformFactory.Available, Does.Contain("model"));
    }

    [Test]
    public async Task Options_ChooseTheEndpointsAndTheMmioDevices()
    {
        PlatformOptions options = PlatformOptions.Parse(["endpoints=virtio-dmabuf@00:05.0,ivshmem@00:06.0", "mmio=none", "firmware=manual"]);

        await using var platform = new ModelPlatform(options);

        Assert.That(platform.Endpoints.Select(e => (e.Address?.ToString(), e.Hardware.Description.Name)), Is.EqualTo(new (string?, string)[]
        {
            ("00:05.0", "virtio-dmabuf"),
            ("00:06.0", "ivshmem"),
        }));
        Assert.That(platform.VirtioMmioDevices, Is.Empty);
    }

    [TestCase("endpoints=virtio-ism", "model platform option endpoints: 'virtio-ism' is not NAME@bb:dd.f (for example virtio-ism@00:01.0)")]
    [TestCase("firmware=later", "model platform option firmware=later: expected run or manual")]
    [TestCase("speed=fast", "unknown model platform option 'speed' (known: endpoints, mmio, firmware)")]
    [TestCase("endpoints=ivshmem@00:01.0,virtio-ism@00:01.0", "two endpoints at 00:01.0")]
    public void MalformedOptions_FailWithOneLine(string option, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelPlatform(PlatformOptions.Parse([option])));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [Test]
    public async Task UnclaimedAddress_ReadsAllOnes()
    {
        await using var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });

        Assert.That(platform.Read32(0xC000_0000), Is.EqualTo(uint.MaxValue));
        Assert.That(platform.Read16(0x1000), Is.EqualTo(ushort.MaxValue));
    }

    [Test]
    public async Task SystemMemory_IsReachableFromTheHostSide()
    {
        await using var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });
        using DmaRegion region = platform.AllocateDma(4096);

        platform.Write32(region.BusAddress + 16, 0x5555_aaaa);

        Assert.That(region.ReadUInt32(16), Is.EqualTo(0x5555_aaaau));
        Assert.That(platform.Read32(region.BusAddress + 16), Is.EqualTo(0x5555_aaaau));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RunningFirmware_CompletesAQueueResetOnItsOwn(CancellationToken cancellationToken)
    {
        var resets = new TaskCompletionSource<ushort>(TaskCreationOptions.RunContinuationsAsynchronously);
        ModelPlatformSettings settings = ModelPlatformSettings.Default with
        {
            Firmware = hardware => hardware.Description.Virtio is null
                ? DefaultFirmware.Create(hardware)
                : new ObservedFirmware(hardware, resets),
        };
        await using var platform = new ModelPlatform(settings);
        var driver = new Driver(RigOf(platform), Rig.IsmAddress);
        QueueTests.SetUpQueue(driver, queue: 0);

        driver.QueueReset = 1;
        ushort queue = await resets.Task.WaitAsync(cancellationToken);

        Assert.That(queue, Is.Zero);
        Assert.That(driver.QueueReset, Is.Zero);
    }

    [Test]
    public async Task Dispose_StopsRunningFirmware()
    {
        var platform = new ModelPlatform(ModelPlatformSettings.Default);
        Task[] loops = [.. platform.Endpoints.Select(e => e.FirmwareTask!)];

        await platform.DisposeAsync();

        Assert.That(loops, Has.All.Matches<Task>(t => t.IsCompleted));
        Assert.That(loops, Has.None.Matches<Task>(t => t.IsFaulted));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task HostStack_EnumeratesNegotiatesAndSetsUpAQueueOnTheIsm(CancellationToken cancellationToken)
    {
        await using var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });
        PciFunction function = PciBus.Scan(platform).Find(Rig.IsmAddress);
        await using VirtioPciTransport transport = VirtioPciTransport.Open(function);

        ulong negotiated = await transport.InitializeAsync(VirtioFeatureBits.Version1, cancellationToken);
        transport.SetupQueue(0);
        var firmware = (VirtioFirmware)platform.FindEndpoint(Rig.IsmAddress)!.Firmware!;
        firmware.ProcessPendingEvents();

        Assert.That(negotiated, Is.EqualTo(VirtioFeatureBits.Version1));
        Assert.That(firmware.NegotiatedFeatures, Is.EqualTo(VirtioFeatureBits.Version1));
        Assert.That(firmware.Queues[0], Is.Not.Null);
        Assert.That(firmware.Queues[0]!.Size, Is.EqualTo(transport.Queues[0].Virtqueue.Size));
        Assert.That(transport.GetSharedMemoryRegions().Select(r => r.Id), Is.EquivalentTo(new[] { IsmShmId.Regions, IsmShmId.Notify }));
    }

    private static Rig RigOf(ModelPlatform platform) => Rig.Wrap(platform);

    /// <summary>The default firmware, and a signal each time it completes a queue reset.</summary>
    private sealed class ObservedFirmware(EndpointModel hardware, TaskCompletionSource<ushort> resets)
        : VirtioFirmware(hardware.Hal, DefaultFirmware.SettingsFor(hardware.Description))
    {
        protected override void OnQueueReset(ushort queue)
        {
            base.OnQueueReset(queue);
            resets.TrySetResult(queue);
        }
    }
}
