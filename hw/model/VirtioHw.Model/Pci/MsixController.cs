using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// MSI-X delivery: a triggered vector sends its message (address, data from the table) unless
/// the vector or the whole function is masked, in which case its pending bit is set and the
/// message goes out when the mask is lifted. Nothing is sent, or left pending, while MSI-X is
/// disabled; with bus mastering off the message is dropped, as a write the function may not make.
/// </summary>
internal sealed class MsixController
{
    private readonly MsixCapModel _cap;
    private readonly PciHeaderModel _header;
    private readonly IRootPort _upstream;
    private readonly int _vectors;
    private ulong _pending;

    // message_control as of the last config write, to see the edges that release pending messages.
    private bool _wasEnabled;
    private bool _wasFunctionMasked;

    public MsixController(MsixDescription description, MsixCapModel cap, PciHeaderModel header, IRootPort upstream)
    {
        _cap = cap;
        _header = header;
        _upstream = upstream;
        _vectors = description.Vectors;
        Table.EntryVectorControlModified += (_, e) =>
        {
            if (e.Value == 0)
            {
                ReleasePending(e.Element);
            }
        };
    }

    public MsixTableModel Table { get; } = new();

    public MsixPbaModel Pba { get; } = new();

    public bool Enabled => _cap.MessageControlEnable;

    /// <summary>The vector wants to interrupt the driver.</summary>
    public void Trigger(int vector)
    {
        if ((uint)vector >= (uint)_vectors || !Enabled)
        {
            return;
        }

        if (IsMasked(vector))
        {
            SetPending(_pending | (1UL << vector));
            return;
        }

        Send(vector);
    }

    /// <summary>Follows message_control after a config write: enabling MSI-X or clearing the function mask releases pending messages.</summary>
    public void OnConfigWritten()
    {
        bool enabled = _cap.MessageControlEnable;
        bool functionMasked = _cap.MessageControlFunctionMask;
        bool released = (enabled && !_wasEnabled) || (_wasFunctionMasked && !functionMasked);
        _wasEnabled = enabled;
        _wasFunctionMasked = functionMasked;
        if (released)
        {
            for (int vector = 0; vector < _vectors; vector++)
            {
                ReleasePending(vector);
            }
        }
    }

    /// <summary>Device reset: messages still pending are forgotten.</summary>
    public void ClearPending() => SetPending(0);

    private bool IsMasked(int vector) => _cap.MessageControlFunctionMask || Table.GetEntryVectorControl(vector);

    private void ReleasePending(int vector)
    {
        if ((uint)vector < (uint)_vectors && (_pending & (1UL << vector)) != 0 && Enabled && !IsMasked(vector))
        {
            SetPending(_pending & ~(1UL << vector));
            Send(vector);
        }
    }

    private void SetPending(ulong pending)
    {
        _pending = pending;
        Pba.SetPending(pending);
    }

    private void Send(int vector)
    {
        if (!_header.CommandBusMaster)
        {
            return;
        }

        ulong address = Table.GetEntryMsgAddrLo(vector) | ((ulong)Table.GetEntryMsgAddrHi(vector) << 32);
        Span<byte> data = stackalloc byte[sizeof(uint)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data, Table.GetEntryMsgData(vector));
        _upstream.TryMemoryWrite(address, data);
    }
}
