using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtioHw.Firmware;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VirtioHw.Model;

/// <summary>
/// Turns the YAML of an endpoint description into its record, checking each value as it goes;
/// the rules across values are <see cref="DescriptionRules"/>'. Errors name the file and the key.
/// </summary>
internal sealed partial class DescriptionReader
{
    private readonly string _source;

    private DescriptionReader(string source) => _source = source;

    public static EndpointDescription Read(string source, string yaml)
    {
        IDeserializer deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .WithDuplicateKeyChecking()
            .Build();
        Document? document;
        try
        {
            document = deserializer.Deserialize<Document?>(yaml);
        }
        catch (YamlException e)
        {
            string reason = (e.InnerException?.Message ?? e.Message).Split('\n')[0];
            Match unknown = UnknownKey().Match(reason);
            if (unknown.Success)
            {
                reason = $"unknown key '{unknown.Groups[1].Value}'";
            }

            throw new EndpointDescriptionException($"{source} line {e.Start.Line}: {reason}", e);
        }

        if (document is null)
        {
            throw new EndpointDescriptionException($"{source}: the description is empty");
        }

        return new DescriptionReader(source).Convert(document);
    }

    private EndpointDescription Convert(Document d)
    {
        string name = Required("name", d.Name);
        EndpointPersonality personality = Required("personality", d.Personality) switch
        {
            "ism" => EndpointPersonality.Ism,
            "dmabuf" => EndpointPersonality.Dmabuf,
            "ivshmem" => EndpointPersonality.Ivshmem,
            string other => throw Error($"personality '{other}' is not one of ism, dmabuf, ivshmem"),
        };

        IdentityDocument id = d.Identity ?? throw Error("'identity' is missing");
        var identity = new PciIdentity(
            (ushort)Number("identity.vendor_id", id.VendorId, null, ushort.MaxValue),
            (ushort)Number("identity.device_id", id.DeviceId, null, ushort.MaxValue),
            (byte)Number("identity.revision", id.Revision, 0, byte.MaxValue),
            (byte)Number("identity.class", id.Class, null, byte.MaxValue),
            (byte)Number("identity.subclass", id.Subclass, null, byte.MaxValue),
            (byte)Number("identity.prog_if", id.ProgIf, 0, byte.MaxValue),
            (ushort)Number("identity.subsystem_vendor_id", id.SubsystemVendorId, 0, ushort.MaxValue),
            (ushort)Number("identity.subsystem_id", id.SubsystemId, 0, ushort.MaxValue));

        ImmutableArray<BarDescription> bars = Items("bars", d.Bars, Bar);
        ImmutableArray<SharedMemoryRegion> regions = Items("shared_memory", d.SharedMemory, Region);
        ImmutableArray<QueueDescription> queues = Items("queues", d.Queues, Queue);
        VirtioDescription? virtio = d.Virtio is null ? null : Virtio(d.Virtio, id.VirtioDeviceId);
        if (virtio is null && id.VirtioDeviceId is not null)
        {
            throw Error("identity.virtio_device_id is given but there is no 'virtio' section");
        }

        // Enough for every plain region at its offset, and for a chunk region's worth of chunks.
        ulong defaultBacking = regions.Select(r => r.Kind switch
        {
            SharedMemoryKind.Plain => r.Offset + r.Length,
            SharedMemoryKind.Chunks => r.Length,
            _ => 0UL,
        }).DefaultIfEmpty(0UL).Max();
        return new EndpointDescription(
            name,
            _source,
            personality,
            identity,
            bars,
            virtio,
            d.Msix is null ? null : Msix(d.Msix),
            regions,
            queues,
            d.Ivshmem is null ? null : Ivshmem(d.Ivshmem),
            d.Ism is null ? null : Ism(d.Ism),
            d.Mmio is null ? null : new MmioPlacement(
                Number("mmio.base", d.Mmio.Base, null, ulong.MaxValue),
                Number("mmio.shm_base", d.Mmio.ShmBase, 0, ulong.MaxValue)),
            Number("backing_memory", d.BackingMemory, defaultBacking, (ulong)Array.MaxLength),
            (int)Number("event_fifo_depth", d.EventFifoDepth, 64, int.MaxValue));
    }

    /// <summary>Each entry of a list through <paramref name="read"/>; an empty entry (a bare '-') is refused by its key.</summary>
    private ImmutableArray<TResult> Items<TDocument, TResult>(string key, List<TDocument>? items, Func<TDocument, int, TResult> read)
        where TDocument : class =>
        [.. (items ?? []).Select((item, position) => item is null ? throw Error($"{key}[{position}] is empty") : read(item, position))];

