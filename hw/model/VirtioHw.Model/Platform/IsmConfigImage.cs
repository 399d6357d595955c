using System.Buffers.Binary;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The struct virtio_ism_config firmware writes at boot, from an ISM description: cdid (the UUID
/// as a 128-bit number, low half first), devid, and the chunk and notify-address sizes of the
/// shared memory regions.
/// </summary>
public static class IsmConfigImage
{
    public static byte[] Build(EndpointDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        IsmDescription ism = description.Ism
            ?? throw new ArgumentException($"{description.Name} is not an ism endpoint", nameof(description));
        Span<byte> uuid = stackalloc byte[16];
        ism.Cdid.TryWriteBytes(uuid, bigEndian: true, out _);
        var image = new byte[IsmConfig.Size];
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.CdidLo.Offset), BinaryPrimitives.ReadUInt64BigEndian(uuid[8..]));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.CdidHi.Offset), BinaryPrimitives.ReadUInt64BigEndian(uuid[..8]));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.Devid.Offset), ism.DevId);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.ChunkSize.Offset), description.FindSharedMemory(IsmShmId.Regions)!.GranuleSize);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)IsmConfig.NotifySize.Offset), description.FindSharedMemory(IsmShmId.Notify)!.GranuleSize);
        return image;
    }
}
