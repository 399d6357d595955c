namespace VirtioHw.Regc.Syntax;

/// <summary>Recursive-descent parser for the SystemRDL subset documented in hw/regs/README.md.</summary>
public sealed class Parser
{
    private static readonly HashSet<string> OutsideSubset = new(StringComparer.Ordinal)
    {
        "signal", "mem", "property", "constraint", "struct", "abstract", "alias", "internal",
        "sharedextbus", "inside", "this", "type", "longint", "bit", "unsigned", "component",
        "componentwidth", "encode_type",
    };

    private readonly List<Token> _tokens;
    private readonly string _path;
    private int _pos;

    private Parser(string path, List<Token> tokens)
    {
        _path = path;
        _tokens = tokens;
    }

    public static RdlFile Parse(string path, string text)
    {
        var parser = new Parser(path, Lexer.Tokenize(path, text));
        return parser.ParseFile();
    }

    private Token Current => _tokens[_pos];

    private RdlFile ParseFile()
    {
        var items = new List<BodyItem>();
        while (Current.Kind != TokenKind.End)
        {
            items.Add(ParseBodyItem(topLevel: true));
        }
        return new RdlFile(_path, items);
    }

    private BodyItem ParseBodyItem(bool topLevel)
    {
        Token t = Current;
        if (t.Kind != TokenKind.Identifier)
            throw Unexpected(t, "a definition, instance or property");

        if (OutsideSubset.Contains(t.Text))
            throw new RdlException(t.Location, $"'{t.Text}' is not in the supported SystemRDL subset");

        switch (t.Text)
        {
            case "enum":
                return ParseEnum();
            case "default":
            {
                Advance();
                Token name = Expect(TokenKind.Identifier, "a property name");
                return FinishPropertyAssignment(name, isDefault: true);
            }
            case "external":
            {
                Advance();
                return ParseInstantiationOrDefinition(external: true, topLevel);
            }
        }

        if (TryComponentKind(t.Text, out _))
            return ParseInstantiationOrDefinition(external: false, topLevel);

        Token next = _tokens[_pos + 1];
        if (next.Kind == TokenKind.Arrow)
        {
            Advance();
            Advance();
            Token prop = Expect(TokenKind.Identifier, "a property name after '->'");
            Value value = ParseAssignedValue(prop);
            return new DynamicAssignment(t.Text, prop.Text, value, t.Location);
        }
        if (next.Kind is TokenKind.Equals or TokenKind.Semicolon)
        {
            if (topLevel)
                throw new RdlException(t.Location, $"property '{t.Text}' outside any component");
            Advance();
            return FinishPropertyAssignment(t, isDefault: false);
        }
        // TypeName instance[, instance];
        Advance();
        var instances = ParseInstances();
        return new Instantiation(t.Text, null, External: false, instances, t.Location);
    }

    private BodyItem ParseInstantiationOrDefinition(bool external, bool topLevel)
    {
        Token t = Current;
        if (t.Kind != TokenKind.Identifier)
            throw Unexpected(t, "a component type");
        if (!TryComponentKind(t.Text, out ComponentKind kind))
        {
            // external TypeName instance;
            if (!external) throw Unexpected(t, "a component type");
            Advance();
            return new Instantiation(t.Text, null, External: true, ParseInstances(), t.Location);
        }
        Advance();
        string? name = null;
        if (Current.Kind == TokenKind.Identifier)
        {
            name = Current.Text;
            Advance();
        }
        Expect(TokenKind.LBrace, "'{'");
        var body = new List<BodyItem>();
        while (Current.Kind != TokenKind.RBrace)
        {
            if (Current.Kind == TokenKind.End)
                throw new RdlException(t.Location, $"'{t.Text}' is missing its closing '}}'");
            body.Add(ParseBodyItem(topLevel: false));
        }
        Advance();
        var definition = new ComponentDefinition(kind, name, body, t.Location);
        if (Current.Kind == TokenKind.Semicolon)
        {
            Advance();
            if (name is null)
                throw new RdlException(t.Location, $"an anonymous {t.Text} needs an instance name");
            if (external)
                throw new RdlException(t.Location, "'external' applies to instances, and this definition declares none");
            return definition;
        }
        if (topLevel && kind == ComponentKind.Addrmap)
            throw new RdlException(Current.Location, "a top-level addrmap is a definition; instances of it are not in the subset");
        var instances = ParseInstances();
        return new Instantiation(null, definition, external, instances, t.Location);
    }

