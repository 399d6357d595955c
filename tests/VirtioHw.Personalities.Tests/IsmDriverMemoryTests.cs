using System.Text;
using VirtioHw.Cosim;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Firmware;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;
using VirtioHw.Registers;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// virtio-ism without VIRTIO_ISM_F_DEV_MEM: regions in the memory the driver passes with alloc
/// (virtio-ism device and driver normative statements on alloc, attach and detach), on the model
/// and on the RTL, whose devices share one system memory on either platform.
/// </summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IsmDriverMemoryTests(PlatformKind kind)
{
    private static readonly IsmDeviceSettings DriverMemory = new() { DeviceMemory = false };

    [Test]
    public async Task Features_DeviceWithoutTheDevMemSetting_DoesNotOfferIt_AndADriverThatNeedsItRefuses(CancellationToken cancellationToken)
    {
        Assert.That(
            async () => await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken, deviceMemory: false),
            Throws.InstanceOf<VirtioException>());
    }

    [Test]
    public async Task Features_DeviceWithoutTheDevMemSetting_WorksWithADriverThatProvidesMemory(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken, driver: DriverMemory, deviceMemory: false);
        IsmRegion region = await bench.Devices[0].AllocateAsync(bench.Devices[0].ChunkSize, cancellationToken);
        IsmRegion attached = await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);

        region.Write(0, "ok"u8);
        var seen = new byte[2];
        attached.Read(0, seen);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(bench.Devices.Select(d => d.DeviceMemory), Has.All.False);
            Assert.That(seen, Is.EqualTo("ok"u8.ToArray()));
        }
    }

    [Test]
    public async Task Alloc_DeviceMustUseTheMemoryTheDriverProvides(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)(2 * device.ChunkSize));

        byte[] reply = await device.AllocRawAsync(2 * device.ChunkSize, buffer.BusAddress, cancellationToken);
        ulong second = IsmRaw.Field(reply, 3);
        device.Regions.Write(second + 5, "driver memory"u8);
        var inBuffer = new byte[13];
        buffer.Read((int)device.ChunkSize + 5, inBuffer);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Ok));
            Assert.That(IsmRaw.Field(reply, 1), Is.EqualTo(2));
            Assert.That(Encoding.ASCII.GetString(inBuffer), Is.EqualTo("driver memory"));
        }
    }

    [Test]
    public async Task Alloc_DriverMustProvideTheBuffer_WithoutOneTheDeviceAcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];

        (IsmAck withoutBuffer, _) = await device.SendAsync(IsmRaw.Command(IsmWire.ClassAlloc, 0, device.ChunkSize), 64, cancellationToken);
        (IsmAck nullBuffer, _) = await device.SendAsync(IsmRaw.Command(IsmWire.ClassAlloc, 0, device.ChunkSize, 0), 64, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(withoutBuffer, Is.EqualTo(IsmAck.Error));
            Assert.That(nullBuffer, Is.EqualTo(IsmAck.Error));
        }
    }

    [Test]
    public async Task Alloc_BufferNotPageAligned_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)(2 * device.ChunkSize));

        byte[] reply = await device.AllocRawAsync(device.ChunkSize, buffer.BusAddress + 64, cancellationToken);

        Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Error));
    }

    [Test]
    public async Task Alloc_SizeNotAWholeNumberOfChunks_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)device.ChunkSize);

        byte[] reply = await device.AllocRawAsync(device.ChunkSize - 1, buffer.BusAddress, cancellationToken);

        Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Error));
    }

    [Test]
    public async Task Alloc_BufferTheDeviceCannotReachByDma_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion probe = bench.Platform.AllocateDma(4096);

        // Below the first DMA region there is no system memory in the model's window.
        ulong nowhere = probe.BusAddress >= 2 * device.ChunkSize ? probe.BusAddress - (2 * device.ChunkSize) : 1UL << 40;
        byte[] reply = await device.AllocRawAsync(device.ChunkSize, nowhere, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Error));
            Assert.That(bench.Domain.RegionCount, Is.Zero);
        }
    }

    [Test]
    public async Task Alloc_DeviceMustClearTheRegionMemory_TheDriversBufferIsZeroedBeforeTheReply(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)(2 * device.ChunkSize));
        buffer.Write(0, Enumerable.Repeat((byte)0xa5, buffer.Length).ToArray());

        byte[] reply = await device.AllocRawAsync(2 * device.ChunkSize, buffer.BusAddress, cancellationToken);
        var contents = new byte[buffer.Length];
        buffer.Read(0, contents);
        var throughWindow = new byte[64];
        device.Regions.Read(IsmRaw.Field(reply, 3) + device.ChunkSize - 64, throughWindow);

        using (Assert.EnterMultipleScope())
        {
            Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Ok));
            Assert.That(contents, Has.All.Zero);
            Assert.That(throughWindow, Has.All.Zero);
        }
    }

    [Test]
    public async Task Alloc_ReplyTooSmall_AcksE2BigWithNum_AndLeavesTheBufferUntouched(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)(3 * device.ChunkSize));
        buffer.Write(0, [0x5a]);

        (IsmAck ack, byte[] reply) = await device.SendAsync(IsmRaw.Command(IsmWire.ClassAlloc, 0, 3 * device.ChunkSize, buffer.BusAddress), 1 + 16 + 8, cancellationToken);
        var first = new byte[1];
        buffer.Read(0, first);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ack, Is.EqualTo(IsmAck.TooBig));
            Assert.That(IsmRaw.Field(reply, 1), Is.EqualTo(3));
            Assert.That(first[0], Is.EqualTo(0x5a));
            Assert.That(bench.Domain.RegionCount, Is.Zero);
        }
    }

    [Test]
    public async Task Alloc_InDriverMemory_TakesNoChunkOfTheDomainMemory(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        int free = bench.Domain.FreeChunks;

        await bench.Devices[0].AllocateAsync(4 * bench.Devices[0].ChunkSize, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(bench.Domain.RegionCount, Is.EqualTo(1));
            Assert.That(bench.Domain.FreeChunks, Is.EqualTo(free));
        }
    }

    [Test]
    public async Task Attach_DriverMustProvideABuffer_WithoutOneTheDeviceAcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(bench.Devices[0].ChunkSize, cancellationToken);

        (IsmAck ack, _) = await bench.Devices[1].SendAsync(IsmRaw.Command(IsmWire.ClassAttach, 0, region.Token, 3), 64, cancellationToken);

        Assert.That(ack, Is.EqualTo(IsmAck.Error));
    }

    [Test]
    public async Task Attach_TheAttachersBufferIsNotUsed_TheSlotsMapTheAllocatorsBuffer(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion region = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        using DmaRegion unused = bench.Platform.AllocateDma((int)a.ChunkSize);
        unused.Write(0, Enumerable.Repeat((byte)0x77, unused.Length).ToArray());

        (IsmAck ack, byte[] reply) = await b.SendAsync(IsmRaw.Command(IsmWire.ClassAttach, 0, region.Token, 3, unused.BusAddress), 64, cancellationToken);
        b.Regions.Write(IsmRaw.Field(reply, 2), "from B"u8);
        var atA = new byte[6];
        region.Read(0, atA);
        var untouched = new byte[unused.Length];
        unused.Read(0, untouched);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ack, Is.EqualTo(IsmAck.Ok));
            Assert.That(Encoding.ASCII.GetString(atA), Is.EqualTo("from B"));
            Assert.That(untouched, Has.All.EqualTo(0x77));
        }
    }

    [Test]
    public async Task Attach_ReadOnly_WritesThroughTheAttachersWindowAreDropped(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(bench.Devices[0].ChunkSize, cancellationToken);
        region.Write(0, "kept"u8);
        IsmRegion readOnly = await bench.Devices[1].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken);

        readOnly.Write(0, "lost"u8);
        var atA = new byte[4];
        region.Read(0, atA);
        var atB = new byte[4];
        readOnly.Read(0, atB);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.ASCII.GetString(atA), Is.EqualTo("kept"));
            Assert.That(Encoding.ASCII.GetString(atB), Is.EqualTo("kept"));
        }
    }

    [Test]
    public async Task Attach_WithoutTheAttachPermission_AcksPermEattach(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(bench.Devices[0].ChunkSize, cancellationToken);
        await bench.Devices[0].GrantDefaultAsync(region.Token, IsmPermissions.Read, cancellationToken);

        Assert.That(async () => await bench.Devices[1].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.InstanceOf<IsmException>().With.Property(nameof(IsmException.Ack)).EqualTo(IsmAck.AttachDenied));
    }

    [Test]
    public async Task Detach_NoOneRefersToTheRegion_TheAllocatorMustSendBufferFreeToItsDriver(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);
        await a.DetachAsync(region.Token, cancellationToken);
        int pendingWhileBReferred = a.PendingBuffers;

        await bench.Devices[1].DetachAsync(region.Token, cancellationToken);
        IsmEvent freed = await a.Next(IsmEventType.BufferFree, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(pendingWhileBReferred, Is.EqualTo(1));
            Assert.That(freed.Buffer, Is.Not.Zero);
            Assert.That(a.PendingBuffers, Is.Zero);
        }
    }

    [Test]
    public async Task Detach_WhileAPeerStillRefers_NoBufferFree(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        await bench.Devices[1].AttachAsync(region.Token, cancellationToken: cancellationToken);

        await a.DetachAsync(region.Token, cancellationToken);

        // Events come in order: a BUFFER_FREE for the detach would come before B's attach to a later region.
        IsmRegion later = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        await bench.Devices[1].AttachAsync(later.Token, cancellationToken: cancellationToken);
        var seen = new List<IsmEventType>();
        await a.WaitForEventAsync(
            e =>
            {
                seen.Add(e.Type);
                return e.Type == IsmEventType.Attach && e.Offset == later.Offset;
            },
            cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen, Does.Not.Contain(IsmEventType.BufferFree));
            Assert.That(a.PendingBuffers, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task BufferFree_NamesTheBufferTheAllocPassed_AndComesAfterTheSlotsAreUnmapped(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        using DmaRegion buffer = bench.Platform.AllocateDma((int)device.ChunkSize);
        byte[] reply = await device.AllocRawAsync(device.ChunkSize, buffer.BusAddress, cancellationToken);
        ulong slot = IsmRaw.Field(reply, 2);

        (IsmAck detached, _) = await device.SendAsync(IsmRaw.Command(IsmWire.ClassDetach, 0, IsmRaw.Field(reply, 0)), 1, cancellationToken);
        IsmEvent freed = await device.Next(IsmEventType.BufferFree, cancellationToken);
        device.Regions.Write(slot, "late"u8);
        var inBuffer = new byte[4];
        buffer.Read(0, inBuffer);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(detached, Is.EqualTo(IsmAck.Ok));
            Assert.That(freed.Buffer, Is.EqualTo(buffer.BusAddress));
            Assert.That(device.Regions.Read32(slot), Is.EqualTo(uint.MaxValue));
            Assert.That(inBuffer, Has.All.Zero);
        }
    }

    [Test]
    public async Task Reset_OfAnAttacher_UnmapsItsSlots_AndTheAllocatorsLastDetachFreesTheBuffer(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion region = await a.AllocateAsync(a.ChunkSize, cancellationToken);
        IsmRegion atB = await b.AttachAsync(region.Token, cancellationToken: cancellationToken);
        atB.Write(0, "B"u8);

        await b.Transport.ResetAsync(cancellationToken);
        await a.Next(IsmEventType.Detach, cancellationToken);
        await a.DetachAsync(region.Token, cancellationToken);
        IsmEvent freed = await a.Next(IsmEventType.BufferFree, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(b.Regions.Read8(atB.Offset), Is.EqualTo(0xff));
            Assert.That(freed.Buffer, Is.Not.Zero);
            Assert.That(a.PendingBuffers, Is.Zero);
        }
    }

    [Test]
    public async Task Window_SystemMemorySlots_NeedBusMastering(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(1, cancellationToken);
        IsmDevice device = bench.Devices[0];
        IsmRegion region = await device.AllocateAsync(device.ChunkSize, cancellationToken);
        region.Write(0, [1, 2, 3, 4]);
        PciAddress function = bench.Addresses[0];
        uint command = bench.Platform.ReadConfig(function, (int)PciHeader.Command.Offset, 2);

        bench.Platform.WriteConfig(function, (int)PciHeader.Command.Offset, 2, command & ~(uint)PciHeader.Command.BusMaster.Mask);
        uint withoutMastering = device.Regions.Read32(region.Offset);
        device.Regions.Write32(region.Offset, 0xdeadbeef);
        bench.Platform.WriteConfig(function, (int)PciHeader.Command.Offset, 2, command);
        uint withMastering = device.Regions.Read32(region.Offset);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(withoutMastering, Is.EqualTo(uint.MaxValue));
            Assert.That(withMastering, Is.EqualTo(0x04030201));
        }
    }

    [Test]
    public async Task Window_SystemSlot_MapsOnlyAPageAlignedBusAddress(CancellationToken cancellationToken)
    {
        (Platform platform, IDeviceHal hal, PciAddress address, EndpointDescription description, IDisposable domain) = StartWithoutFirmware();
        using (domain)
        await using (platform)
        {
            PciFunction function = PciBus.Scan(platform).Find(address);
            using DmaRegion buffer = platform.AllocateDma(8192);
            buffer.Write(0x1040, [0x11, 0x22, 0x33, 0x44]);
            var csr = new FirmwareCsr(hal);
            const ChunkAccess system = ChunkAccess.ReadWrite | ChunkAccess.System;
            ulong chunkSize = description.FindSharedMemory(1)!.GranuleSize;

            csr.CommitChunk(0, buffer.BusAddress + 0x1000, system);
            csr.CommitChunk(1, buffer.BusAddress + 0x1040, system);
            csr.CommitChunk(2, 1UL << 48, system);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(platform.Read32(function.GetBarAddress(2, 0x40)), Is.EqualTo(0x44332211u));
                Assert.That(platform.Read32(function.GetBarAddress(2, chunkSize)), Is.EqualTo(uint.MaxValue), "not page-aligned");
                Assert.That(platform.Read32(function.GetBarAddress(2, 2 * chunkSize)), Is.EqualTo(uint.MaxValue), "above 2^48");
            }
        }
    }

    [Test]
    public async Task RoundTrip_AWritesAndKicks_BGetsTheUpdateAndReadsTheSameBytes(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await StartAsync(2, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmDevice b = bench.Devices[1];
        IsmRegion atA = await a.AllocateAsync(2 * a.ChunkSize, cancellationToken);
        await a.GrantAsync(atA.Token, b.DevId, IsmPermissions.Read | IsmPermissions.Attach, cancellationToken);
        IsmRegion atB = await b.AttachAsync(atA.Token, IsmPermissions.Read, cancellationToken);
        byte[] message = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))];

        atA.Write(a.ChunkSize - 100, message);
        atA.Kick();
        IsmEvent update = await b.Next(IsmEventType.Update, cancellationToken);
        var received = new byte[message.Length];
        atB.Read(a.ChunkSize - 100, received);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(update.Offset, Is.EqualTo(atB.Offset));
            Assert.That(update.DevId, Is.EqualTo(a.DevId));
            Assert.That(received, Is.EqualTo(message));
        }
    }

    private Task<ModeBench> StartAsync(int devices, CancellationToken cancellationToken) =>
        ModeBench.StartAsync(kind, DomainMode.InProcess, devices, cancellationToken, driver: DriverMemory);

    /// <summary>One ISM endpoint whose firmware does not run, so a test drives its CSR port itself.</summary>
    private (Platform Platform, IDeviceHal Hal, PciAddress Address, EndpointDescription Description, IDisposable Domain) StartWithoutFirmware()
    {
        if (kind == PlatformKind.Model)
        {
            var model = new IsmModelDomain(1);
            var platform = new ModelPlatform(model.PlatformSettings(runFirmware: false));
            return (platform, platform.Endpoints[0].Hardware.Hal, model.Addresses[0], model.Description, model);
        }

        var domain = new CosimIsmDomain(1);
        try
        {
            var platform = new CosimPlatform(domain.PlatformSettings(runFirmware: false));
            return (platform, platform.FindEndpoint(domain.Addresses[0])!.Hal, domain.Addresses[0], domain.Description, domain);
        }
        catch (CosimLibraryException e)
        {
            domain.Dispose();
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }
    }
}
