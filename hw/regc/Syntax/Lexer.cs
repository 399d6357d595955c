using System.Text;

namespace VirtioHw.Regc.Syntax;

/// <summary>Turns the text of a description into tokens; comments and white space are dropped.</summary>
public static class Lexer
{
    public static List<Token> Tokenize(string file, string text)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1, lineStart = 0;
        SourceLocation Here(int at) => new(file, line, at - lineStart + 1);

        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\n')
            {
                i++;
                line++;
                lineStart = i;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '/' && Peek(text, i + 1) == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                continue;
            }
            if (c == '/' && Peek(text, i + 1) == '*')
            {
                SourceLocation start = Here(i);
                i += 2;
                while (i < text.Length && !(text[i] == '*' && Peek(text, i + 1) == '/'))
                {
                    if (text[i] == '\n')
                    {
                        line++;
                        lineStart = i + 1;
                    }
                    i++;
                }
                if (i >= text.Length) throw new RdlException(start, "unterminated comment");
                i += 2;
                continue;
            }

            SourceLocation at = Here(i);
            if (c == '"')
            {
                tokens.Add(new Token(TokenKind.String, ReadString(text, ref i, ref line, ref lineStart, at), at));
                continue;
            }
            if (char.IsDigit(c) || (c == '\'' && i + 1 < text.Length && "hHdDbBoO".Contains(text[i + 1], StringComparison.Ordinal)))
            {
                tokens.Add(ReadNumber(text, ref i, at));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], at));
                continue;
            }

            (TokenKind kind, int length) = (c, Peek(text, i + 1)) switch
            {
                ('+', '=') => (TokenKind.PlusEquals, 2),
                ('%', '=') => (TokenKind.PercentEquals, 2),
                ('-', '>') => (TokenKind.Arrow, 2),
                ('{', _) => (TokenKind.LBrace, 1),
                ('}', _) => (TokenKind.RBrace, 1),
                ('[', _) => (TokenKind.LBracket, 1),
                (']', _) => (TokenKind.RBracket, 1),
                (':', _) => (TokenKind.Colon, 1),
                (';', _) => (TokenKind.Semicolon, 1),
                (',', _) => (TokenKind.Comma, 1),
                ('=', _) => (TokenKind.Equals, 1),
                ('@', _) => (TokenKind.At, 1),
                ('#', _) => throw new RdlException(at, "parameterized components are not in the supported SystemRDL subset"),
                _ => throw new RdlException(at, $"unexpected character {Shown(c)}"),
            };
            tokens.Add(new Token(kind, text.Substring(i, length), at));
            i += length;
        }
        tokens.Add(new Token(TokenKind.End, "", Here(i)));
        return tokens;
    }

    private static char Peek(string text, int i) => i < text.Length ? text[i] : '\0';

    /// <summary>A character as a message shows it: quoted, or as U+XXXX when it would not print on one line.</summary>
    private static string Shown(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    private static string ReadString(string text, ref int i, ref int line, ref int lineStart, SourceLocation at)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (true)
        {
            if (i >= text.Length) throw new RdlException(at, "unterminated string");
            char c = text[i];
            if (c == '"')
            {
                i++;
                return sb.ToString();
            }
            if (c == '\\' && i + 1 < text.Length)
            {
                // An escaped line break is still a line: positions after it must stay right.
                if (text[i + 1] == '\n')
                {
                    line++;
                    lineStart = i + 2;
                }
                sb.Append(text[i + 1]);
                i += 2;
                continue;
            }
            if (c == '\n')
            {
                line++;
                lineStart = i + 1;
            }
            sb.Append(c);
            i++;
        }
    }

    /// <summary>Decimal, 0x-hex, and Verilog-style sized or unsized literals (<c>8'hff</c>, <c>'b1010</c>).</summary>
    private static Token ReadNumber(string text, ref int i, SourceLocation at)
    {
        int start = i;
        int width = 0;
        if (text[i] != '\'')
        {
            if (text[i] == '0' && (Peek(text, i + 1) == 'x' || Peek(text, i + 1) == 'X'))
            {
                i += 2;
                int digitsStart = i;
                while (i < text.Length && (Uri.IsHexDigit(text[i]) || text[i] == '_')) i++;
                if (i == digitsStart) throw new RdlException(at, $"malformed number '{text[start..i]}'");
                return new Token(TokenKind.Number, text[start..i], at, Parse(text[digitsStart..i], 16, at, text[start..i]));
            }
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '_')) i++;
            string decimalText = text[start..i];
            if (Peek(text, i) != '\'')
            {
                if (i < text.Length && (char.IsLetter(text[i]) || text[i] == '_'))
                    throw new RdlException(at, $"malformed number '{decimalText}{text[i]}'");
                return new Token(TokenKind.Number, decimalText, at, Parse(decimalText, 10, at, decimalText));
            }
            width = (int)Parse(decimalText, 10, at, decimalText);
            if (width is < 1 or > 64) throw new RdlException(at, $"literal width {width} is outside 1..64");
        }
        i++; // the apostrophe
        char radixChar = char.ToLowerInvariant(Peek(text, i));
        int radix = radixChar switch { 'h' => 16, 'd' => 10, 'b' => 2, 'o' => 8, _ => 0 };
        if (radix == 0)
            throw new RdlException(at, $"malformed number '{text[start..i]}': {(i < text.Length ? Shown(text[i]) : "the end of the file")} after the apostrophe, expected h, d, b or o");
        i++;
        int valueStart = i;
        while (i < text.Length && (Uri.IsHexDigit(text[i]) || text[i] == '_')) i++;
        string literal = text[start..i];
        if (i == valueStart) throw new RdlException(at, $"malformed number '{literal}'");
        ulong value = Parse(text[valueStart..i], radix, at, literal);
        if (width is > 0 and < 64 && value >> width != 0)
            throw new RdlException(at, $"value of '{literal}' does not fit in {width} bits");
        return new Token(TokenKind.Number, literal, at, value, width);
    }

    private static ulong Parse(string digits, int radix, SourceLocation at, string literal)
    {
        ulong value = 0;
        foreach (char d in digits)
        {
            if (d == '_') continue;
            int v = Uri.IsHexDigit(d) ? Convert.ToInt32(d.ToString(), 16) : -1;
            if (v < 0 || v >= radix) throw new RdlException(at, $"malformed number '{literal}'");
            if (value > (ulong.MaxValue - (ulong)v) / (ulong)radix)
                throw new RdlException(at, $"number '{literal}' does not fit in 64 bits");
            value = value * (ulong)radix + (ulong)v;
        }
        return value;
    }
}
