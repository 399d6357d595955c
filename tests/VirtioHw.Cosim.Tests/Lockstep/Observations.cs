using System.Globalization;
using System.Text;
using VirtioHw.Registers;

namespace VirtioHw.Cosim.Tests.Lockstep;

/// <summary>
/// A software-access event the hardware side can see: swmod, swacc, or a single-pulse field's
/// value (for Modified and Accessed the value is 0: the field's value is compared through q).
/// </summary>
internal readonly record struct FieldPulse(FieldEventKind Kind, int Register, int Field, int Element, ulong Value);

/// <summary>One request to an external register, as the hand-written logic receives it.</summary>
internal readonly record struct ExternalAccess(bool Write, int Register, int Element, ulong Value, uint ByteMask);

internal enum HwActionKind
{
    /// <summary><c>d</c> with <c>de</c> for one clock.</summary>
    Load,
    Set,
    Clear,
}

/// <summary>A hardware-side event on one field element, applied for one clock while the bus is idle.</summary>
internal readonly record struct HwAction(HwActionKind Kind, int Register, int Field, int Element, ulong Value);

internal enum TransactionKind
{
    Write,
    Read,
    Hardware,
}

/// <summary>
/// One step of the random stream: a bus write or read, or hardware-side actions alone. A bus access
/// may carry actions too, driven in cycle <paramref name="ActionCycle"/> of the access (0: the cycle
/// the access starts), which puts them before, into or after the clock the access takes effect.
/// </summary>
internal sealed record Transaction(int Number, TransactionKind Kind, uint Offset, uint Data, byte Strobe, IReadOnlyList<HwAction> Actions, int ActionCycle)
{
    /// <summary>Handshake delays of the access on the RTL's bus; they must change nothing but time.</summary>
    public AxiTiming Timing { get; init; }

    public string Describe(BlockInfo block)
    {
        string access = Kind switch
        {
            TransactionKind.Write => $"write 0x{Offset:x} = 0x{Data:x8} strobe 0x{Strobe:x}",
            TransactionKind.Read => $"read 0x{Offset:x}",
            _ => "hardware",
        };
        if (Timing != default) access += $" (delays AW/AR {Timing.AddressDelay}, W {Timing.DataDelay}, ready {Timing.ResponseDelay})";
        if (Actions.Count == 0) return access;
        string actions = string.Join(", ", Actions.Select(a => a.Kind switch
        {
            HwActionKind.Load => $"{Names.Field(block, a.Register, a.Field, a.Element)}.d = 0x{a.Value:x}",
            HwActionKind.Set => $"{Names.Field(block, a.Register, a.Field, a.Element)}.set",
            _ => $"{Names.Field(block, a.Register, a.Field, a.Element)}.clr",
        }));
        return Kind == TransactionKind.Hardware ? $"{access} {actions}" : $"{access}, with {actions} in its cycle {ActionCycle}";
    }
}

/// <summary>Names from the block description, for messages.</summary>
internal static class Names
{
    public static string Register(BlockInfo block, int register, int element)
    {
        RegisterInfo r = block.Registers[register];
        return r.IsArray ? $"{r.Name}[{element}]" : r.Name;
    }

    public static string Field(BlockInfo block, int register, int field, int element) =>
        $"{Register(block, register, element)}.{block.Registers[register].Fields[field].Name}";

    /// <summary>The register element holding byte <paramref name="offset"/>, or a note that none does.</summary>
    public static string AtByte(BlockInfo block, uint offset)
    {
        for (int r = 0; r < block.Registers.Count; r++)
        {
            RegisterInfo reg = block.Registers[r];
            for (int e = 0; e < reg.Count; e++)
            {
                uint start = reg.ElementOffset(e);
                if (offset >= start && offset < start + (uint)reg.Bytes) return $"{Register(block, r, e)} at 0x{start:x}";
            }
        }
        return $"no register at byte 0x{offset:x}";
    }

    public static string Pulses(BlockInfo block, IEnumerable<FieldPulse> pulses)
    {
        var sb = new StringBuilder();
        foreach (FieldPulse p in pulses)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(Field(block, p.Register, p.Field, p.Element)).Append(' ').Append(p.Kind switch
            {
                FieldEventKind.Modified => "swmod",
                FieldEventKind.Accessed => "swacc",
                _ => "pulse 0x" + p.Value.ToString("x", CultureInfo.InvariantCulture),
            });
        }
        return sb.Length == 0 ? "none" : sb.ToString();
    }

    public static string Accesses(BlockInfo block, IEnumerable<ExternalAccess> accesses)
    {
        var sb = new StringBuilder();
        foreach (ExternalAccess a in accesses)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(a.Write ? "write " : "read ").Append(Register(block, a.Register, a.Element));
            if (a.Write) sb.Append(CultureInfo.InvariantCulture, $" = 0x{a.Value:x}");
            sb.Append(CultureInfo.InvariantCulture, $" bytes 0x{a.ByteMask:x}");
        }
        return sb.Length == 0 ? "none" : sb.ToString();
    }
}