    private BarDescription Bar(BarDocument b, int position)
    {
        string key = $"bars[{position}]";
        bool is64 = false, io = false;
        switch (b.Type ?? "mem32")
        {
            case "mem32": break;
            case "mem64": is64 = true; break;
            case "io": io = true; break;
            default: throw Error($"{key}.type '{b.Type}' is not one of mem32, mem64, io");
        }

        return new BarDescription(
            (int)Number($"{key}.index", b.Index, null, int.MaxValue),
            Number($"{key}.size", b.Size, null, ulong.MaxValue),
            is64,
            b.Prefetchable ?? false,
            io);
    }

    private VirtioDescription Virtio(VirtioDocument v, string? deviceId) => new(
        (byte)Number("identity.virtio_device_id", deviceId, null, byte.MaxValue),
        Number("virtio.device_features", v.DeviceFeatures, 0, ulong.MaxValue),
        Location("virtio.common", v.Common),
        Location("virtio.isr", v.Isr),
        Location("virtio.notify", v.Notify),
        (uint)Number("virtio.notify.notify_off_multiplier", v.Notify?.NotifyOffMultiplier, null, uint.MaxValue),
        v.Device is null ? null : Location("virtio.device", v.Device),
        v.PciCfgAccess ?? false);

    private MsixDescription Msix(MsixDocument m)
    {
        PlacementDocument table = m.Table ?? throw Error("msix.table is missing");
        PlacementDocument pba = m.Pba ?? throw Error("msix.pba is missing");
        return new MsixDescription(
            (int)Number("msix.vectors", m.Vectors, null, int.MaxValue),
            (int)Number("msix.table.bar", table.Bar, null, int.MaxValue),
            Number("msix.table.offset", table.Offset, null, ulong.MaxValue),
            (int)Number("msix.pba.bar", pba.Bar, null, int.MaxValue),
            Number("msix.pba.offset", pba.Offset, null, ulong.MaxValue));
    }

    private SharedMemoryRegion Region(SharedMemoryDocument r, int position)
    {
        string key = $"shared_memory[{position}]";
        SharedMemoryKind kind = Required($"{key}.kind", r.Kind) switch
        {
            "chunks" => SharedMemoryKind.Chunks,
            "notify" => SharedMemoryKind.Notify,
            "plain" => SharedMemoryKind.Plain,
            string other => throw Error($"{key}.kind '{other}' is not one of chunks, notify, plain"),
        };
        ulong granule = kind switch
        {
            SharedMemoryKind.Chunks => Number($"{key}.chunk_size", r.ChunkSize, null, ulong.MaxValue),
            SharedMemoryKind.Notify => Number($"{key}.notify_size", r.NotifySize, null, ulong.MaxValue),
            _ => 0,
        };
        return new SharedMemoryRegion(
            (byte)Number($"{key}.shmid", r.Shmid, null, byte.MaxValue),
            Required($"{key}.name", r.Name),
            (int)Number($"{key}.bar", r.Bar, null, int.MaxValue),
            Number($"{key}.offset", r.Offset, null, ulong.MaxValue),
            Number($"{key}.length", r.Length, null, ulong.MaxValue),
            kind,
            granule);
    }

    private QueueDescription Queue(QueueDocument q, int position) => new(
        Required($"queues[{position}].name", q.Name),
        (ushort)Number($"queues[{position}].max_size", q.MaxSize, null, ushort.MaxValue));

    private IvshmemDescription Ivshmem(IvshmemDocument i) => new(
        Location("ivshmem.registers", i.Registers),
        (uint)Number("ivshmem.iv_position", i.IvPosition, 0, uint.MaxValue),
        i.Compat switch
        {
            null or "specification" => IvshmemCompat.Specification,
            "qemu" => IvshmemCompat.Qemu,
            string other => throw Error($"ivshmem.compat '{other}' is not one of specification, qemu"),
        });

    private IsmDescription Ism(IsmDocument i)
    {
        string text = Required("ism.cdid", i.Cdid);
        if (!Guid.TryParse(text, out Guid cdid))
        {
            throw Error($"ism.cdid '{text}' is not a UUID");
        }

        return new IsmDescription(cdid, Number("ism.devid", i.Devid, null, ulong.MaxValue));
    }

