using System.Text;
using VirtioHw.Drivers.Ivshmem;
using VirtioHw.Host.Pci;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using IvshmemRegs = VirtioHw.Registers.Ivshmem;

namespace VirtioHw.Personalities.Tests;

/// <summary>ivshmem peers on the model: positions, doorbell routing, join notification, one memory object.</summary>
[CancelAfter(30_000)]
public sealed class IvshmemTests
{
    [Test]
    public async Task EachPeer_ReadsItsOwnIvPosition()
    {
        var group = new IvshmemModelGroup(3);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);

        ushort[] positions = [.. group.Addresses.Select(a => { using var d = IvshmemDevice.Open(functions.Find(a)); return d.Position; })];

        Assert.That(positions, Is.EqualTo(new ushort[] { 0, 1, 2 }));
    }

    [Test]
    public async Task Doorbell_InterruptsTheNamedVectorOfTheNamedPeerOnly(CancellationToken cancellationToken)
    {
        var group = new IvshmemModelGroup(3);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using IvshmemDevice p0 = IvshmemDevice.Open(functions.Find(group.Addresses[0]));
        using IvshmemDevice p1 = IvshmemDevice.Open(functions.Find(group.Addresses[1]));
        using IvshmemDevice p2 = IvshmemDevice.Open(functions.Find(group.Addresses[2]));

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
    public async Task Doorbell_ForAnAbsentPeerOrVector_IsDropped(CancellationToken cancellationToken)
    {
        var group = new IvshmemModelGroup(2);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using IvshmemDevice p0 = IvshmemDevice.Open(functions.Find(group.Addresses[0]));
        using IvshmemDevice p1 = IvshmemDevice.Open(functions.Find(group.Addresses[1]));

        p0.Ring(7, 1);
        p0.Ring(1, 200);
        p0.Ring(1, 1); // handled after the two above by the same firmware
        await p1.Vector(1).WaitAsync(cancellationToken);

        Assert.That(group.Group.DroppedDoorbells, Is.EqualTo(2));
    }

    [Test]
    public async Task Join_RingsVectorZeroOfThePeersAlreadyPresent()
    {
        var group = new IvshmemModelGroup(2);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);

        // MSI-X is off until a driver opens the peer, so the join shows in IntrStatus.
        uint first = platform.Read32(functions.Find(group.Addresses[0]).GetBar(0)!.Address + IvshmemRegs.IntrStatus.Offset);
        uint last = platform.Read32(functions.Find(group.Addresses[1]).GetBar(0)!.Address + IvshmemRegs.IntrStatus.Offset);

        Assert.That((first, last), Is.EqualTo((1u, 0u)));
    }

    [Test]
    public async Task SharedMemory_IsOneObjectForEveryPeer()
    {
        var group = new IvshmemModelGroup(2);
        await using var platform = new ModelPlatform(group.PlatformSettings());
        IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
        using IvshmemDevice p0 = IvshmemDevice.Open(functions.Find(group.Addresses[0]));
        using IvshmemDevice p1 = IvshmemDevice.Open(functions.Find(group.Addresses[1]));
        byte[] text = Encoding.ASCII.GetBytes("one memory object");

        p1.Write(p1.MemoryLength - (ulong)text.Length, text);

        var seen = new byte[text.Length];
        p0.Read(p0.MemoryLength - (ulong)text.Length, seen);
        Assert.That(seen, Is.EqualTo(text));
    }

    [Test]
    public async Task Demo_PingPong_ExitsZero(CancellationToken cancellationToken)
    {
        using var transcript = new StringWriter();

        int exitCode = await IvshmemDemo.RunAsync(transcript, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, transcript.ToString());
            Assert.That(transcript.ToString(), Does.Contain($"read \"{IvshmemDemo.Pong}\""));
        }
    }
}
