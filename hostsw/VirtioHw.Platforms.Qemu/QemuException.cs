namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// QEMU could not be started, died, or stopped answering. The message is one line a user can act
/// on: <c>qemu-system-x86_64 not found; apt-get install qemu-system-x86</c>, or the exit code and
/// the last line QEMU wrote to stderr.
/// </summary>
public sealed class QemuException : Exception
{
    public QemuException()
        : this("QEMU failed")
    {
    }

    public QemuException(string message)
        : base(message)
    {
    }

    public QemuException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
