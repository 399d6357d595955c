namespace VirtioHw.Cosim.Gen;

public enum PortDirection
{
    Input,
    Output,
}

/// <summary>
/// A leaf of a packed struct port: bits [Lsb + i * Width +: Width] hold element i of a packed array
/// (<paramref name="Count"/> elements, index 0 lowest), or the whole member when Count is 1.
/// </summary>
public sealed record LayoutField(string Path, int Lsb, int Width, int Count);

/// <summary>A top-level port as Verilator sees it; <paramref name="Fields"/> is set for packed structs.</summary>
public sealed record Port(string Name, PortDirection Direction, int Width, IReadOnlyList<LayoutField>? Fields)
{
    public bool IsWide => Width > 64;

    /// <summary>32-bit words that hold the port (Verilator's VlWide layout: word 0 is bits 31:0).</summary>
    public int Words => (Width + 31) / 32;
}

/// <summary>The ports of one Verilated top and the file that defines it.</summary>
public sealed record TopModule(string Name, string SourceFile, IReadOnlyList<Port> Ports)
{
    public Port? Find(string name) => Ports.FirstOrDefault(p => p.Name == name);

    /// <summary>
    /// A digest of the port list and struct layouts. The shim returns it and the C# binding
    /// compares it, so a library built from other RTL than the binding is refused at load.
    /// </summary>
    public uint Digest()
    {
        uint hash = 2166136261;
        void Add(string text)
        {
            foreach (char c in text)
            {
                hash = (hash ^ c) * 16777619;
            }
        }
        Add(Name);
        foreach (Port p in Ports)
        {
            Add($";{p.Name}:{p.Direction}:{p.Width}");
            foreach (LayoutField f in p.Fields ?? [])
            {
                Add($",{f.Path}:{f.Lsb}:{f.Width}:{f.Count}");
            }
        }
        return hash;
    }
}

/// <summary>A fault in a top's port list that the co-simulation cannot serve; reported as one line.</summary>
public sealed class GenException(string message) : Exception(message);
