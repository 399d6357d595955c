namespace VirtioHw.Regc;

/// <summary>A place in a description: file, 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// An error in a register description. Reported as one line,
/// <c>file:line:column: error: what is wrong</c>, never as a stack trace.
/// </summary>
public sealed class RdlException : Exception
{
    public RdlException(SourceLocation location, string problem)
        : base($"{location}: error: {problem}")
    {
        Location = location;
        Problem = problem;
    }

    public RdlException() : this(default, "invalid description") { }

    public RdlException(string message) : this(default, message) { }

    public RdlException(string message, Exception innerException) : base(message, innerException) => Problem = message;

    public SourceLocation Location { get; }

    public string Problem { get; } = "";
}
