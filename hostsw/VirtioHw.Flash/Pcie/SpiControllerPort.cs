namespace VirtioHw.Flash;

/// <summary>
/// Where the registers of the SPI flash controller (hw/regs/spi_flash_ctrl.rdl) are reached: 32-bit
/// accesses at byte offsets inside the block, and the clock that times waits there. A port owns
/// whatever it opened (a platform, a co-simulated top) and releases it on <see cref="Dispose()"/>.
/// </summary>
public abstract class SpiControllerPort : IDisposable
{
    /// <summary>Where the controller is, for messages (a PCI function and BAR, the co-simulated top).</summary>
    public abstract string Description { get; }

    /// <summary>Frequency of the controller's clock, which its SCK divider divides.</summary>
    public abstract long ControllerClockHz { get; }

    /// <summary>What the controller did so far, for the run's notes; null when it keeps no count.</summary>
    public virtual string? Activity => null;

    public abstract uint Read(uint offset);

    public abstract void Write(uint offset, uint value);

    /// <summary>Clock for timeouts and rates: wall time for hardware.</summary>
    public virtual TimeProvider Time => TimeProvider.System;

    /// <summary>Waits without touching the controller: wall time for hardware.</summary>
    public virtual void Wait(TimeSpan duration) => SpiBus.WallClockWait(duration);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
