namespace VirtioHw.Drivers.Ism;

/// <summary>How an <see cref="IsmDevice"/> is brought up; taken at <see cref="IsmDevice.OpenAsync(VirtioHw.Host.Virtio.VirtioTransport, IsmDeviceSettings, CancellationToken)"/> and not changed after.</summary>
public sealed record IsmDeviceSettings
{
    /// <summary>
    /// True (the default): negotiate VIRTIO_ISM_F_DEV_MEM and refuse a device without it; regions
    /// live in device memory. False: leave it off; the driver passes a buffer of platform DMA memory
    /// with every alloc and attach, and frees an allocated region's buffer on its BUFFER_FREE event.
    /// </summary>
    public bool DeviceMemory { get; init; } = true;

    /// <summary>
    /// Eventq buffers the driver keeps posted (default 16). With none the device keeps events until
    /// its backlog is full and then sets DEVICE_NEEDS_RESET: events are never lost unseen.
    /// </summary>
    public int EventBuffers { get; init; } = 16;

    /// <summary>Bytes of each eventq buffer (default 256): the device packs as many whole events into one as fit.</summary>
    public int EventBufferSize { get; init; } = 256;

    /// <summary>
    /// How long a control command may wait for the device's reply (default 30 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for ever). A device that stops answering then fails
    /// the command with one line instead of holding its caller.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
