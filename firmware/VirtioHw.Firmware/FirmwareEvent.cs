using VirtioHw.Registers;

namespace VirtioHw.Firmware;

/// <summary>The event at the head of the hardware event FIFO: its kind and its data word.</summary>
public readonly record struct FirmwareEvent(FwCsr.FwEventKind Kind, uint Data);
