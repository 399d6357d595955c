namespace VirtioHw.Firmware.Ism;

/// <summary>
/// The memory a communication domain's regions live in, as the device sees it: the memory every
/// member's chunk window maps (on a card, its DDR). Addresses are byte offsets from its start.
/// </summary>
public interface IIsmDomainMemory
{
    ulong Length { get; }

    /// <summary>Sets <paramref name="length"/> bytes at <paramref name="address"/> to zero; the range lies inside.</summary>
    void Clear(ulong address, ulong length);
}
