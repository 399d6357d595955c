using VirtioHw.Host.Pci;
using VirtioHw.Host.Virtio;
using VirtioHw.Registers;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>Shared memory regions found on both transports where their descriptions put them.</summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class SharedMemoryConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    [Test]
    public void PciRegions_AreAtTheirBarPlusOffset_ByShmid()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioPciEndpoints)
            {
                var transport = (VirtioPciTransport)Open(e, functions);
                IReadOnlyList<VirtioSharedMemoryRegion> regions = transport.GetSharedMemoryRegions();
                Assert.That(regions.Select(r => r.Id), Is.EqualTo(e.SharedMemory.Select(r => r.ShmId).Order()), e.ToString());
                foreach (ExpectedRegion expected in e.SharedMemory)
                {
                    VirtioSharedMemoryRegion region = transport.GetSharedMemoryRegion(expected.ShmId);
                    Assert.That(region.PhysicalAddress, Is.EqualTo(transport.Function.GetBarAddress(expected.Bar, expected.Offset)), $"{e} shmid {expected.ShmId}");
                    Assert.That(region.Length, Is.EqualTo(expected.Length), $"{e} shmid {expected.ShmId}");
                }

                Assert.That(transport.Diagnostics, Is.Empty, e.ToString());
            }
        }
    }

    [Test]
    public void MmioRegions_AreWhereShmBaseSays_ByShmid()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in MmioEndpoints)
            {
                VirtioTransport transport = Open(e);
                IReadOnlyList<VirtioSharedMemoryRegion> regions = transport.GetSharedMemoryRegions();
                Assert.That(regions.Select(r => r.Id), Is.EqualTo(e.SharedMemory.Select(r => r.ShmId).Order()), e.ToString());
                foreach (ExpectedRegion expected in e.SharedMemory)
                {
                    VirtioSharedMemoryRegion region = transport.GetSharedMemoryRegion(expected.ShmId);
                    Assert.That(region.PhysicalAddress, Is.EqualTo(e.MmioSharedMemoryBase!.Value + expected.Offset), $"{e} shmid {expected.ShmId}");
                    Assert.That(region.Length, Is.EqualTo(expected.Length), $"{e} shmid {expected.ShmId}");
                }
            }
        }
    }

    [Test]
    public void AbsentShmid_IsNotFound_OnEitherTransport()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioEndpoints)
            {
                VirtioTransport transport = Open(e, functions);
                foreach (byte absent in Enumerable.Range(0, 256).Select(i => (byte)i).Where(i => e.SharedMemory.All(r => r.ShmId != i)).Take(4))
                {
                    Assert.That(transport.TryGetSharedMemoryRegion(absent, out _), Is.False, $"{e} shmid {absent}");
                }
            }
        }
    }

    [Test]
    public void MmioAbsentShmid_ReadsLengthMinusOneAndBaseAllOnes()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in MmioEndpoints)
            {
                ulong registers = e.MmioBase!.Value;
                byte absent = Enumerable.Range(0, 256).Select(i => (byte)i).First(i => e.SharedMemory.All(r => r.ShmId != i));
                Platform.Write32(registers + VirtioMmio.ShmSel.Offset, absent);
                Assert.That(Platform.Read32(registers + VirtioMmio.ShmLenLow.Offset), Is.EqualTo(uint.MaxValue), e.ToString());
                Assert.That(Platform.Read32(registers + VirtioMmio.ShmLenHigh.Offset), Is.EqualTo(uint.MaxValue), e.ToString());
                Assert.That(Platform.Read32(registers + VirtioMmio.ShmBaseLow.Offset), Is.EqualTo(uint.MaxValue), e.ToString());
                Assert.That(Platform.Read32(registers + VirtioMmio.ShmBaseHigh.Offset), Is.EqualTo(uint.MaxValue), e.ToString());
            }
        }
    }

    [Test]
    public void PlainRegions_KeepWhatIsWritten_ChunkRegions_ReadAllOnesUntilMapped()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (ExpectedEndpoint e in VirtioEndpoints)
            {
                VirtioTransport transport = Open(e, functions);
                foreach (ExpectedRegion expected in e.SharedMemory.Where(r => r.Kind != RegionKind.Notify))
                {
                    VirtioSharedMemoryRegion region = transport.GetSharedMemoryRegion(expected.ShmId);
                    ulong at = region.Length / 2;
                    region.Write64(at, 0x1122_3344_5566_7788);
                    ulong back = region.Read64(at);
                    Assert.That(back, Is.EqualTo(expected.Kind == RegionKind.Plain ? 0x1122_3344_5566_7788 : ulong.MaxValue), $"{e} shmid {expected.ShmId} ({expected.Kind})");
                }
            }
        }
    }
}
