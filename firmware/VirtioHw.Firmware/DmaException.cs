namespace VirtioHw.Firmware;

/// <summary>A DMA the hardware refused: the range is not system memory, or bus mastering is off.</summary>
public sealed class DmaException : Exception
{
    public DmaException()
    {
    }

    public DmaException(string message)
        : base(message)
    {
    }

    public DmaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
