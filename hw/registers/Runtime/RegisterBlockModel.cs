using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace VirtioHw.Registers;

/// <summary>
/// The access semantics of a generated register block (hw/regs/README.md), identical to the
/// generated RTL: 32-bit bus words with byte strobes over registers of 8 to 64 bits, field
/// behaviours, and external registers. Generated subclasses add the typed hardware-side API.
/// Not thread-safe: like the RTL block, it serves one access at a time.
/// </summary>
public abstract class RegisterBlockModel
{
    /// <summary>Where one register element's bytes fall in one bus word.</summary>
    private readonly record struct Slot(int Register, int Element, int WordLane, int RegisterLane, int Bytes);

    private readonly ulong[][] _storage;
    private readonly Slot[][] _words;
    private readonly IExternalRegister?[] _externals;

    protected RegisterBlockModel(BlockInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        Info = info;
        _storage = new ulong[info.Registers.Count][];
        _externals = new IExternalRegister?[info.Registers.Count];
        var words = new List<Slot>?[(info.Size + 3) / 4];
        for (int r = 0; r < info.Registers.Count; r++)
        {
            RegisterInfo reg = info.Registers[r];
            _storage[r] = new ulong[reg.Count];
            for (int e = 0; e < reg.Count; e++)
            {
                uint start = reg.ElementOffset(e);
                for (uint b = start; b < start + (uint)reg.Bytes; b++)
                {
                    ref List<Slot>? list = ref words[b / 4];
                    list ??= [];
                    int wordLane = (int)(b % 4);
                    if (list.Count > 0 && list[^1] is { } last && last.Register == r && last.Element == e)
                        list[^1] = last with { Bytes = last.Bytes + 1 };
                    else
                        list.Add(new Slot(r, e, wordLane, (int)(b - start), 1));
                }
            }
        }
        _words = words.Select(l => l?.ToArray() ?? []).ToArray();
        Reset();
    }

    public BlockInfo Info { get; }

    /// <summary>Puts every field back to its reset value.</summary>
    public void Reset()
    {
        for (int r = 0; r < _storage.Length; r++)
        {
            ulong value = Info.Registers[r].External ? 0 : Info.Registers[r].ResetValue;
            Array.Fill(_storage[r], value);
        }
    }

    /// <summary>A bus read of the 32-bit word holding <paramref name="offset"/> (low two bits ignored).</summary>
    public uint Read(uint offset)
    {
        uint word = offset / 4;
        if (word >= (uint)_words.Length) return 0;
        Slot[] slots = _words[word];
        uint result = 0;
        foreach (Slot s in slots)
        {
            RegisterInfo reg = Info.Registers[s.Register];
            uint laneMask = LaneMask(s);
            ulong value;
            if (reg.External)
            {
                if (!reg.SwReadable) continue;
                IExternalRegister? handler = _externals[s.Register];
                value = handler?.Read(s.Element, laneMask) ?? 0;
            }
            else
            {
                value = _storage[s.Register][s.Element] & reg.SoftwareVisibleMask;
            }
            result |= (uint)((value >> (s.RegisterLane * 8)) & BytesMask(s.Bytes)) << (s.WordLane * 8);
        }
        // Side effects after the whole word is composed: the word is read as of one clock.
        foreach (Slot s in slots)
        {
            RegisterInfo reg = Info.Registers[s.Register];
            if (!reg.External) ApplyReadEffects(s, reg);
        }
        return result;
    }

    /// <summary>A bus write of the word holding <paramref name="offset"/>; <paramref name="strobe"/> selects bytes.</summary>
    public void Write(uint offset, uint data, uint strobe = 0xF)
    {
        uint word = offset / 4;
        if (word >= (uint)_words.Length) return;
        foreach (Slot s in _words[word])
        {
            uint wordLanes = (strobe >> s.WordLane) & ((1u << s.Bytes) - 1);
            if (wordLanes == 0) continue;
            uint regLanes = wordLanes << s.RegisterLane;
            // Bytes that are not strobed are not written: they arrive as zero.
            ulong value = ((ulong)(data >> (s.WordLane * 8)) << (s.RegisterLane * 8)) & ExpandLanes(regLanes);
            RegisterInfo reg = Info.Registers[s.Register];
            if (reg.External)
            {
                if (reg.SwWritable) _externals[s.Register]?.Write(s.Element, value, regLanes);
                continue;
            }
            WriteFields(s.Register, s.Element, reg, value, ExpandLanes(regLanes));
        }
    }

