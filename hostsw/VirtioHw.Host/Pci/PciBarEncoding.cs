using VirtioHw.Registers;

namespace VirtioHw.Host.Pci;

/// <summary>
/// BAR encodings in the form the host code compares against. The memory type comes from the
/// register description's <c>pci_bar_mem_type</c> enum; the I/O BAR's flag bits are not described
/// there (pci_header.rdl gives the memory BAR's fields) and are taken from the PCI Local Bus
/// Specification 3.0, 6.2.5.1: bit 0 set for I/O, bit 1 reserved, bits 31:2 the address.
/// </summary>
public static class PciBarEncoding
{
    /// <summary>The flag bits of an I/O BAR: bit 0 (I/O) and the reserved bit 1.</summary>
    public const uint IoFlagBits = 0x3;

    /// <summary>The mem_type value of a 32-bit memory BAR.</summary>
    public const uint MemType32 = (uint)PciHeader.PciBarMemType.Mem32;

    /// <summary>The mem_type value of a 64-bit memory BAR.</summary>
    public const uint MemType64 = (uint)PciHeader.PciBarMemType.Mem64;
}
