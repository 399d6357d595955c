namespace VirtioHw.Firmware;

/// <summary>What a virtio firmware programs at boot; taken at construction and not changed after.</summary>
public sealed record VirtioFirmwareSettings
{
    /// <summary>Device feature bits to offer; <see cref="VirtioFeatureBits.Version1"/> is always added.</summary>
    public ulong DeviceFeatures { get; init; }

    /// <summary>Largest size of each virtqueue, queue 0 first; 0 leaves a queue absent.</summary>
    public IReadOnlyList<ushort> QueueMaxSizes { get; init; } = [];

    /// <summary>Initial device configuration, a whole number of 32-bit words, written from offset 0.</summary>
    public ReadOnlyMemory<byte> DeviceConfig { get; init; }
}
