using System.Buffers.Binary;
using static VirtioHw.Wire.DmabufWire;

namespace VirtioHw.Firmware.Dmabuf;

/// <summary>
/// The virtio-dmabuf device firmware (seed device id 36; the ratified specification gives 36 to
/// virtio-can, so the endpoint description sets it). The driver's messages arrive on the send
/// queue (1): NEED_VMID is answered on the recv queue (0) with the VM id; EXPORT records the
/// buffer under its 128-bit id. The device side gives an export back with <see cref="Release"/>,
/// which queues a DMABUF_REL message on the recv queue.
/// </summary>
/// <remarks>
/// The recv queue writer is reached from the firmware task and from <see cref="Release"/>'s
/// caller, so it has a lock of its own; everything else runs on the firmware task. The class is
/// open so that a test can build a device that breaks the rules the driver checks.
/// </remarks>
public class DmabufFirmware : VirtioFirmware
{
    private readonly Lock _recvLock = new();
    private readonly Queue<byte[]> _pending = new();
    private readonly List<DeviceBuffer> _recvChain = [];
    private readonly List<DeviceBuffer> _sendChain = [];
    private readonly Dictionary<UInt128, byte[]> _exports = [];
    private DeviceVirtqueue? _recv;
    private DeviceVirtqueue? _send;
    private ushort _recvVector = NoVector;

    /// <param name="hal">The CSR port of the endpoint; not owned.</param>
    /// <param name="vmId">The id the device answers NEED_VMID with.</param>
    /// <param name="queueMaxSizes">Largest size of recv and send.</param>
    public DmabufFirmware(IDeviceHal hal, uint vmId, IReadOnlyList<ushort> queueMaxSizes)
        : base(hal, new VirtioFirmwareSettings { QueueMaxSizes = queueMaxSizes })
    {
        VmId = vmId;
    }

    /// <summary>Raised on the firmware task when the driver exported a buffer: its id and the 240 bytes after it.</summary>
    public event EventHandler<DmabufExportEventArgs>? Exported;

    public uint VmId { get; }

    /// <summary>
    /// Driver messages refused for breaking the seed's rules: a NEED_VMID whose op is not all zero
    /// ("the rest of the message MUST be zeroed out"), or an EXPORT of an id already exported (not unique).
    /// </summary>
    public long RefusedMessages { get; private set; }

    /// <summary>Ids exported and not yet released.</summary>
    public IReadOnlyList<UInt128> Exports
    {
        get
        {
            lock (_recvLock)
            {
                return [.. _exports.Keys];
            }
        }
    }

    /// <summary>Gives an exported buffer back: DMABUF_REL with its id on the recv queue. False when no export has that id.</summary>
    public bool Release(UInt128 id)
    {
        lock (_recvLock)
        {
            if (!_exports.Remove(id))
            {
                return false;
            }
        }

        var message = new byte[MessageSize];
        BinaryPrimitives.WriteUInt32LittleEndian(message, CmdRelease);
        BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(4), id);
        SendToDriver(message);
        return true;
    }

    /// <summary>Queues one message for the recv queue and writes what fits into posted buffers.</summary>
    /// <param name="message">A whole message of <see cref="MessageSize"/> bytes; kept, not copied.</param>
    protected void SendToDriver(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Length != MessageSize)
        {
            throw new ArgumentException($"a message is {MessageSize} bytes, not {message.Length}", nameof(message));
        }

        lock (_recvLock)
        {
            _pending.Enqueue(message);
            Flush();
        }
    }

    protected override void OnQueueReady(ushort queue, QueueSetup setup)
    {
        if (queue == SendQueue)
        {
            _send = new DeviceVirtqueue(Hal, setup);
        }
        else if (queue == RecvQueue)
        {
            lock (_recvLock)
            {
                _recv = new DeviceVirtqueue(Hal, setup);
                _recvVector = setup.MsixVector;
                Flush();
            }
        }
    }

    protected override void OnDeviceReset()
    {
        _send = null;
        lock (_recvLock)
        {
            _recv = null;
            _pending.Clear();
            _exports.Clear();
        }
    }

    protected override void OnQueueNotify(ushort queue, uint data)
    {
        if (queue == SendQueue)
        {
            ServeSendQueue();
        }
        else if (queue == RecvQueue)
        {
            lock (_recvLock)
            {
                Flush();
            }
        }
    }

    private void ServeSendQueue()
    {
        if (_send is not { } queue)
        {
            return;
        }

        bool interrupt = false;
        var message = new byte[MessageSize];
        while (queue.TryTake(out ushort head, _sendChain))
        {
            Array.Clear(message);
            if (_sendChain.Count > 0 && queue.Gather(_sendChain, message) == MessageSize)
            {
                Handle(message);
            }

            interrupt |= queue.Complete(head, 0);
        }

        if (interrupt)
        {
            NotifyUsed(SendQueue);
        }
    }

    private void Handle(byte[] message)
    {
        switch (BinaryPrimitives.ReadUInt32LittleEndian(message))
        {
            case CmdNeedVmId when message.AsSpan(4).IndexOfAnyExcept((byte)0) >= 0:
                RefusedMessages++;
                break;
            case CmdNeedVmId:
                var reply = new byte[MessageSize];
                BinaryPrimitives.WriteUInt32LittleEndian(reply, CmdNeedVmId);
                BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(4), VmId);
                SendToDriver(reply);

                break;
            case CmdExport:
                UInt128 id = BinaryPrimitives.ReadUInt128LittleEndian(message.AsSpan(4));
                byte[] data = message.AsSpan(4 + IdSize).ToArray();
                bool added;
                lock (_recvLock)
                {
                    // An id already exported is not unique: the message is dropped.
                    added = _exports.TryAdd(id, data);
                }

                if (added)
                {
                    Exported?.Invoke(this, new DmabufExportEventArgs(id, data));
                }
                else
                {
                    RefusedMessages++;
                }

                break;
            default:
                break; // Nothing else travels on the send queue.
        }
    }

    /// <summary>Writes pending messages into posted recv buffers. Caller holds the recv lock.</summary>
    private void Flush()
    {
        if (_recv is not { } queue)
        {
            return;
        }

        bool interrupt = false;
        while (_pending.Count > 0 && queue.TryTake(out ushort head, _recvChain))
        {
            if (DeviceVirtqueue.WritableLength(_recvChain) < MessageSize)
            {
                interrupt |= queue.Complete(head, 0);
                continue;
            }

            interrupt |= queue.Complete(head, (uint)queue.Scatter(_recvChain, _pending.Dequeue()));
        }

        if (interrupt)
        {
            Csr.SetQueueInterrupt();
            if (_recvVector != NoVector)
            {
                Csr.TriggerMsix(_recvVector);
            }
        }
    }
}

/// <summary>An export the driver made: the 128-bit id and the private data after it.</summary>
public sealed class DmabufExportEventArgs(UInt128 id, byte[] data) : EventArgs
{
    public UInt128 Id { get; } = id;

    /// <summary>The 240 bytes of op after the id (metadata first).</summary>
    public IReadOnlyList<byte> Data { get; } = data;
}
