using VirtioHw.Firmware;

namespace VirtioHw.Model;

/// <summary>What the hardware holds for one virtqueue; the transports show it, firmware reads it.</summary>
internal struct QueueRegisters
{
    /// <summary>Set by firmware (q_max_size); 0 means the queue does not exist.</summary>
    public ushort MaxSize;

    public ushort Size;

    public ushort MsixVector;

    public bool Enabled;

    public bool ResetPending;

    public ulong DescriptorArea;

    public ulong DriverArea;

    public ulong DeviceArea;
}

/// <summary>The per-queue storage behind queue_select (or QueueSel) and q_sel: one entry per described queue.</summary>
internal sealed class QueueStore
{
    private readonly QueueRegisters[] _queues;

    public QueueStore(int count)
    {
        _queues = new QueueRegisters[count];
        ResetAll();
    }

    public int Count => _queues.Length;

    public ref QueueRegisters this[int queue] => ref _queues[queue];

    /// <summary>The queue is described and firmware gave it a size.</summary>
    public bool Exists(int queue) => (uint)queue < (uint)_queues.Length && _queues[queue].MaxSize != 0;

    /// <summary>Firmware sets the largest size; a queue not yet enabled takes it as its size.</summary>
    public void SetMaxSize(int queue, ushort maxSize)
    {
        ref QueueRegisters q = ref _queues[queue];
        q.MaxSize = maxSize;
        if (!q.Enabled)
        {
            q.Size = maxSize;
        }
    }

    /// <summary>Back to what the driver finds after a reset: full size, disabled, no vector, no addresses.</summary>
    public void Reset(int queue) =>
        _queues[queue] = new QueueRegisters { MaxSize = _queues[queue].MaxSize, Size = _queues[queue].MaxSize, MsixVector = VirtioFirmware.NoVector };

    public void ResetAll()
    {
        for (int queue = 0; queue < _queues.Length; queue++)
        {
            Reset(queue);
        }
    }
}
