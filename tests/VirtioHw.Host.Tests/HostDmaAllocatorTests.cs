using System.Runtime.InteropServices;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

/// <summary>
/// The contiguous allocator: regions are views of one block behind the whole window, at the offset
/// of their bus address, and a range handed out again comes back zeroed.
/// </summary>
public sealed class HostDmaAllocatorTests
{
    private const ulong WindowBase = 0x1_0000_0000;
    private const ulong WindowLength = 0x10_0000_0000; // 64 GiB reserved, only touched pages cost memory

    [Test]
    public void Contiguous_RegionBytes_AreTheBackingBytesAtTheirBusOffset()
    {
        using HostDmaAllocator allocator = HostDmaAllocator.CreateContiguous(WindowBase, WindowLength);
        using HostDmaRegion first = allocator.Allocate(4096);
        using HostDmaRegion second = allocator.Allocate(8192);

        second.Write(10, [0xde, 0xad]);
        byte atBacking = Marshal.ReadByte(allocator.BackingAddress, (int)(second.BusAddress - WindowBase) + 11);
        Marshal.WriteByte(allocator.BackingAddress, (int)(first.BusAddress - WindowBase) + 3, 0x5a);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(allocator.BackingAddress, Is.Not.EqualTo(nint.Zero));
            Assert.That(atBacking, Is.EqualTo(0xad));
            Assert.That(allocator.ReadValue(first.BusAddress + 3, 1), Is.EqualTo(0x5a));
            Assert.That(allocator.ReadValue(second.BusAddress + 10, 2), Is.EqualTo(0xadde));
        }
    }

    [Test]
    public void Contiguous_ARangeHandedOutAgain_IsZeroed()
    {
        using HostDmaAllocator allocator = HostDmaAllocator.CreateContiguous(WindowBase, WindowLength);
        HostDmaRegion used = allocator.Allocate(4096);
        used.Write(0, [1, 2, 3, 4]);
        ulong address = used.BusAddress;
        used.Dispose();

        using HostDmaRegion again = allocator.Allocate(4096);
        var bytes = new byte[4];
        again.Read(0, bytes);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(again.BusAddress, Is.EqualTo(address));
            Assert.That(bytes, Is.All.Zero);
        }
    }

    [Test]
    public void SeparateAllocator_HasNoBacking()
    {
        using var allocator = new HostDmaAllocator(WindowBase, WindowLength);
        Assert.That(allocator.BackingAddress, Is.EqualTo(nint.Zero));
    }
}
