namespace VirtioHw.Regc.Syntax;

public enum TokenKind
{
    Identifier,
    Number,
    String,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Semicolon,
    Comma,
    Equals,
    At,
    PlusEquals,
    PercentEquals,
    Arrow,
    End,
}

/// <summary>One lexical token. <see cref="Number"/> holds the value of numeric literals;
/// <see cref="NumberWidth"/> the declared width of a Verilog-style literal (<c>8'hff</c>), else 0.</summary>
public sealed record Token(TokenKind Kind, string Text, SourceLocation Location, ulong Number = 0, int NumberWidth = 0)
{
    public override string ToString() => Kind switch
    {
        TokenKind.End => "end of file",
        TokenKind.String => "string",
        TokenKind.Number => $"number {Text}",
        TokenKind.Identifier => $"'{Text}'",
        _ => $"'{Text}'",
    };
}
