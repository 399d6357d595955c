namespace VirtioHw.Flash;

/// <summary>The phases a flashing run reports progress for.</summary>
public enum FlashPhase
{
    Read,
    Erase,
    Program,
    Verify,
}

/// <summary>Receives byte counts per phase; renderers turn them into bars, rates and ETAs.</summary>
public interface IFlashProgress
{
    void Begin(FlashPhase phase, long totalBytes);

    void Advance(long bytes);

    void End();
}

/// <summary>Progress that goes nowhere (library callers and tests that do not watch).</summary>
public sealed class NullFlashProgress : IFlashProgress
{
    public static NullFlashProgress Instance { get; } = new();

    public void Begin(FlashPhase phase, long totalBytes)
    {
    }

    public void Advance(long bytes)
    {
    }

    public void End()
    {
    }
}
