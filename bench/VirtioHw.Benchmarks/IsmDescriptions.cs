using System.Globalization;
using VirtioHw.Model;

namespace VirtioHw.Benchmarks;

/// <summary>
/// The built-in virtio-ism endpoint with a larger shared memory window: the benchmarks need more
/// live regions (scaling) or larger regions (data path) than its 256 slots of 128 KiB hold. Only the
/// window's geometry differs from hw/endpoints/virtio-ism.yaml.
/// </summary>
public static class IsmDescriptions
{
    /// <param name="chunkSize">Bytes per chunk slot, a power of two of at least 4 KiB.</param>
    /// <param name="slots">Chunk slots (and notify-addresses of 4 KiB), a power of two.</param>
    public static EndpointDescription WithWindow(ulong chunkSize, ulong slots)
    {
        ulong regions = chunkSize * slots, notify = 4096 * slots;
        ulong bar = 2 * Math.Max(regions, notify);
        string yaml = string.Create(CultureInfo.InvariantCulture, $$"""
            name: virtio-ism-{{slots}}x{{chunkSize}}
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
              - { index: 2, size: {{bar}}, type: mem64, prefetchable: true }
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
              - { shmid: 1, name: regions, bar: 2, offset: 0, length: {{regions}}, kind: chunks, chunk_size: {{chunkSize}} }
              - { shmid: 2, name: notify, bar: 2, offset: {{bar / 2}}, length: {{notify}}, kind: notify, notify_size: 4096 }
            queues:
              - { name: controlq, max_size: 256 }
              - { name: eventq, max_size: 256 }
            ism:
              cdid: 2f6d1b7c-93a4-4e0b-8d5e-6a1c0f3b9e72
              devid: 1
            backing_memory: {{regions}}
            event_fifo_depth: 64
            """);
        return EndpointDescriptions.Parse($"virtio-ism with {slots} slots of {chunkSize} bytes", yaml);
    }
}
