using VirtioHw.Model;

namespace VirtioHw.Model.Tests;

/// <summary>Description texts for tests: the built-in ones, and a function with every kind of BAR.</summary>
internal static class Yaml
{
    public static string Builtin(string name)
    {
        using Stream stream = typeof(EndpointDescriptions).Assembly.GetManifestResourceStream($"endpoints/{name}.yaml")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A dmabuf-like function with a 32-bit BAR, an I/O BAR, a 64-bit prefetchable BAR and a 32-bit prefetchable BAR; BAR 5 is unimplemented.</summary>
    public const string EveryBarKind = """
        name: every-bar
        personality: dmabuf
        identity: { vendor_id: 0x1af4, device_id: 0x1064, class: 0x05, subclass: 0x80, virtio_device_id: 36 }
        bars:
          - { index: 0, size: 16K, type: mem32 }
          - { index: 1, size: 256, type: io }
          - { index: 2, size: 1M, type: mem64, prefetchable: true }
          - { index: 4, size: 4K, type: mem32, prefetchable: true }
        virtio:
          common: { bar: 0, offset: 0x0000, length: 0x1000 }
          isr:    { bar: 0, offset: 0x1000, length: 0x1000 }
          notify: { bar: 0, offset: 0x2000, length: 0x1000, notify_off_multiplier: 0 }
        msix:
          vectors: 2
          table: { bar: 4, offset: 0 }
          pba:   { bar: 4, offset: 0x800 }
        queues:
          - { name: q0, max_size: 64 }
        """;
}
