namespace VirtioHw.Registers;

/// <summary>
/// Storage of an <c>external</c> register, provided by hand-written logic. Values and byte masks
/// are in the register's own byte lanes (bit <c>i</c> of the byte mask = byte <c>i</c>).
/// </summary>
public interface IExternalRegister
{
    ulong Read(int element, uint byteMask);

    void Write(int element, ulong value, uint byteMask);
}

/// <summary>An <see cref="IExternalRegister"/> made of two delegates.</summary>
public sealed class ExternalRegister(Func<int, uint, ulong> read, Action<int, ulong, uint> write) : IExternalRegister
{
    public ulong Read(int element, uint byteMask) => read(element, byteMask);

    public void Write(int element, ulong value, uint byteMask) => write(element, value, byteMask);
}

/// <summary>What a software access did to a field: the array element and the field value (for a
/// pulse, the value written).</summary>
public readonly record struct FieldEvent(int Element, ulong Value);

public enum FieldEventKind
{
    Modified,
    Accessed,
    Pulsed,
}
