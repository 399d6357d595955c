namespace VirtioHw.Flash;

/// <summary>
/// One digital line next to the flash: CRESET_B (an output the host drives) or CDONE (an input
/// the FPGA drives). The backend that opened the line releases it on <see cref="Dispose()"/>.
/// </summary>
public abstract class GpioLine : IDisposable
{
    protected GpioLine(string name) => Name = name;

    /// <summary>Board-level name such as <c>CRESET_B</c>, used in messages.</summary>
    public string Name { get; }

    /// <summary>Samples the line: true is high.</summary>
    public abstract bool Read();

    /// <summary>Drives the line (it becomes an output if it was not).</summary>
    public abstract void Write(bool high);

    /// <summary>Stops driving the line; it follows its pull resistor or the other side.</summary>
    public abstract void Release();

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
