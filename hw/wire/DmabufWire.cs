namespace VirtioHw.Wire;

/// <summary>
/// The virtio-dmabuf wire format (the seed's virtio-dmabuf device specification): one message
/// layout, <c>struct virtio_vdmabuf_msg</c> (le32 cmd, then 64 le32 of op), on two queues.
/// </summary>
public static class DmabufWire
{
    /// <summary>The queue the device sends on (VM id answers, releases).</summary>
    public const ushort RecvQueue = 0;

    /// <summary>The queue the driver sends on (VM id requests, exports).</summary>
    public const ushort SendQueue = 1;

    /// <summary>le32 cmd and le32 op[64].</summary>
    public const int MessageSize = 4 + 256;

    public const uint CmdNeedVmId = 1;
    public const uint CmdExport = 2;
    public const uint CmdRelease = 3;

    /// <summary>Bytes of op that hold a buffer id: le64 id, then le32 rng_key[2].</summary>
    public const int IdSize = 16;

    /// <summary>Bytes of private data after the id.</summary>
    public const int DataSize = 256 - IdSize;

    /// <summary>The metadata at the start of the private data that every export carries.</summary>
    public const int MetadataSize = 20;
}
