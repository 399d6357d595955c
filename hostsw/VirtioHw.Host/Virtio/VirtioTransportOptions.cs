namespace VirtioHw.Host.Virtio;

/// <summary>How a <see cref="VirtioTransport"/> waits and retries. Immutable once built.</summary>
public sealed class VirtioTransportOptions
{
    private readonly TimeSpan _resetTimeout = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _pollInterval = TimeSpan.FromMilliseconds(1);
    private readonly int _configRetries = 64;

    /// <summary>Defaults: 1 s for a reset, 1 ms polling, 64 config read attempts.</summary>
    public static VirtioTransportOptions Default { get; } = new();

    /// <summary>
    /// How long a device reset or a queue reset may take before the transport gives up. The
    /// device is polled at least a few times however short this is.
    /// </summary>
    public TimeSpan ResetTimeout
    {
        get => _resetTimeout;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _resetTimeout = value;
        }
    }

    /// <summary>Interval of interrupt polling when the device has no interrupt the platform can deliver.</summary>
    public TimeSpan PollInterval
    {
        get => _pollInterval;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _pollInterval = value;
        }
    }

    /// <summary>
    /// Attempts at reading the device configuration under one config generation before giving up
    /// on a device whose configuration never holds still.
    /// </summary>
    public int ConfigRetries
    {
        get => _configRetries;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _configRetries = value;
        }
    }
}
