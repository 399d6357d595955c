namespace VirtioHw.Firmware.Ism;

/// <summary>The domain cannot be reached any more (its server closed the connection or broke the protocol).</summary>
public sealed class IsmDomainUnavailableException : Exception
{
    public IsmDomainUnavailableException()
    {
    }

    public IsmDomainUnavailableException(string message)
        : base(message)
    {
    }

    public IsmDomainUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
