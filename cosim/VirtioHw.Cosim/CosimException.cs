namespace VirtioHw.Cosim;

/// <summary>
/// The simulation cannot go on: an assertion fired, the model hit <c>$fatal</c>, a bus access got
/// no answer. The message is one sentence naming the top, the access and the cycle.
/// </summary>
public class CosimException : Exception
{
    public CosimException() : this("co-simulation failed") { }

    public CosimException(string message) : base(message) { }

    public CosimException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A bus access or wait did not complete within its cycle budget; the top is left mid-transaction until <see cref="CosimTop.Reset"/>.</summary>
public sealed class CosimTimeoutException : CosimException
{
    public CosimTimeoutException() : this("co-simulation timed out") { }

    public CosimTimeoutException(string message) : base(message) { }

    public CosimTimeoutException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The native library of a top is not built, or was built from other RTL than its C# binding.</summary>
public sealed class CosimLibraryException : CosimException
{
    public CosimLibraryException() : this("co-simulation library unavailable") { }

    public CosimLibraryException(string message) : base(message) { }

    public CosimLibraryException(string message, Exception inner) : base(message, inner) { }
}
