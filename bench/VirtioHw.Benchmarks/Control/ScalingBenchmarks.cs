using BenchmarkDotNet.Attributes;
using VirtioHw.Drivers.Ism;
using VirtioHw.Model;
using VirtioHw.Personalities.Model;

namespace VirtioHw.Benchmarks.Control;

/// <summary>
/// The ISM control operation with 10, 1,000 and 100,000 other regions alive in the domain. The
/// built-in virtio-ism (256 slots of 128 KiB) cannot hold 100,000 regions, so every case runs on one
/// larger description: 2^17 slots of 4 KiB (the smallest chunk the schema allows) and as many
/// notify-addresses, 512 MiB of domain memory; only the number of live regions differs.
/// </summary>
public class ScalingBenchmarks
{
    public const int Batch = 20;

    /// <summary>The live-region counts; <see cref="ScalingCommand"/> narrows them for a quick run.</summary>
    public static IEnumerable<int> LiveCounts => ScalingCommand.LiveCounts;

    private IsmBench _bench = null!;

    [ParamsSource(nameof(LiveCounts))]
    public int Live { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _bench = await IsmBench.StartAsync(new IsmModelDomain(2, Description())).ConfigureAwait(false);
        IsmDevice a = _bench.Devices[0];
        for (int i = 0; i < Live; i++)
        {
            await a.AllocateAsync(a.ChunkSize).ConfigureAwait(false);
        }
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _bench.DisposeAsync().ConfigureAwait(false);

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task AllocAttachDetachFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            await IsmControlOperation.RunAsync(_bench.Devices[0], _bench.Devices[1]).ConfigureAwait(false);
        }
    }

    /// <summary>The built-in virtio-ism with the regions and notify areas enlarged to 2^17 slots.</summary>
    public static EndpointDescription Description() => EndpointDescriptions.Parse("virtio-ism (2^17 slots of 4 KiB)", """
        name: virtio-ism-scaling
        personality: ism
        identity:
          vendor_id: 0x1af4
          device_id: 0x106c
          revision: 1
          class: 0x05
          subclass: 0x80
          subsystem_vendor_id: 0x1af4
          subsystem_id: 44
          virtio_device_id: 44
        bars:
          - { index: 0, size: 16K, type: mem32 }
          - { index: 1, size: 4K, type: mem32 }
          - { index: 2, size: 1G, type: mem64, prefetchable: true }
        virtio:
          device_features: 0x100_0000_0001
          common: { bar: 0, offset: 0x0000, length: 0x1000 }
          isr:    { bar: 0, offset: 0x1000, length: 0x1000 }
          notify: { bar: 0, offset: 0x2000, length: 0x1000, notify_off_multiplier: 4 }
          device: { bar: 0, offset: 0x3000, length: 0x1000 }
          pci_cfg_access: true
        msix:
          vectors: 8
          table: { bar: 1, offset: 0x000 }
          pba:   { bar: 1, offset: 0x800 }
        shared_memory:
          - { shmid: 1, name: regions, bar: 2, offset: 0, length: 512M, kind: chunks, chunk_size: 4K }
          - { shmid: 2, name: notify, bar: 2, offset: 512M, length: 512M, kind: notify, notify_size: 4K }
        queues:
          - { name: controlq, max_size: 256 }
          - { name: eventq, max_size: 256 }
        ism:
          cdid: 2f6d1b7c-93a4-4e0b-8d5e-6a1c0f3b9e72
          devid: 1
        backing_memory: 512M
        event_fifo_depth: 64
        """);
}
