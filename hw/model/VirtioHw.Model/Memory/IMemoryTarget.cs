namespace VirtioHw.Model;

/// <summary>
/// Whatever answers the accesses that fall in one decoded range (a register block, a notify area,
/// a shared memory window). Offsets are relative to the range; accesses are 1, 2, 4 or 8 bytes,
/// naturally aligned, and arrive one at a time under the endpoint's lock.
/// </summary>
internal interface IMemoryTarget
{
    ulong Read(ulong offset, int width);

    void Write(ulong offset, int width, ulong value);
}
