using System.Text;
using VirtioHw.Drivers.Ivshmem;
using VirtioHw.Firmware;
using VirtioHw.Personalities.Model;
using IvshmemRegs = VirtioHw.Registers.Ivshmem;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// ivshmem peers (ivshmem-device-spec.txt, statement by statement) on the model and on the RTL:
/// positions, BAR0, doorbells per interrupt mode, join notification at any time, one memory object.
/// </summary>
[CancelAfter(60_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IvshmemTests(PlatformKind kind)
{
    [Test]
    public async Task IvPosition_IsReadOnlyAndReportsTheGuestsId()
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3);

        rig.WriteRegister(1, IvshmemRegs.IvPosition.Offset, 7);
        uint[] positions = [.. Enumerable.Range(0, 3).Select(p => rig.ReadRegister(p, IvshmemRegs.IvPosition.Offset))];

        Assert.That(positions, Is.EqualTo(new uint[] { 0, 1, 2 }));
    }

    [Test]
    public async Task Bar0_IsA1KbyteMmioRegion()
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 1);

        Assert.That(rig.Function(0).GetBar(0)!.Size, Is.EqualTo(1024UL));
    }

    [Test]
    public async Task Doorbell_WithMsix_InterruptsTheNamedVectorOfTheNamedPeerOnly(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));
        using IvshmemDevice p1 = IvshmemDevice.Open(rig.Function(1));
        using IvshmemDevice p2 = IvshmemDevice.Open(rig.Function(2));

        p0.Ring(2, 3);
        p0.Ring(1, 2);
        await p1.Vector(2).WaitAsync(cancellationToken);
        await p2.Vector(3).WaitAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(p1.Vector(3).DeliveredCount, Is.Zero);
            Assert.That(p2.Vector(2).DeliveredCount, Is.Zero);
            Assert.That(p0.Vector(2).DeliveredCount + p0.Vector(3).DeliveredCount, Is.Zero);
        }
    }

    [Test]
    public async Task Doorbell_ForAnAbsentPeer_IsDropped(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));
        using IvshmemDevice p1 = IvshmemDevice.Open(rig.Function(1));

        p0.Ring(7, 1);
        p0.Ring(1, 1); // handled after the one above by the same firmware
        await p1.Vector(1).WaitAsync(cancellationToken);

        Assert.That(rig.Group.DroppedDoorbells, Is.EqualTo(1));
    }

    [Test]
    public async Task DoorbellMsi_VectorsMustBeBetween1AndTheMaximum_VectorZeroAndAbsentVectorsRaiseNothing(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));
        using IvshmemDevice p1 = IvshmemDevice.Open(rig.Function(1));
        uint doorbell = IvshmemRegs.Doorbell.Offset;

        // A guest that breaks the rule: vector 0, then a vector the peer does not have, then a good one.
        rig.WriteRegister(0, doorbell, 1u << IvshmemRegs.Doorbell.Peer.Shift);
        rig.WriteRegister(0, doorbell, (1u << IvshmemRegs.Doorbell.Peer.Shift) | 200);
        rig.WriteRegister(0, doorbell, (1u << IvshmemRegs.Doorbell.Peer.Shift) | 1);
        await p1.Vector(1).WaitAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(p1.Joins.DeliveredCount, Is.Zero, "vector 0 is only for joins");
            Assert.That(Enumerable.Range(0, p1.VectorCount).Sum(v => p1.Vector(v).DeliveredCount), Is.EqualTo(1));
            Assert.That(rig.Group.DroppedDoorbells, Is.Zero, "the peer exists; its endpoint dropped what it cannot raise");
        }
    }

    [Test]
    public async Task DoorbellMsi_GuestsShouldNotUseVectorZero_TheDriverRefusesIt()
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));

        Assert.That(() => p0.Ring(1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public async Task DoorbellRegular_AnyVectorValue_InterruptsTheDestinationGuest(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        uint peer1 = 1u << IvshmemRegs.Doorbell.Peer.Shift;
        rig.WriteRegister(1, IvshmemRegs.IntrMask.Offset, uint.MaxValue);
        var seen = new List<uint>();

        // Peer 1 has MSI-X off (no driver opened it): pin interrupts, where the vector is arbitrary.
        foreach (uint vector in new uint[] { 0, 3, 200, 0xffff })
        {
            rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, peer1 | vector);
            seen.Add(await rig.NextIntrStatusAsync(1, cancellationToken));
        }

        Assert.That(seen, Has.All.EqualTo((uint)IvshmemRegs.IvshmemIntrStatus.Doorbell));
    }

    [Test]
    public async Task DoorbellRegular_RaisesTheLegacyInterruptWhileUnmasked(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset); // peer 1's join
        uint peer1 = 1u << IvshmemRegs.Doorbell.Peer.Shift;
        rig.WriteRegister(1, IvshmemRegs.IntrMask.Offset, uint.MaxValue);
        rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, peer1 | 1);

        ushort status = 0;
        while ((status & VirtioHw.Registers.PciHeader.Status.InterruptStatus.Mask) == 0)
        {
            await Task.Delay(1, cancellationToken);
            status = rig.PlatformOf(1).ReadConfig16(rig.Function(1).Address, (int)VirtioHw.Registers.PciHeader.Status.Offset);
        }

        uint intr = rig.ReadRegister(1, IvshmemRegs.IntrStatus.Offset);
        ushort after = rig.PlatformOf(1).ReadConfig16(rig.Function(1).Address, (int)VirtioHw.Registers.PciHeader.Status.Offset);
        Assert.That((intr, after & VirtioHw.Registers.PciHeader.Status.InterruptStatus.Mask), Is.EqualTo(((uint)IvshmemRegs.IvshmemIntrStatus.Doorbell, 0UL)), "reading IntrStatus clears it and the interrupt");
    }

    [Test]
    public async Task JoinRegular_AStatusOfAllOnesIndicatesThatANewGuestHasJoined()
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);

        // MSI-X is off until a driver opens the peer, so peer 1's join shows in peer 0's IntrStatus.
        uint first = rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset);
        uint last = rig.ReadRegister(1, IvshmemRegs.IntrStatus.Offset);

        Assert.That((first, last), Is.EqualTo(((uint)IvshmemRegs.IvshmemIntrStatus.PeerJoined, 0u)));
    }

    [Test]
    public async Task JoinRegular_AtAnyTime_InterruptsEveryGuestPresent(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3, IvshmemCompat.Specification, 0, 1);
        rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset);

        rig.Join(2); // another guest, long after the first two booted

        uint[] seen = [await rig.NextIntrStatusAsync(0, cancellationToken), await rig.NextIntrStatusAsync(1, cancellationToken)];
        Assert.That(seen, Has.All.EqualTo((uint)IvshmemRegs.IvshmemIntrStatus.PeerJoined));
    }

    [Test]
    public async Task JoinRegular_ADoorbellAfterAJoin_DoesNotHideTheJoin(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3, IvshmemCompat.Specification, 0, 1);
        rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset);
        rig.Join(2);
        await WaitUntil(() => rig.Group.Peers.Count == 3, cancellationToken);

        // Peer 1 rings peer 0, then peer 2; the same firmware routes them in order, so once peer 2
        // has its doorbell, peer 0 has had its own on top of the join it has not read.
        rig.WriteRegister(1, IvshmemRegs.Doorbell.Offset, 5);
        rig.WriteRegister(1, IvshmemRegs.Doorbell.Offset, (2u << IvshmemRegs.Doorbell.Peer.Shift) | 1);
        await rig.NextIntrStatusAsync(2, cancellationToken);

        Assert.That(rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset), Is.EqualTo((uint)IvshmemRegs.IvshmemIntrStatus.PeerJoined));
    }

    [Test]
    public async Task JoinMsi_AtAnyTime_RaisesVectorZeroOfEveryGuestPresent(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3, IvshmemCompat.Specification, 0, 1);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));
        using IvshmemDevice p1 = IvshmemDevice.Open(rig.Function(1));

        rig.Join(2);

        await p0.Joins.WaitAsync(cancellationToken);
        await p1.Joins.WaitAsync(cancellationToken);
        using IvshmemDevice p2 = IvshmemDevice.Open(rig.Function(2));
        Assert.That(p2.Joins.DeliveredCount, Is.Zero, "the guest that joined is not told of itself");
    }

    [Test]
    public async Task QemuCompat_NoJoinNotification_StatusOneForEveryDoorbell_AbsentVectorsDropped_Bar0Of256Bytes(CancellationToken cancellationToken)
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 3, IvshmemCompat.Qemu, 0, 1);
        rig.Join(2);
        await WaitUntil(() => rig.Group.Peers.Count == 3, cancellationToken);
        uint peer1 = 1u << IvshmemRegs.Doorbell.Peer.Shift;
        uint joined = rig.ReadRegister(0, IvshmemRegs.IntrStatus.Offset);

        // No such vector: QEMU drops it in both modes. Peer 2's doorbell after it shows it was routed.
        rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, peer1 | 200);
        rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, (2u << IvshmemRegs.Doorbell.Peer.Shift) | 1);
        await rig.NextIntrStatusAsync(2, cancellationToken);
        uint afterAbsentVector = rig.ReadRegister(1, IvshmemRegs.IntrStatus.Offset);
        rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, peer1 | 2);
        uint status = await rig.NextIntrStatusAsync(1, cancellationToken);
        using IvshmemDevice p2 = IvshmemDevice.Open(rig.Function(2));
        rig.WriteRegister(0, IvshmemRegs.Doorbell.Offset, (2u << IvshmemRegs.Doorbell.Peer.Shift) | 0); // vector 0 is a doorbell in QEMU
        await p2.Vector(0).WaitAsync(cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(joined, Is.Zero, "QEMU 7.2 tells a guest nothing of joins");
            Assert.That(status, Is.EqualTo((uint)IvshmemRegs.IvshmemIntrStatus.Doorbell));
            Assert.That(afterAbsentVector, Is.Zero, "vector 200 was dropped");
            Assert.That(rig.Function(0).GetBar(0)!.Size, Is.EqualTo(256UL));
        }
    }

    [Test]
    public async Task SharedMemory_IsOneObjectForEveryPeer()
    {
        await using IvshmemRig rig = IvshmemRig.Start(kind, 2);
        using IvshmemDevice p0 = IvshmemDevice.Open(rig.Function(0));
        using IvshmemDevice p1 = IvshmemDevice.Open(rig.Function(1));
        byte[] text = Encoding.ASCII.GetBytes("one memory object");

        p1.Write(p1.MemoryLength - (ulong)text.Length, text);

        var seen = new byte[text.Length];
        p0.Read(p0.MemoryLength - (ulong)text.Length, seen);
        Assert.That(seen, Is.EqualTo(text));
    }

    [Test]
    public async Task Demo_PingPong_ExitsZero(CancellationToken cancellationToken)
    {
        if (kind == PlatformKind.Cosim)
        {
            Assert.Ignore("the demo on the RTL is VirtioHw.Platforms.Cosim.Tests' DemoTests");
        }

        using var transcript = new StringWriter();

        int exitCode = await IvshmemDemo.RunAsync(transcript, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, transcript.ToString());
            Assert.That(transcript.ToString(), Does.Contain($"read \"{IvshmemDemo.Pong}\""));
        }
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(1, cancellationToken);
        }
    }
}

/// <summary>The QEMU 7.2 variant of the ivshmem description.</summary>
public sealed class IvshmemDescriptionTests
{
    [Test]
    public void QemuVariant_IsAValidDescription_WithA256ByteBar0()
    {
        VirtioHw.Model.EndpointDescription qemu = IvshmemModelGroup.Describe(IvshmemCompat.Qemu);

        VirtioHw.Model.EndpointDescriptions.Validate(qemu);

        Assert.That((qemu.Bars.Single(b => b.Index == 0).Size, qemu.Ivshmem!.Compat), Is.EqualTo((256UL, IvshmemCompat.Qemu)));
    }
}
