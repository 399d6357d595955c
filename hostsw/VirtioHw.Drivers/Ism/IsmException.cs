using VirtioHw.Wire;

namespace VirtioHw.Drivers.Ism;

/// <summary>A virtio-ism command the device refused; <see cref="Ack"/> says how.</summary>
public class IsmException : Exception
{
    public IsmException()
    {
    }

    public IsmException(string message)
        : base(message)
    {
    }

    public IsmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public IsmException(IsmAck ack, string message)
        : base(message)
    {
        Ack = ack;
    }

    public IsmAck Ack { get; } = IsmAck.Error;

    /// <summary>The exception for a refused command.</summary>
    public static IsmException FromAck(IsmAck ack, string command) => ack switch
    {
        IsmAck.NoEntry => new IsmNoEntryException($"{command}: no such region (ENOENT)"),
        IsmAck.NoMemory => new IsmNoMemoryException($"{command}: the domain has no memory left (ENOMEM)"),
        IsmAck.NoSpace => new IsmNoSpaceException($"{command}: no free chunks in the device memory (ENOSPEC)"),
        IsmAck.AttachDenied => new IsmAttachDeniedException($"{command}: this device may not attach the region (PERM_EATTACH)"),
        IsmAck.ReadDenied => new IsmReadDeniedException($"{command}: this device may not read the region (PERM_EREAD)"),
        IsmAck.WriteDenied => new IsmWriteDeniedException($"{command}: this device may not write the region (PERM_EWRITE)"),
        IsmAck.Error => new IsmCommandFailedException($"{command}: the device refused the command (ERR)"),
        _ => new IsmException(ack, $"{command}: the device answered ack {(byte)ack}"),
    };
}

/// <summary>VIRTIO_ISM_ENOENT: the region does not exist, or this device does not refer to it.</summary>
public sealed class IsmNoEntryException(string message) : IsmException(IsmAck.NoEntry, message);

/// <summary>VIRTIO_ISM_ENOMEM: the domain cannot provide the memory.</summary>
public sealed class IsmNoMemoryException(string message) : IsmException(IsmAck.NoMemory, message);

/// <summary>VIRTIO_ISM_ENOSPEC: not enough free chunks in this device's memory.</summary>
public sealed class IsmNoSpaceException(string message) : IsmException(IsmAck.NoSpace, message);

/// <summary>VIRTIO_ISM_PERM_EATTACH: this device lacks the attach permission.</summary>
public sealed class IsmAttachDeniedException(string message) : IsmException(IsmAck.AttachDenied, message);

/// <summary>VIRTIO_ISM_PERM_EREAD: read access was asked for without the read permission.</summary>
public sealed class IsmReadDeniedException(string message) : IsmException(IsmAck.ReadDenied, message);

/// <summary>VIRTIO_ISM_PERM_EWRITE: write access was asked for without the write permission.</summary>
public sealed class IsmWriteDeniedException(string message) : IsmException(IsmAck.WriteDenied, message);

/// <summary>VIRTIO_ISM_E2BIG: the reply buffer cannot hold the chunk list; <see cref="Needed"/> is the num to make room for.</summary>
public sealed class IsmTooBigException(string message, ulong needed) : IsmException(IsmAck.TooBig, message)
{
    public ulong Needed { get; } = needed;
}

/// <summary>VIRTIO_ISM_ERR: a malformed or disallowed command (a grant without the manage permission, say).</summary>
public sealed class IsmCommandFailedException(string message) : IsmException(IsmAck.Error, message);

/// <summary>
/// The device reports DEVICE_NEEDS_RESET: it stopped working (its communication domain is gone,
/// or it lost events) and every region it had mapped is lost. Reopen the device (or rejoin the domain).
/// </summary>
public sealed class IsmDeviceNeedsResetException(string message) : IsmException(IsmAck.Error, message);
