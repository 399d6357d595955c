namespace VirtioHw.Host.Virtio;

/// <summary>
/// A submission was still outstanding when its queue was reset, so the device never returned
/// it and never will.
/// </summary>
public sealed class VirtqueueResetException : Exception
{
    public VirtqueueResetException()
        : base("the virtqueue was reset before the device returned this submission")
    {
    }

    public VirtqueueResetException(string message)
        : base(message)
    {
    }

    public VirtqueueResetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal VirtqueueResetException(ushort queueIndex)
        : base($"virtqueue {queueIndex} was reset before the device returned this submission")
    {
        QueueIndex = queueIndex;
    }

    /// <summary>The queue that was reset, when known.</summary>
    public ushort? QueueIndex { get; }
}
