using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class IvshmemTests
{
    private static readonly PciAddress Ivshmem = Rig.IvshmemAddress;

    [Test]
    public async Task DoorbellWrite_PushesDoorbellWithPeerAndVector()
    {
        await using Rig rig = Rig.Create();
        ulong registers = rig.Setup(Ivshmem)[0];

        rig.Platform.Write32(registers + VirtioHw.Registers.Ivshmem.Doorbell.Offset, (3u << VirtioHw.Registers.Ivshmem.Doorbell.Peer.Shift) | 2);

        Assert.That(rig.Csr(Ivshmem).TryPeekEvent(out FirmwareEvent head), Is.True);
        Assert.That(head, Is.EqualTo(new FirmwareEvent(FwCsr.FwEventKind.Doorbell, 0x0003_0002)));
    }

    [Test]
    public async Task DoorbellWrite_OfTheVectorBytesOnly_DoesNotRing()
    {
        await using Rig rig = Rig.Create();
        ulong registers = rig.Setup(Ivshmem)[0];

        rig.Platform.Write16(registers + VirtioHw.Registers.Ivshmem.Doorbell.Offset, 2);

        Assert.That(rig.Csr(Ivshmem).PendingEvents, Is.Zero);
    }

    [Test]
    public async Task Firmware_TakesTheDoorbell()
    {
        await using Rig rig = Rig.Create();
        ulong registers = rig.Setup(Ivshmem)[0];
        rig.Platform.Write32(registers + VirtioHw.Registers.Ivshmem.Doorbell.Offset, 1u << VirtioHw.Registers.Ivshmem.Doorbell.Peer.Shift);

        int handled = rig.Endpoint(Ivshmem).Firmware!.ProcessPendingEvents();

        Assert.That(handled, Is.EqualTo(1));
        Assert.That(rig.Csr(Ivshmem).PendingEvents, Is.Zero);
    }

    [Test]
    public void IvPosition_ReadsThePeerIdTheModelWasGiven()
    {
        var device = new IvshmemEndpointModel(EndpointDescriptions.LoadBuiltin("ivshmem"), new NoSystemMemory(), ivPosition: 5);
        device.WriteConfig((int)PciHeader.Bar.OffsetOf(0), 4, 0xC000_0000);
        device.WriteConfig((int)PciHeader.Command.Offset, 2, (uint)PciHeader.Command.MemorySpace.Mask);

        bool decoded = device.TryRead(0xC000_0000 + VirtioHw.Registers.Ivshmem.IvPosition.Offset, 4, out ulong position);

        Assert.That(decoded, Is.True);
        Assert.That(position, Is.EqualTo(5));
    }

    [Test]
    public async Task VectorWithMsixOff_SetsIntrStatus_WhichReadingClears()
    {
        await using Rig rig = Rig.Create();
        ulong registers = rig.Setup(Ivshmem)[0];
        rig.Platform.Write32(registers + VirtioHw.Registers.Ivshmem.IntrMask.Offset, 1);

        rig.Csr(Ivshmem).TriggerMsix(0);
        ushort statusWhileRaised = rig.Platform.ReadConfig16(Ivshmem, (int)PciHeader.Status.Offset);
        uint first = rig.Platform.Read32(registers + VirtioHw.Registers.Ivshmem.IntrStatus.Offset);
        uint second = rig.Platform.Read32(registers + VirtioHw.Registers.Ivshmem.IntrStatus.Offset);

        Assert.That(first, Is.EqualTo(1));
        Assert.That(second, Is.Zero);
        Assert.That(statusWhileRaised & PciHeader.Status.InterruptStatus.Mask, Is.Not.Zero, "the masked-in cause asserts INTx");
        Assert.That(rig.Platform.ReadConfig16(Ivshmem, (int)PciHeader.Status.Offset) & PciHeader.Status.InterruptStatus.Mask, Is.Zero);
    }

    [Test]
    public async Task IntrStatus_OutsideTheMask_DoesNotAssertTheInterrupt()
    {
        await using Rig rig = Rig.Create();
        rig.Setup(Ivshmem);

        rig.Csr(Ivshmem).TriggerMsix(0);

        Assert.That(rig.Platform.ReadConfig16(Ivshmem, (int)PciHeader.Status.Offset) & PciHeader.Status.InterruptStatus.Mask, Is.Zero);
    }

    [Test]
    public async Task SharedMemoryBar_ReadsAndWritesTheBackingMemory()
    {
        await using Rig rig = Rig.Create();
        ulong shared = rig.Setup(Ivshmem)[2];

        rig.Platform.Write64(shared + 0x3ff8, 0x0102_0304_0506_0708);

        var bytes = new byte[8];
        rig.Endpoint(Ivshmem).Hardware.Backing!.Read(0x3ff8, bytes);
        Assert.That(BitConverter.ToUInt64(bytes), Is.EqualTo(0x0102_0304_0506_0708UL));
        Assert.That(rig.Platform.Read8(shared + 0x3ff8), Is.EqualTo(0x08));
    }

    private sealed class NoSystemMemory : IRootPort
    {
        public bool TryMemoryRead(ulong address, Span<byte> destination) => false;

        public bool TryMemoryWrite(ulong address, ReadOnlySpan<byte> source) => false;
    }
}
