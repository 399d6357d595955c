namespace VirtioHw.Flash;

/// <summary>
/// Model time of the simulated chip: advances with every bus byte (at the bus clock) and with
/// every host wait, never with the wall clock, so a run reports how long real hardware would take.
/// </summary>
public sealed class SimClock : TimeProvider
{
    private long _nanoseconds;

    public long Nanoseconds => _nanoseconds;

    public TimeSpan Elapsed => TimeSpan.FromTicks(_nanoseconds / 100);

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => _nanoseconds;

    public void Advance(TimeSpan duration)
    {
        if (duration > TimeSpan.Zero)
        {
            _nanoseconds += duration.Ticks * 100;
        }
    }

    public void AdvanceNanoseconds(long nanoseconds)
    {
        if (nanoseconds > 0)
        {
            _nanoseconds += nanoseconds;
        }
    }
}