    private List<InstanceDeclaration> ParseInstances()
    {
        var list = new List<InstanceDeclaration>();
        while (true)
        {
            Token name = Expect(TokenKind.Identifier, "an instance name");
            ulong? msb = null, lsb = null, width = null, address = null, stride = null, alignment = null;
            Value? reset = null;
            if (Current.Kind == TokenKind.LBracket)
            {
                Advance();
                ulong first = ExpectNumber("a number in '[ ]'");
                if (Current.Kind == TokenKind.Colon)
                {
                    Advance();
                    msb = first;
                    lsb = ExpectNumber("the low bit of the range");
                }
                else
                {
                    width = first;
                }
                Expect(TokenKind.RBracket, "']'");
                if (Current.Kind == TokenKind.LBracket)
                    throw new RdlException(Current.Location, "multi-dimensional arrays are not in the supported SystemRDL subset");
            }
            if (Current.Kind == TokenKind.Equals)
            {
                Advance();
                reset = ParseValue();
            }
            if (Current.Kind == TokenKind.At)
            {
                Advance();
                address = ExpectNumber("an address after '@'");
            }
            if (Current.Kind == TokenKind.PlusEquals)
            {
                Advance();
                stride = ExpectNumber("a stride after '+='");
            }
            if (Current.Kind == TokenKind.PercentEquals)
            {
                Advance();
                alignment = ExpectNumber("an alignment after '%='");
            }
            list.Add(new InstanceDeclaration(name.Text, msb, lsb, width, reset, address, stride, alignment, name.Location));
            if (Current.Kind == TokenKind.Comma)
            {
                Advance();
                continue;
            }
            Expect(TokenKind.Semicolon, "';' after the instance");
            return list;
        }
    }

    private EnumDefinition ParseEnum()
    {
        Token enumKeyword = Advance();
        Token name = Expect(TokenKind.Identifier, "an enum name");
        Expect(TokenKind.LBrace, "'{'");
        var entries = new List<EnumEntry>();
        while (Current.Kind != TokenKind.RBrace)
        {
            if (Current.Kind == TokenKind.End)
                throw new RdlException(enumKeyword.Location, $"enum '{name.Text}' is missing its closing '}}'");
            Token entry = Expect(TokenKind.Identifier, "an enum entry name");
            Value? value = null;
            if (Current.Kind == TokenKind.Equals)
            {
                Advance();
                Token number = Expect(TokenKind.Number, "a number for the enum entry");
                value = new Value(ValueKind.Number, number.Location, number.Number, number.NumberWidth, number.Text);
            }
            var props = new List<PropertyAssignment>();
            if (Current.Kind == TokenKind.LBrace)
            {
                Advance();
                while (Current.Kind != TokenKind.RBrace)
                {
                    Token prop = Expect(TokenKind.Identifier, "a property of the enum entry");
                    props.Add(FinishPropertyAssignment(prop, isDefault: false));
                }
                Advance();
            }
            Expect(TokenKind.Semicolon, "';' after the enum entry");
            entries.Add(new EnumEntry(entry.Text, value, props, entry.Location));
        }
        Advance();
        Expect(TokenKind.Semicolon, "';' after the enum");
        return new EnumDefinition(name.Text, entries, name.Location);
    }

    private PropertyAssignment FinishPropertyAssignment(Token name, bool isDefault)
    {
        Value value = ParseAssignedValue(name);
        return new PropertyAssignment(name.Text, value, isDefault, name.Location);
    }

    /// <summary>Parses <c>= value ;</c> or a bare <c>;</c> (boolean true).</summary>
    private Value ParseAssignedValue(Token name)
    {
        Value value;
        if (Current.Kind == TokenKind.Semicolon)
        {
            value = new Value(ValueKind.Boolean, name.Location, Boolean: true, Text: "true");
        }
        else
        {
            Expect(TokenKind.Equals, $"'=' or ';' after '{name.Text}'");
            value = ParseValue();
        }
        Expect(TokenKind.Semicolon, "';' after the property");
        return value;
    }

    private Value ParseValue()
    {
        Token t = Current;
        switch (t.Kind)
        {
            case TokenKind.Number:
                Advance();
                return new Value(ValueKind.Number, t.Location, t.Number, t.NumberWidth, t.Text);
            case TokenKind.String:
                Advance();
                return new Value(ValueKind.String, t.Location, Text: t.Text);
            case TokenKind.Identifier when t.Text is "true" or "false":
                Advance();
                return new Value(ValueKind.Boolean, t.Location, Boolean: t.Text == "true", Text: t.Text);
            case TokenKind.Identifier:
                Advance();
                return new Value(ValueKind.Identifier, t.Location, Text: t.Text);
            default:
                throw Unexpected(t, "a value");
        }
    }

    private static bool TryComponentKind(string text, out ComponentKind kind)
    {
        switch (text)
        {
            case "addrmap": kind = ComponentKind.Addrmap; return true;
            case "regfile": kind = ComponentKind.Regfile; return true;
            case "reg": kind = ComponentKind.Reg; return true;
            case "field": kind = ComponentKind.Field; return true;
            default: kind = default; return false;
        }
    }

    private Token Advance() => _tokens[_pos++];

    private Token Expect(TokenKind kind, string what)
    {
        Token t = Current;
        if (t.Kind != kind) throw Unexpected(t, what);
        _pos++;
        return t;
    }

    private ulong ExpectNumber(string what) => Expect(TokenKind.Number, what).Number;

    private static RdlException Unexpected(Token t, string expected) =>
        new(t.Location, $"expected {expected}, found {t}");
}
