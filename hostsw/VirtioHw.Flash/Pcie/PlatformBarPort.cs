using VirtioHw.Host.Platforms;

namespace VirtioHw.Flash;

/// <summary>
/// The controller in a BAR of a PCIe function, reached through any <see cref="Platform"/>'s memory
/// accesses (sysfs on a host with the card, QEMU, the model): a deployed card updates its own
/// configuration flash this way.
/// </summary>
public sealed class PlatformBarPort : SpiControllerPort
{
    private readonly Platform _platform;
    private readonly ulong _base;
    private readonly bool _ownsPlatform;

    /// <param name="platform">The platform; disposed with the port when <paramref name="ownsPlatform"/>.</param>
    /// <param name="baseAddress">Bus address of the controller's first register (BAR address plus offset).</param>
    /// <param name="controllerClockHz">The controller's clock on that card.</param>
    /// <param name="description">Where it is, for messages (e.g. <c>0000:01:00.0 BAR 0 + 0x1000</c>).</param>
    /// <param name="ownsPlatform">Whether disposing the port disposes the platform.</param>
    public PlatformBarPort(Platform platform, ulong baseAddress, long controllerClockHz, string description, bool ownsPlatform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(controllerClockHz);
        _platform = platform;
        _base = baseAddress;
        ControllerClockHz = controllerClockHz;
        Description = description;
        _ownsPlatform = ownsPlatform;
    }

    public override string Description { get; }

    public override long ControllerClockHz { get; }

    public override uint Read(uint offset) => _platform.Read32(_base + offset);

    public override void Write(uint offset, uint value) => _platform.Write32(_base + offset, value);

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsPlatform)
        {
            _platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