    private StructureLocation Location(string key, LocationDocument? l)
    {
        if (l is null)
        {
            throw Error($"{key} is missing");
        }

        return new StructureLocation(
            (int)Number($"{key}.bar", l.Bar, null, int.MaxValue),
            Number($"{key}.offset", l.Offset, null, ulong.MaxValue),
            Number($"{key}.length", l.Length, null, ulong.MaxValue));
    }

    private string Required(string key, string? value) =>
        string.IsNullOrWhiteSpace(value) ? throw Error($"{key} is missing") : value;

    private ulong Number(string key, string? text, ulong? fallback, ulong max)
    {
        if (text is null)
        {
            return fallback ?? throw Error($"{key} is missing");
        }

        if (!NumberText.TryParse(text, out ulong value))
        {
            throw Error($"{key} '{text}' is not a number (decimal, 0x hex, or with a K, M or G suffix)");
        }

        return value <= max ? value : throw Error($"{key} {text} is larger than {max}");
    }

    private EndpointDescriptionException Error(string what) => new($"{_source}: {what}");

    [GeneratedRegex("Property '([^']*)' not found on type")]
    private static partial Regex UnknownKey();

    // YAML shapes. Numbers stay text so they can be written in hex or with a suffix and be
    // reported as written.
#pragma warning disable CA1812 // Instantiated by YamlDotNet.
    private sealed class Document
    {
        public string? Name { get; set; }

        public string? Personality { get; set; }

        public IdentityDocument? Identity { get; set; }

        public List<BarDocument>? Bars { get; set; }

        public VirtioDocument? Virtio { get; set; }

        public MsixDocument? Msix { get; set; }

        public List<SharedMemoryDocument>? SharedMemory { get; set; }

        public List<QueueDocument>? Queues { get; set; }

        public IvshmemDocument? Ivshmem { get; set; }

        public IsmDocument? Ism { get; set; }

        public MmioDocument? Mmio { get; set; }

        public string? BackingMemory { get; set; }

        public string? EventFifoDepth { get; set; }
    }

    private sealed class IdentityDocument
    {
        public string? VendorId { get; set; }

        public string? DeviceId { get; set; }

        public string? Revision { get; set; }

        public string? Class { get; set; }

        public string? Subclass { get; set; }

        public string? ProgIf { get; set; }

        public string? SubsystemVendorId { get; set; }

        public string? SubsystemId { get; set; }

        public string? VirtioDeviceId { get; set; }
    }

    private sealed class BarDocument
    {
        public string? Index { get; set; }

        public string? Size { get; set; }

        public string? Type { get; set; }

        public bool? Prefetchable { get; set; }
    }

    /// <summary>A place in a BAR: the MSI-X table and PBA.</summary>
    private class PlacementDocument
    {
        public string? Bar { get; set; }

        public string? Offset { get; set; }
    }

    /// <summary>A structure: a place and a length.</summary>
    private class LocationDocument : PlacementDocument
    {
        public string? Length { get; set; }
    }

    private sealed class NotifyDocument : LocationDocument
    {
        public string? NotifyOffMultiplier { get; set; }
    }

    private sealed class VirtioDocument
    {
        public string? DeviceFeatures { get; set; }

        public LocationDocument? Common { get; set; }

        public LocationDocument? Isr { get; set; }

        public NotifyDocument? Notify { get; set; }

        public LocationDocument? Device { get; set; }

        public bool? PciCfgAccess { get; set; }
    }

    private sealed class MsixDocument
    {
        public string? Vectors { get; set; }

        public PlacementDocument? Table { get; set; }

        public PlacementDocument? Pba { get; set; }
    }

    private sealed class SharedMemoryDocument
    {
        public string? Shmid { get; set; }

        public string? Name { get; set; }

        public string? Bar { get; set; }

        public string? Offset { get; set; }

        public string? Length { get; set; }

        public string? Kind { get; set; }

        public string? ChunkSize { get; set; }

        public string? NotifySize { get; set; }
    }

    private sealed class QueueDocument
    {
        public string? Name { get; set; }

        public string? MaxSize { get; set; }
    }

    private sealed class IvshmemDocument
    {
        public LocationDocument? Registers { get; set; }

        public string? IvPosition { get; set; }

        public string? Compat { get; set; }
    }

    private sealed class IsmDocument
    {
        public string? Cdid { get; set; }

        public string? Devid { get; set; }
    }

    private sealed class MmioDocument
    {
        public string? Base { get; set; }

        public string? ShmBase { get; set; }
    }
#pragma warning restore CA1812
}
