namespace VirtioHw.Host.Virtio;

/// <summary>
/// A virtio device did not behave as the specification asks (refused features, a reset that does
/// not complete, a missing structure). The message is one sentence naming the device.
/// </summary>
public sealed class VirtioException : Exception
{
    public VirtioException()
    {
    }

    public VirtioException(string message)
        : base(message)
    {
    }

    public VirtioException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
