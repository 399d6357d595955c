namespace VirtioHw.Model;

/// <summary>An endpoint description that cannot be read or breaks a rule; the message is one line naming the file and the key.</summary>
public sealed class EndpointDescriptionException : Exception
{
    public EndpointDescriptionException()
    {
    }

    public EndpointDescriptionException(string message)
        : base(message)
    {
    }

    public EndpointDescriptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
