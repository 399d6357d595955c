using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>
/// CosimPlatform on a real ism_mmio_endpoint_top: the register window and the shared memory at
/// the description's addresses, and its interrupt line routed to a vector.
/// </summary>
[CancelAfter(60_000)]
public sealed class MmioTests
{
    private static readonly EndpointDescription Ism = EndpointDescriptions.LoadBuiltin("virtio-ism");

    private CosimPlatform _platform = null!;

    private ulong Base => Ism.Mmio!.Base;

    [SetUp]
    public void CreatePlatform() => _platform = Rtl.Create(new CosimPlatformSettings { MmioDevices = [Ism], Firmware = _ => null });

    [TearDown]
    public async Task DisposePlatform()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }

    [Test]
    public void RegisterWindow_AtTheDescriptionsAddress_IsAVirtioMmioV2DeviceOfItsType()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_platform.VirtioMmioDevices.Select(w => w.BaseAddress), Is.EqualTo(new[] { Base }));
            Assert.That(_platform.Read32(Base + VirtioMmio.MagicValue.Offset), Is.EqualTo((uint)VirtioMmio.MagicValue.ResetValue));
            Assert.That(_platform.Read32(Base + VirtioMmio.Version.Offset), Is.EqualTo(2u));
            Assert.That(_platform.Read32(Base + VirtioMmio.DeviceId.Offset), Is.EqualTo((uint)Ism.Virtio!.DeviceId));
        });
    }

    [Test]
    public void ShmBase_OfEveryRegion_IsWhereTheSharedMemoryWindowDecodesIt()
    {
        foreach (SharedMemoryRegion region in Ism.SharedMemory)
        {
            _platform.Write32(Base + VirtioMmio.ShmSel.Offset, region.ShmId);
            ulong shmBase = _platform.Read32(Base + VirtioMmio.ShmBaseLow.Offset) | ((ulong)_platform.Read32(Base + VirtioMmio.ShmBaseHigh.Offset) << 32);
            ulong length = _platform.Read32(Base + VirtioMmio.ShmLenLow.Offset) | ((ulong)_platform.Read32(Base + VirtioMmio.ShmLenHigh.Offset) << 32);
            Assert.Multiple(() =>
            {
                Assert.That(shmBase, Is.EqualTo(Ism.Mmio!.SharedMemoryBase + region.Offset), region.Name);
                Assert.That(length, Is.EqualTo(region.Length), region.Name);
            });
        }

        SharedMemoryRegion chunks = Ism.SharedMemory.First(r => r.Kind != SharedMemoryKind.Notify);
        Assert.That(_platform.Read32(Ism.Mmio!.SharedMemoryBase + chunks.Offset), Is.EqualTo(uint.MaxValue), "an unmapped chunk slot reads all-ones");
    }

    [Test]
    public async Task Interrupt_RoutedToAVector_DeliversOneMessagePerCauseTheFirmwareRaises()
    {
        MmioDeviceWindow window = _platform.VirtioMmioDevices.Single();
        using MsiVector vector = _platform.ConnectMmioInterrupt(window);
        CosimEndpoint device = _platform.Endpoints.Single();

        device.Hal.WriteCsr(FwCsr.IsrSet.Offset, (uint)FwCsr.IsrSet.ConfigChange.Mask);
        long first = await vector.WaitAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        uint status = _platform.Read32(Base + VirtioMmio.InterruptStatus.Offset);
        _platform.Write32(Base + VirtioMmio.InterruptAck.Offset, status);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(1));
            Assert.That(status, Is.EqualTo((uint)FwCsr.IsrSet.ConfigChange.Mask), "InterruptStatus holds the configuration change cause");
            Assert.That(_platform.Read32(Base + VirtioMmio.InterruptStatus.Offset), Is.Zero, "acknowledged");
            Assert.That(vector.TryTake(out _), Is.False, "one message for one cause");
        });
    }

    [Test]
    public void ConnectMmioInterrupt_OfAWindowWithNoDevice_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => _platform.ConnectMmioInterrupt(new MmioDeviceWindow(0x1000, CosimPlatform.MmioWindowSize)));
    }
}
