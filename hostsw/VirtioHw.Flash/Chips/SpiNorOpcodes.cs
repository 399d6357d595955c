namespace VirtioHw.Flash;

/// <summary>JEDEC SPI NOR opcodes the driver and the chip model use.</summary>
public static class SpiNorOpcodes
{
    /// <summary>Sets the write-enable latch; needed before every program, erase and status write.</summary>
    public const byte WriteEnable = 0x06;

    /// <summary>Clears the write-enable latch.</summary>
    public const byte WriteDisable = 0x04;

    /// <summary>Reads status register 1: bit 0 busy, bit 1 write-enable latch, then protection bits.</summary>
    public const byte ReadStatus1 = 0x05;

    /// <summary>Reads status register 2 (Winbond, GigaDevice): SRL, QE, CMP.</summary>
    public const byte ReadStatus2 = 0x35;

    /// <summary>Reads status register 3 (Winbond): current and power-up address mode.</summary>
    public const byte ReadStatus3 = 0x15;

    /// <summary>Writes status register 1 (and 2 on parts that take a second byte).</summary>
    public const byte WriteStatus1 = 0x01;

    /// <summary>Writes status register 2 alone.</summary>
    public const byte WriteStatus2 = 0x31;

    /// <summary>Writes status register 3 alone.</summary>
    public const byte WriteStatus3 = 0x11;

    /// <summary>Manufacturer, memory type and capacity.</summary>
    public const byte ReadJedecId = 0x9f;

    /// <summary>Serial Flash Discoverable Parameters: 3-byte address, one dummy byte.</summary>
    public const byte ReadSfdp = 0x5a;

    /// <summary>Read at up to the part's slow clock limit; no dummy byte.</summary>
    public const byte Read = 0x03;

    /// <summary>Read with one dummy byte, at the full clock.</summary>
    public const byte FastRead = 0x0b;

    /// <summary>Read with a 4-byte address.</summary>
    public const byte Read4Byte = 0x13;

    /// <summary>Fast read with a 4-byte address and one dummy byte.</summary>
    public const byte FastRead4Byte = 0x0c;

    /// <summary>Programs up to one page; data past the page end wraps to its start.</summary>
    public const byte PageProgram = 0x02;

    /// <summary>Page program with a 4-byte address.</summary>
    public const byte PageProgram4Byte = 0x12;

    /// <summary>Erases the 4 KiB sector holding the address.</summary>
    public const byte SectorErase = 0x20;

    /// <summary>Erases the 32 KiB block holding the address.</summary>
    public const byte BlockErase32K = 0x52;

    /// <summary>Erases the 64 KiB block holding the address.</summary>
    public const byte BlockErase64K = 0xd8;

    /// <summary>Sector erase with a 4-byte address.</summary>
    public const byte SectorErase4Byte = 0x21;

    /// <summary>32 KiB block erase with a 4-byte address (Macronix, ISSI, Micron MT25Q).</summary>
    public const byte BlockErase32K4Byte = 0x5c;

    /// <summary>64 KiB block erase with a 4-byte address.</summary>
    public const byte BlockErase64K4Byte = 0xdc;

    /// <summary>Erases the whole array.</summary>
    public const byte ChipErase = 0xc7;

    /// <summary>The older opcode of chip erase, still decoded by most parts.</summary>
    public const byte ChipEraseAlternate = 0x60;

    /// <summary>Switches every addressed opcode to 4-byte addresses.</summary>
    public const byte EnterFourByteMode = 0xb7;

    /// <summary>Returns to 3-byte addresses.</summary>
    public const byte ExitFourByteMode = 0xe9;

    /// <summary>Deep power-down: only <see cref="ReleasePowerDown"/> is decoded until it is sent.</summary>
    public const byte PowerDown = 0xb9;

    /// <summary>Leaves deep power-down; after three dummy bytes it also returns the device ID.</summary>
    public const byte ReleasePowerDown = 0xab;

    /// <summary>Arms <see cref="Reset"/>; any other command disarms it.</summary>
    public const byte ResetEnable = 0x66;

    /// <summary>Software reset to the power-up state (volatile bits, address mode).</summary>
    public const byte Reset = 0x99;

    /// <summary>Status register 1 bit 0: an operation is in progress.</summary>
    public const byte StatusBusy = 0x01;

    /// <summary>Status register 1 bit 1: the write-enable latch is set.</summary>
    public const byte StatusWriteEnableLatch = 0x02;
}
