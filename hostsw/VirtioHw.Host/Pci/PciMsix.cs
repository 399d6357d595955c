using System.Diagnostics.CodeAnalysis;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Host.Pci;

/// <summary>
/// The MSI-X table of one function: program a vector's message, mask and unmask it, read its
/// pending bit, and the function-wide mask and enable. Opened with <see cref="PciFunction.OpenMsix"/>
/// once the BARs are assigned.
/// </summary>
/// <remarks>
/// Each call is a few MMIO or config accesses and allocates nothing. Entries are programmed while
/// masked, as the PCI specification asks: <see cref="Connect"/> masks, writes and unmasks.
/// </remarks>
public sealed class PciMsix
{
    private readonly Platform _platform;
    private readonly PciAddress _address;
    private readonly int _controlOffset;

    internal PciMsix(PciFunction function)
    {
        Capability = function.MsixCapability
            ?? throw new InvalidOperationException($"{function.Address} has no MSI-X capability");
        _platform = function.Platform;
        _address = function.Address;
        _controlOffset = Capability.Position + (int)MsixCap.MessageControl.Offset;
        TableAddress = Locate(function, Capability.TableBar, Capability.TableOffset,
            (ulong)Capability.TableSize * MsixTable.EntryMsgAddrLo.Stride, "vector table");
        PbaAddress = Locate(function, Capability.PbaBar, Capability.PbaOffset,
            PendingWordOffset(Capability.TableSize - 1) + sizeof(uint), "pending-bit array");
    }

    public MsixCapabilityInfo Capability { get; }

    /// <summary>Number of vectors in the table.</summary>
    public int TableSize => Capability.TableSize;

    /// <summary>Bus address of entry 0 of the vector table.</summary>
    public ulong TableAddress { get; }

    /// <summary>Bus address of the pending-bit array.</summary>
    public ulong PbaAddress { get; }

    /// <summary>MSI-X enable in the message control register.</summary>
    public bool Enabled
    {
        get => (ReadControl() & MsixCap.MessageControl.Enable.Mask) != 0;
        set => WriteControlBit(MsixCap.MessageControl.Enable.Mask, value);
    }

    /// <summary>The function mask: while set, no vector sends; messages become pending.</summary>
    public bool FunctionMasked
    {
        get => (ReadControl() & MsixCap.MessageControl.FunctionMask.Mask) != 0;
        set => WriteControlBit(MsixCap.MessageControl.FunctionMask.Mask, value);
    }

    /// <summary>Writes the message address and data of <paramref name="entry"/>; its mask is untouched.</summary>
    public void Program(int entry, ulong address, uint data)
    {
        CheckEntry(entry);
        _platform.Write32(TableAddress + MsixTable.EntryMsgAddrLo.OffsetOf(entry), (uint)address);
        _platform.Write32(TableAddress + MsixTable.EntryMsgAddrHi.OffsetOf(entry), (uint)(address >> 32));
        _platform.Write32(TableAddress + MsixTable.EntryMsgData.OffsetOf(entry), data);
    }

    /// <summary>The message address and data programmed in <paramref name="entry"/>.</summary>
    public (ulong Address, uint Data) ReadEntry(int entry)
    {
        CheckEntry(entry);
        ulong address = _platform.Read32(TableAddress + MsixTable.EntryMsgAddrLo.OffsetOf(entry))
            | ((ulong)_platform.Read32(TableAddress + MsixTable.EntryMsgAddrHi.OffsetOf(entry)) << 32);
        return (address, _platform.Read32(TableAddress + MsixTable.EntryMsgData.OffsetOf(entry)));
    }

    /// <summary>Masks <paramref name="entry"/>, points it at <paramref name="vector"/> and unmasks it.</summary>
    public void Connect(int entry, MsiVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        Mask(entry);
        Program(entry, vector.Address, vector.Data);
        Unmask(entry);
    }

    public void Mask(int entry) => WriteMask(entry, masked: true);

    public void Unmask(int entry) => WriteMask(entry, masked: false);

    /// <summary>The entry's own mask bit (the function mask is separate).</summary>
    public bool IsMasked(int entry)
    {
        CheckEntry(entry);
        return (_platform.Read32(TableAddress + MsixTable.EntryVectorControl.OffsetOf(entry))
            & MsixTable.EntryVectorControl.MaskField.Mask) != 0;
    }

    /// <summary>The entry's pending bit: a message is held back because the entry or the function is masked.</summary>
    public bool IsPending(int entry)
    {
        CheckEntry(entry);
        uint word = _platform.Read32(PbaAddress + PendingWordOffset(entry));
        return (word & (1u << (entry % 32))) != 0;
    }

    // The PBA is a bit array; it is read a dword at a time, the access every device supports.
    private static ulong PendingWordOffset(int entry) => MsixPba.Pending.Offset + (ulong)(entry / 32 * sizeof(uint));

    private static ulong Locate(PciFunction function, int barIndex, uint offset, ulong length, string what)
    {
        PciBar? bar = function.GetBar(barIndex);
        if (bar is null || !bar.IsMemory || !bar.IsAssigned)
        {
            throw new InvalidOperationException(
                $"{function.Address}: the MSI-X {what} is in BAR {barIndex}, which is {(bar is null ? "not implemented" : bar.IsMemory ? "not assigned" : "an I/O BAR")}");
        }

        if (!bar.Contains(offset, length))
        {
            throw new InvalidOperationException(
                $"{function.Address}: the MSI-X {what} at offset 0x{offset:x} ({length} bytes) runs past the end of BAR {barIndex} ({PciFormat.Size(bar.Size)})");
        }

        return bar.Address + offset;
    }

    private void WriteMask(int entry, bool masked)
    {
        CheckEntry(entry);
        ulong address = TableAddress + MsixTable.EntryVectorControl.OffsetOf(entry);
        uint control = _platform.Read32(address);
        uint mask = (uint)MsixTable.EntryVectorControl.MaskField.Mask;
        _platform.Write32(address, masked ? control | mask : control & ~mask);
    }

    private ushort ReadControl() => _platform.ReadConfig16(_address, _controlOffset);

    private void WriteControlBit(ulong bit, bool set)
    {
        ushort control = ReadControl();
        _platform.WriteConfig16(_address, _controlOffset, set ? (ushort)(control | bit) : (ushort)(control & ~bit));
    }

    private void CheckEntry(int entry)
    {
        if ((uint)entry >= (uint)TableSize)
        {
            ThrowEntry(entry, TableSize);
        }
    }

    [DoesNotReturn]
    private static void ThrowEntry(int entry, int size) =>
        throw new ArgumentOutOfRangeException(nameof(entry), entry, $"MSI-X entry {entry} is outside the {size}-entry table");
}