    private void WriteFields(int r, int element, RegisterInfo reg, ulong data, ulong bits)
    {
        ref ulong stored = ref _storage[r][element];
        for (int f = 0; f < reg.Fields.Count; f++)
        {
            FieldInfo field = reg.Fields[f];
            ulong m = field.Mask & bits;
            if (m == 0 || !field.SwWritable) continue;
            if (field.Has(FieldFlags.SinglePulse))
            {
                // The written value exists for one clock only; storage stays at rest.
                Raise(FieldEventKind.Pulsed, r, f, element, (data & m) >> field.Lsb);
            }
            else
            {
                stored = field.Flags switch
                {
                    var x when (x & FieldFlags.WriteOneToClear) != 0 => stored & ~(data & m),
                    var x when (x & FieldFlags.WriteOneToSet) != 0 => stored | (data & m),
                    _ => (stored & ~m) | (data & m),
                };
            }
            if (field.Has(FieldFlags.SwMod)) Raise(FieldEventKind.Modified, r, f, element, (stored & field.Mask) >> field.Lsb);
            if (field.Has(FieldFlags.SwAcc)) Raise(FieldEventKind.Accessed, r, f, element, (stored & field.Mask) >> field.Lsb);
        }
    }

    private void ApplyReadEffects(Slot s, RegisterInfo reg)
    {
        ulong bits = ExpandLanes(LaneMask(s));
        ref ulong stored = ref _storage[s.Register][s.Element];
        for (int f = 0; f < reg.Fields.Count; f++)
        {
            FieldInfo field = reg.Fields[f];
            if ((field.Mask & bits) == 0 || !field.SwReadable) continue;
            ulong before = (stored & field.Mask) >> field.Lsb;
            if (field.Has(FieldFlags.ReadClear))
            {
                // Only the bits in the word that was read: reading one half of a 64-bit
                // register leaves the other half pending.
                stored &= ~(field.Mask & bits);
                if (field.Has(FieldFlags.SwMod)) Raise(FieldEventKind.Modified, s.Register, f, s.Element, 0);
            }
            if (field.Has(FieldFlags.SwAcc)) Raise(FieldEventKind.Accessed, s.Register, f, s.Element, before);
        }
    }

    // ---- the hardware side, used by generated typed accessors -------------------------------

    /// <summary>The field's current value (<c>reg2hw.q</c>).</summary>
    protected ulong HwRead(int register, int field, int element)
    {
        FieldInfo f = Info.Registers[register].Fields[field];
        return (_storage[register][element] & f.Mask) >> f.Lsb;
    }

    /// <summary>Loads the field (<c>hw2reg.d</c> with <c>de</c>).</summary>
    protected void HwWrite(int register, int field, int element, ulong value)
    {
        FieldInfo f = Info.Registers[register].Fields[field];
        if (f.Width < 64 && value >> f.Width != 0) ThrowTooWide(f, value);
        ref ulong stored = ref _storage[register][element];
        stored = (stored & ~f.Mask) | (value << f.Lsb);
    }

    /// <summary>Sets (<c>hwset</c>) or clears (<c>hwclr</c>) every bit of the field.</summary>
    protected void HwSetOrClear(int register, int field, int element, bool set)
    {
        FieldInfo f = Info.Registers[register].Fields[field];
        Debug.Assert(f.Has(set ? FieldFlags.HwSet : FieldFlags.HwClear), "generated code only calls this for hwset/hwclr fields");
        ref ulong stored = ref _storage[register][element];
        stored = set ? stored | f.Mask : stored & ~f.Mask;
    }

    protected IExternalRegister? GetExternal(int register) => _externals[register];

    protected void SetExternal(int register, IExternalRegister? handler)
    {
        Debug.Assert(Info.Registers[register].External, "only external registers take a handler");
        _externals[register] = handler;
    }

    /// <summary>Delivers swmod, swacc and singlepulse events to the generated typed events.</summary>
    protected abstract void OnFieldEvent(FieldEventKind kind, int register, int field, FieldEvent e);

    private void Raise(FieldEventKind kind, int register, int field, int element, ulong value) =>
        OnFieldEvent(kind, register, field, new FieldEvent(element, value));

    private static uint LaneMask(Slot s) => ((1u << s.Bytes) - 1) << s.RegisterLane;

    private static ulong BytesMask(int bytes) => bytes >= 8 ? ulong.MaxValue : (1UL << (bytes * 8)) - 1;

    private static ulong ExpandLanes(uint lanes)
    {
        ulong bits = 0;
        for (int i = 0; i < 8; i++)
        {
            if ((lanes & (1u << i)) != 0) bits |= 0xFFUL << (i * 8);
        }
        return bits;
    }

    [DoesNotReturn]
    private static void ThrowTooWide(FieldInfo f, ulong value) =>
        throw new ArgumentOutOfRangeException(nameof(value), value, $"field '{f.Name}' is {f.Width} bits wide");
}
