using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Threading.Channels;
using VirtioHw.Host.Virtio;
using static VirtioHw.Wire.DmabufWire;

namespace VirtioHw.Drivers.Dmabuf;

/// <summary>
/// The driver of a virtio-dmabuf device (the seed specification's device id 36, which the
/// ratified specification assigns to virtio-can): 260-byte messages, sent on the send queue (1)
/// and received on the recv queue (0). It asks for the VM id, exports buffers under new 128-bit
/// ids, and reports the releases the device sends back.
/// </summary>
public sealed class DmabufDevice : IAsyncDisposable
{
    private const int RecvBuffers = 8;

    private readonly VirtioTransport _transport;
    private readonly VirtioQueue _send;
    private readonly VirtioQueue _recv;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Channel<uint> _vmIds = Channel.CreateUnbounded<uint>();
    private readonly Channel<UInt128> _releases = Channel.CreateUnbounded<UInt128>();
    private readonly HashSet<UInt128> _exported = [];
    private uint _counter;
    private long _refused;

    private DmabufDevice(VirtioTransport transport, VirtioQueue recv, VirtioQueue send)
    {
        _transport = transport;
        _recv = recv;
        _send = send;
    }

    public VirtioTransport Transport => _transport;

    /// <summary>
    /// Release messages the driver refused: their id (all 128 bits, rng_key included) is not one it
    /// exported and has not seen released, or the rest of the message is not zero as the device must leave it.
    /// </summary>
    public long RefusedReleases => Interlocked.Read(ref _refused);

    /// <summary>The VM id, once <see cref="GetVmIdAsync"/> has asked for it.</summary>
    public uint? VmId { get; private set; }

    /// <summary>Brings the device up: features, recv and send queues, interrupts, DRIVER_OK, recv buffers. The device owns the transport.</summary>
    /// <param name="transport">The transport of the dmabuf device.</param>
    /// <param name="deviceType">The virtio device id the endpoint uses for dmabuf (36 in the seed specification).</param>
    /// <param name="cancellationToken">Cancels the bring-up.</param>
    /// <exception cref="VirtioException">The device is not of <paramref name="deviceType"/>.</exception>
    public static async Task<DmabufDevice> OpenAsync(VirtioTransport transport, int deviceType = 36, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (transport.DeviceType != deviceType)
        {
            throw new VirtioException($"{transport.Location} is virtio device {transport.DeviceType}, not virtio-dmabuf ({deviceType})");
        }

        await transport.InitializeAsync(0, cancellationToken).ConfigureAwait(false);
        VirtioQueue recv = transport.SetupQueue(RecvQueue);
        VirtioQueue send = transport.SetupQueue(SendQueue);
        var device = new DmabufDevice(transport, recv, send);
        device._workers.Add(transport.RunInterruptsAsync(device._stop.Token));
        transport.DriverOk();
        for (int i = 0; i < RecvBuffers; i++)
        {
            device._workers.Add(device.ReceiveAsync(device._stop.Token));
        }

        return device;
    }

    /// <summary>Sends NEED_VMID (the rest of the message zero) and waits for the device's answer.</summary>
    public async Task<uint> GetVmIdAsync(CancellationToken cancellationToken = default)
    {
        await SendAsync(CmdNeedVmId, default, default, cancellationToken).ConfigureAwait(false);
        uint vmId = await _vmIds.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        VmId = vmId;
        return vmId;
    }

    /// <summary>
    /// Exports a buffer under a new unique id: the VM id and a counter in <c>id</c>, 64 random bits
    /// in <c>rng_key</c>; <paramref name="data"/> (its first 20 bytes the buffer's metadata) follows the id.
    /// </summary>
    /// <exception cref="ArgumentException">The data is shorter than the metadata or longer than 240 bytes.</exception>
    /// <exception cref="InvalidOperationException">The VM id has not been asked for yet.</exception>
    public async Task<UInt128> ExportAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (data.Length is < MetadataSize or > DataSize)
        {
            throw new ArgumentException($"export data is {data.Length} bytes; it holds {MetadataSize} to {DataSize}", nameof(data));
        }

        uint vmId = VmId ?? throw new InvalidOperationException("ask for the VM id (GetVmIdAsync) before exporting");
        Span<byte> key = stackalloc byte[8];
        RandomNumberGenerator.Fill(key);
        ulong id = vmId | ((ulong)Interlocked.Increment(ref _counter) << 32);
        UInt128 full = new(BinaryPrimitives.ReadUInt64LittleEndian(key), id);
        lock (_exported)
        {
            _exported.Add(full);
        }

        await SendAsync(CmdExport, full, data, cancellationToken).ConfigureAwait(false);
        return full;
    }

    /// <summary>The next release the device sends: the id of an export it gave back.</summary>
    public ValueTask<UInt128> NextReleaseAsync(CancellationToken cancellationToken = default) =>
        _releases.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        foreach (Task worker in _workers)
        {
            await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
    }

    private async Task SendAsync(uint cmd, UInt128 id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[MessageSize];
        BinaryPrimitives.WriteUInt32LittleEndian(message, cmd);
        if (cmd != CmdNeedVmId)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(4), id);
            data.Span.CopyTo(message.AsSpan(4 + IdSize));
        }

        await _send.SubmitAsync([message], [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Keeps one recv buffer posted and sorts what the device sends.</summary>
    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[MessageSize];
        while (!cancellationToken.IsCancellationRequested)
        {
            UsedBuffer used;
            try
            {
                used = await _recv.SubmitAsync([], [buffer], cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (used.Length < MessageSize)
            {
                continue;
            }

            switch (BinaryPrimitives.ReadUInt32LittleEndian(buffer))
            {
                case CmdNeedVmId: _vmIds.Writer.TryWrite(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4))); break;
                case CmdRelease: OnRelease(buffer); break;
                default: break; // A message this driver does not know.
            }
        }
    }

    /// <summary>
    /// A release must name "a valid unique ID that was previously shared by the driver", all 128 bits
    /// of it (the random rng_key too), and the device "must zero out the remaining part of the
    /// message"; anything else is refused and counted, never handed on.
    /// </summary>
    private void OnRelease(byte[] message)
    {
        UInt128 id = BinaryPrimitives.ReadUInt128LittleEndian(message.AsSpan(4));
        bool known;
        lock (_exported)
        {
            known = message.AsSpan(4 + IdSize).IndexOfAnyExcept((byte)0) < 0 && _exported.Remove(id);
        }

        if (known)
        {
            _releases.Writer.TryWrite(id);
        }
        else
        {
            Interlocked.Increment(ref _refused);
        }
    }
}
