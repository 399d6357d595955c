namespace VirtioHw.Regc.Syntax;

public enum ComponentKind
{
    Addrmap,
    Regfile,
    Reg,
    Field,
}

public enum ValueKind
{
    Number,
    String,
    Boolean,
    Identifier,
}

/// <summary>The right-hand side of a property assignment. A bare assignment (<c>swmod;</c>) is boolean true.</summary>
public sealed record Value(ValueKind Kind, SourceLocation Location, ulong Number = 0, int NumberWidth = 0, string Text = "", bool Boolean = false)
{
    public override string ToString() => Kind switch
    {
        ValueKind.Number => Text,
        // Shown in one-line errors: line breaks and other control characters as escapes.
        ValueKind.String => $"\"{string.Concat(Text.Select(c => c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() }))}\"",
        ValueKind.Boolean => Boolean ? "true" : "false",
        _ => Text,
    };
}

public abstract record BodyItem(SourceLocation Location);

/// <summary><c>prop = value;</c>, or with <see cref="IsDefault"/> <c>default prop = value;</c>.</summary>
public sealed record PropertyAssignment(string Name, Value Value, bool IsDefault, SourceLocation Location) : BodyItem(Location);

/// <summary><c>instance-&gt;prop = value;</c>: overrides a property of one instance in this body.</summary>
public sealed record DynamicAssignment(string Instance, string Property, Value Value, SourceLocation Location) : BodyItem(Location);

/// <summary>A component definition; named ones may be instantiated later by name.</summary>
public sealed record ComponentDefinition(ComponentKind Kind, string? Name, IReadOnlyList<BodyItem> Body, SourceLocation Location) : BodyItem(Location);

public sealed record EnumEntry(string Name, Value? Value, IReadOnlyList<PropertyAssignment> Properties, SourceLocation Location);

public sealed record EnumDefinition(string Name, IReadOnlyList<EnumEntry> Entries, SourceLocation Location) : BodyItem(Location);

/// <summary>
/// One declared instance. For fields <see cref="Msb"/>/<see cref="Lsb"/> hold <c>[msb:lsb]</c> and
/// <see cref="Width"/> holds <c>[width]</c>; for other components <see cref="Width"/> is the array count.
/// </summary>
public sealed record InstanceDeclaration(
    string Name,
    ulong? Msb,
    ulong? Lsb,
    ulong? Width,
    Value? Reset,
    ulong? Address,
    ulong? Stride,
    ulong? Alignment,
    SourceLocation Location);

/// <summary>Instances of a type given by name or by an anonymous definition in place.</summary>
public sealed record Instantiation(
    string? TypeName,
    ComponentDefinition? Definition,
    bool External,
    IReadOnlyList<InstanceDeclaration> Instances,
    SourceLocation Location) : BodyItem(Location);

public sealed record RdlFile(string Path, IReadOnlyList<BodyItem> Items);
