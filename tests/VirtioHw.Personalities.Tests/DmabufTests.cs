using System.Buffers.Binary;
using VirtioHw.Drivers.Dmabuf;
using VirtioHw.Firmware;
using VirtioHw.Firmware.Dmabuf;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>virtio-dmabuf (its normative statements) on the model and on the RTL: VM id, export, release.</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class DmabufTests(PlatformKind kind)
{
    [Test]
    public async Task NeedVmId_IsAnsweredOnTheRecvQueueWithTheDevicesId(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, vmId: 42, cancellationToken: cancellationToken);

        Assert.That(await bench.Device.GetVmIdAsync(cancellationToken), Is.EqualTo(42));
    }

    [Test]
    public async Task Export_CarriesANewUniqueIdWithTheVmIdAndACounter_AndTheMetadata(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, vmId: 5, cancellationToken: cancellationToken);
        await bench.Device.GetVmIdAsync(cancellationToken);
        var seen = new List<DmabufExportEventArgs>();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, e) =>
        {
            seen.Add(e);
            if (seen.Count == 2)
            {
                second.TrySetResult();
            }
        };
        byte[] metadata = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];

        UInt128 first = await bench.Device.ExportAsync(metadata, cancellationToken);
        UInt128 next = await bench.Device.ExportAsync(metadata, cancellationToken);
        await second.Task.WaitAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.Not.EqualTo(next));
            // The id is the low 64 bits (le64 id first); its first 4 bytes are the VM id, the other 4 a counter.
            Assert.That((uint)(ulong)first, Is.EqualTo(5));
            Assert.That((uint)((ulong)next >> 32), Is.EqualTo((uint)((ulong)first >> 32) + 1));
            Assert.That(seen.Select(e => e.Id), Is.EqualTo(new[] { first, next }));
            Assert.That(seen[0].Data.Take(20), Is.EqualTo(metadata));
            Assert.That(bench.Firmware.Exports, Is.EquivalentTo(new[] { first, next }));
        }
    }

    [Test]
    public async Task Export_BeforeTheVmIdIsKnown_IsRefused(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, cancellationToken: cancellationToken);

        Assert.That(async () => await bench.Device.ExportAsync(new byte[20], cancellationToken), Throws.InvalidOperationException);
    }

    [Test]
    public async Task Release_SendsTheExportedIdBackOnTheRecvQueue(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, cancellationToken: cancellationToken);
        await bench.Device.GetVmIdAsync(cancellationToken);
        var exported = new TaskCompletionSource<UInt128>(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, e) => exported.TrySetResult(e.Id);
        UInt128 id = await bench.Device.ExportAsync(new byte[20], cancellationToken);
        await exported.Task.WaitAsync(cancellationToken);

        bool released = bench.Firmware.Release(id);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(released, Is.True);
            Assert.That(await bench.Device.NextReleaseAsync(cancellationToken), Is.EqualTo(id));
            Assert.That(bench.Firmware.Exports, Is.Empty);
            Assert.That(bench.Firmware.Release(id), Is.False, "an id is released once");
        }
    }

    [Test]
    public async Task Demo_ExportAndRelease_ExitsZero(CancellationToken cancellationToken)
    {
        if (kind == PlatformKind.Cosim)
        {
            Assert.Ignore("the demo on the RTL is VirtioHw.Platforms.Cosim.Tests' DemoTests");
        }

        using var transcript = new StringWriter();

        int exitCode = await DmabufDemo.RunAsync(transcript, cancellationToken);

        Assert.That(exitCode, Is.Zero, transcript.ToString());
    }

    [Test]
    public async Task VmIdDriver_TheRestOfTheMessageMustBeZeroedOut_TheDeviceChecksIt(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, vmId: 9, cancellationToken: cancellationToken);

        uint vmId = await bench.Device.GetVmIdAsync(cancellationToken);

        Assert.That((vmId, bench.Firmware.RefusedMessages), Is.EqualTo((9u, 0L)), "a request with anything but zeros after cmd goes unanswered and is counted");
    }

    [Test]
    public async Task ExportDriver_TheIdIsNewAndUnique_ItsRngKeyIsRandomAndChecked(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, cancellationToken: cancellationToken);
        await bench.Device.GetVmIdAsync(cancellationToken);
        var exported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, _) =>
        {
            if (bench.Firmware.Exports.Count == 2)
            {
                exported.TrySetResult();
            }
        };
        UInt128 first = await bench.Device.ExportAsync(new byte[20], cancellationToken);
        UInt128 second = await bench.Device.ExportAsync(new byte[20], cancellationToken);
        await exported.Task.WaitAsync(cancellationToken);
        ulong firstKey = (ulong)(first >> 64);
        ulong secondKey = (ulong)(second >> 64);

        // The same id with another rng_key is not the export: the device names it back only whole.
        bool forged = bench.Firmware.Release(first ^ ((UInt128)1 << 64));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(firstKey, Is.Not.EqualTo(secondKey), "rng_key is random per export");
            Assert.That(new[] { firstKey, secondKey }, Has.None.Zero);
            Assert.That(forged, Is.False);
            Assert.That(bench.Firmware.Exports, Is.EquivalentTo(new[] { first, second }));
            Assert.That(bench.Firmware.RefusedMessages, Is.Zero, "both ids were unique");
        }
    }

    [Test]
    public async Task ReleaseDriver_TheDeviceMustSetAPreviouslySharedIdAndZeroTheRest_TheDriverChecksIt(CancellationToken cancellationToken)
    {
        await using DmabufRig bench = await DmabufRig.StartAsync(kind, cancellationToken: cancellationToken);
        await bench.Device.GetVmIdAsync(cancellationToken);
        var exported = new TaskCompletionSource<UInt128>(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, e) => exported.TrySetResult(e.Id);
        UInt128 id = await bench.Device.ExportAsync(new byte[20], cancellationToken);
        await exported.Task.WaitAsync(cancellationToken);

        bench.Firmware.Release(id);
        UInt128 released = await bench.Device.NextReleaseAsync(cancellationToken);

        Assert.That((released, bench.Device.RefusedReleases), Is.EqualTo((id, 0L)));
    }

    [Test]
    public async Task ReleaseDriver_AForgedReleaseIsRefusedAndCounted_NeverHandedOn(CancellationToken cancellationToken)
    {
        ForgingDmabufFirmware? device = null;
        await using DmabufRig bench = await DmabufRig.StartAsync(
            kind,
            firmware: (hal, vmId, sizes) => device = new ForgingDmabufFirmware(hal, vmId, sizes),
            cancellationToken: cancellationToken);
        await bench.Device.GetVmIdAsync(cancellationToken);
        var exported = new TaskCompletionSource<UInt128>(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, e) => exported.TrySetResult(e.Id);
        UInt128 id = await bench.Device.ExportAsync(new byte[20], cancellationToken);
        await exported.Task.WaitAsync(cancellationToken);
        UInt128 otherKey = id ^ ((UInt128)1 << 64); // the same le64 id (low half), another rng_key (high half)

        device!.Forge(id ^ ((UInt128)1 << 32), tail: 0); // another counter: an id the driver never exported
        device.Forge(otherKey, tail: 0);                  // the right id, a guessed rng_key
        device.Forge(id, tail: 0x5a);                     // the right id, the rest not zeroed
        await RefusedAsync(bench.Device, 3, cancellationToken);
        long refusedBeforeTheProperOne = bench.Device.RefusedReleases;
        bench.Firmware.Release(id);
        UInt128 released = await bench.Device.NextReleaseAsync(cancellationToken);
        device.Forge(id, tail: 0);                        // the same release again
        await RefusedAsync(bench.Device, 4, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refusedBeforeTheProperOne, Is.EqualTo(3), "each forged release is refused");
            Assert.That(released, Is.EqualTo(id), "the first release handed on is the proper one");
            Assert.That(bench.Device.NextReleaseAsync(cancellationToken).IsCompleted, Is.False, "a replayed release is not handed on");
        }
    }

    private static async Task RefusedAsync(DmabufDevice driver, long count, CancellationToken cancellationToken)
    {
        while (driver.RefusedReleases < count)
        {
            await Task.Delay(1, cancellationToken);
        }
    }

    /// <summary>A device that sends DMABUF_REL messages of its own making, besides doing what the firmware does.</summary>
    private sealed class ForgingDmabufFirmware(IDeviceHal hal, uint vmId, IReadOnlyList<ushort> sizes) : DmabufFirmware(hal, vmId, sizes)
    {
        public void Forge(UInt128 id, byte tail)
        {
            var message = new byte[DmabufWire.MessageSize];
            BinaryPrimitives.WriteUInt32LittleEndian(message, DmabufWire.CmdRelease);
            BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(4), id);
            message[^1] = tail;
            SendToDriver(message);
        }
    }

    [Test]
    public async Task VmIdDriver_ARequestWhoseRestIsNotZero_GetsNoAnswerAndIsCounted(CancellationToken cancellationToken)
    {
        // A driver of its own that breaks the rule, on the raw transport.
        await using DmabufRig rig = await DmabufRig.StartAsync(kind, vmId: 11, openDriver: false, cancellationToken: cancellationToken);
        DmabufFirmware firmware = rig.Firmware;
        await using VirtioPciTransport transport = VirtioPciTransport.Open(PciBus.Scan(rig.Platform).Find(DmabufBench.Address));
        await transport.InitializeAsync(0, cancellationToken);
        VirtioQueue recv = transport.SetupQueue(DmabufWire.RecvQueue);
        VirtioQueue send = transport.SetupQueue(DmabufWire.SendQueue);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task interrupts = transport.RunInterruptsAsync(stop.Token);
        transport.DriverOk();
        var answer = new byte[DmabufWire.MessageSize];
        Task<UsedBuffer> answered = recv.SubmitAsync([], [answer], cancellationToken).AsTask();
        var broken = new byte[DmabufWire.MessageSize];
        BinaryPrimitives.WriteUInt32LittleEndian(broken, DmabufWire.CmdNeedVmId);
        broken[100] = 1;
        var proper = new byte[DmabufWire.MessageSize];
        BinaryPrimitives.WriteUInt32LittleEndian(proper, DmabufWire.CmdNeedVmId);

        await send.SubmitAsync([broken], [], cancellationToken);
        long refusedBeforeTheProperOne = firmware.RefusedMessages;
        await send.SubmitAsync([proper], [], cancellationToken);
        await answered;
        await stop.CancelAsync();
        await interrupts.ContinueWith(_ => { }, TaskScheduler.Default);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refusedBeforeTheProperOne, Is.EqualTo(1));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(answer.AsSpan(4)), Is.EqualTo(11), "the one answer is the proper request's");
            Assert.That(firmware.RefusedMessages, Is.EqualTo(1));
        }
    }
}
