using System.Text;
using VirtioHw.Domain;
using VirtioHw.Drivers.Ism;
using VirtioHw.Host.Platforms;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// virtio-ism without VIRTIO_ISM_F_DEV_MEM in a domain served to other processes: the model's
/// devices joined to a <see cref="DomainServer"/> (the RTL suites hold their domain in process).
/// </summary>
[CancelAfter(30_000)]
public sealed class IsmServedDriverMemoryTests
{
    private static readonly IsmDeviceSettings DriverMemory = new() { DeviceMemory = false };

    [Test]
    public async Task ServedDomain_AllocInDriverMemory_AcksErr_SinceOtherProcessesCannotReachTheBuffer(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("vhwp-").FullName;
        try
        {
            var settings = new DomainServerSettings { SocketPath = Path.Combine(directory, "d.sock") };
            using var server = new DomainServer(settings);
            await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(settings.SocketPath, 1), DriverMemory, cancellationToken);
            IsmDevice device = bench.Devices[0];
            using DmaRegion buffer = bench.Platform.AllocateDma((int)device.ChunkSize);
            buffer.Write(0, [0x33]);

            byte[] reply = await device.AllocRawAsync(device.ChunkSize, buffer.BusAddress, cancellationToken);
            var first = new byte[1];
            buffer.Read(0, first);

            using (Assert.EnterMultipleScope())
            {
                Assert.That((IsmAck)reply[0], Is.EqualTo(IsmAck.Error));
                Assert.That(server.Domain.RegionCount, Is.Zero);
                Assert.That(first[0], Is.EqualTo(0x33), "a refused alloc leaves the buffer alone");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task ServedDomain_AttachWithoutDevMem_MapsTheRegionInDomainMemory(CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("vhwp-").FullName;
        try
        {
            var settings = new DomainServerSettings { SocketPath = Path.Combine(directory, "d.sock") };
            using var server = new DomainServer(settings);
            await using IsmBench first = await IsmBench.StartAsync(IsmModelDomain.Join(settings.SocketPath, 1), cancellationToken);
            await using IsmBench second = await IsmBench.StartAsync(IsmModelDomain.Join(settings.SocketPath, 1), DriverMemory, cancellationToken);
            IsmRegion region = await first.Devices[0].AllocateAsync(first.Devices[0].ChunkSize, cancellationToken);
            region.Write(0, "device memory"u8);

            IsmRegion attached = await second.Devices[0].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken);
            var seen = new byte[13];
            attached.Read(0, seen);

            Assert.That(Encoding.ASCII.GetString(seen), Is.EqualTo("device memory"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
