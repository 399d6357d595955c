using System.Buffers.Binary;
using VirtioHw.Firmware;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// A hostile driver against the device side of a split virtqueue (<see cref="DeviceVirtqueue"/>)
/// on the model's DMA: descriptor loops, chains longer than the queue, indirect flags, addresses
/// outside system memory, zero and huge lengths, avail index jumps, ring areas that are not memory.
/// Per notification the device takes at most queue-size chains of at most queue-size descriptors,
/// writes only into device-writable buffers and the used ring, and either serves or marks itself
/// DEVICE_NEEDS_RESET; after a reset the same memory serves a well-formed request again.
/// </summary>
public sealed class VirtqueueTarget : FuzzTarget, IDisposable
{
    private const int MemoryBytes = 64 * 1024;
    private const ushort FlagNext = 1;
    private const ushort FlagWrite = 2;
    private const ushort FlagIndirect = 4;
    private const int RequestBytes = 64;
    private static readonly PciAddress Address = new(0, 1, 0);
    private static readonly ushort[] Sizes = [0, 1, 2, 3, 4, 8, 16, 64, 256];

    private readonly ModelPlatform _platform;
    private readonly DmaRegion _memory;
    private readonly IDeviceHal _hal;
    private readonly VirtioPciTransport _transport;

    public VirtqueueTarget()
    {
        _platform = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [new PciEndpointPlacement(Address, EndpointDescriptions.LoadBuiltin("virtio-ism"))],
            RunFirmware = false,
        });
        _transport = VirtioPciTransport.Open(PciBus.Scan(_platform).Find(Address));
        _memory = _platform.AllocateDma(MemoryBytes);
        _hal = _platform.FindEndpoint(Address)!.Hardware.Hal;
    }

    public override string Name => "virtqueue";

    public override string Description => "hostile split-virtqueue drivers against the device side: bounded work, writes only where allowed, NEEDS_RESET or skip, serves after reset";

    public override TimeSpan HangTimeout => TimeSpan.FromSeconds(10);

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 2048);

    public override void Execute(byte[] input)
    {
        var choices = new FuzzInput(input);
        ushort size = choices.Choose(Sizes);
        int tableBytes = 16 * Math.Max((int)size, 1);
        ulong descriptors = Area(choices, 0x0000);
        ulong driver = Area(choices, 0x4000);
        ulong device = Area(choices, 0x6000);

        // A fresh device state: memory cleared, status cleared, then the hostile driver's rings.
        Span<byte> clear = new byte[MemoryBytes];
        _memory.Write(0, clear);
        ResetDevice();
        Span<byte> d = stackalloc byte[16];
        for (int i = 0; i < Math.Min((int)size, 256); i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(d, BufferAddress(choices));
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)choices.Edgy(RequestBytes));
            BinaryPrimitives.WriteUInt16LittleEndian(d[12..], choices.Choose(5) switch
            {
                0 => 0,
                1 => FlagNext,
                2 => FlagWrite,
                3 => FlagNext | FlagWrite,
                _ => (ushort)(choices.Choose(2) == 0 ? FlagIndirect : choices.UInt16()),
            });
            BinaryPrimitives.WriteUInt16LittleEndian(d[14..], choices.Choose(2) == 0 ? (ushort)choices.Choose(Math.Max((int)size, 1)) : choices.UInt16());
            _memory.Write((int)(0x0000 + (16 * i)), d);
        }

        byte[] before = new byte[MemoryBytes];
        var queue = new DeviceVirtqueue(_hal, new QueueSetup(size, VirtioFirmware.NoVector, descriptors, driver, device));
        var allowed = new List<(ulong Address, ulong Length)> { (device, 4 + (8UL * (ulong)Math.Max((int)size, 1)) + 2) };
        int notifications = 1 + choices.Choose(4);
        for (int n = 0; n < notifications; n++)
        {
            // The driver publishes ring entries and moves its index, possibly by far too much.
            int entries = choices.Choose(Math.Max((int)size, 1) + 1);
            for (int i = 0; i < entries && i < 256; i++)
            {
                WriteU16(0x4000 + 4 + (2 * i), choices.Choose(2) == 0 ? (ushort)choices.Choose(Math.Max((int)size, 1)) : choices.UInt16());
            }

            ushort jump = choices.Choose(6) switch
            {
                0 => 0,
                1 => (ushort)entries,
                2 => size,
                3 => (ushort)(size + 1),
                4 => ushort.MaxValue,
                _ => choices.UInt16(),
            };
            WriteU16(0x4000 + 2, (ushort)(ReadU16(0x4000 + 2) + jump));
            _memory.Read(0, before);
            int taken = Notify(queue, size, allowed);
            CheckWritesAllowed(before, allowed);
            FuzzFailure.Check(taken <= size, $"one notification took {taken} chains from a queue of {size}");
            if (queue.Broken)
            {
                FuzzFailure.Check(NeedsReset(), "the queue stopped taking chains but the device did not set DEVICE_NEEDS_RESET");
                FuzzFailure.Check(Notify(queue, size, allowed) == 0, "a broken queue took another chain");
                break;
            }
        }

        ServesAfterReset();
    }

    public void Dispose()
    {
        _memory.Dispose();
        _transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Runs one notification as the personalities do: take, gather, scatter, complete; returns the chains taken.</summary>
    private static int Notify(DeviceVirtqueue queue, ushort size, List<(ulong Address, ulong Length)> allowed)
    {
        var chain = new List<DeviceBuffer>();
        Span<byte> request = stackalloc byte[RequestBytes];
        int taken = 0;

        // A device that took more than the queue size plus one has already failed the property; stop there.
        while (taken <= size + 1 && queue.TryTake(out ushort head, chain))
        {
            taken++;
            FuzzFailure.Check(chain.Count <= size, $"a chain of {chain.Count} descriptors from a queue of {size}");
            allowed.AddRange(chain.Where(b => b.DeviceWritable).Select(b => (b.Address, (ulong)b.Length)));
            int length = queue.Gather(chain, request);
            int written = queue.Scatter(chain, request[..length]);
            queue.Complete(head, (uint)written);
        }

        return taken;
    }

    private void CheckWritesAllowed(byte[] before, List<(ulong Address, ulong Length)> allowed)
    {
        byte[] after = new byte[MemoryBytes];
        _memory.Read(0, after);
        for (int i = 0; i < MemoryBytes; i++)
        {
            ulong at = _memory.BusAddress + (ulong)i;
            if (before[i] != after[i] && !allowed.Exists(r => at >= r.Address && at - r.Address < r.Length))
            {
                throw new FuzzFailure($"the device wrote 0x{at:x}, outside the used ring and every device-writable buffer");
            }
        }
    }

    /// <summary>What a driver does after DEVICE_NEEDS_RESET: reset, then a well-formed one-request queue must be served.</summary>
    private void ServesAfterReset()
    {
        ResetDevice();
        _memory.Write(0, new byte[MemoryBytes]);
        Span<byte> d = stackalloc byte[32];
        d.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d, _memory.BusAddress + 0x8000);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], 8);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], FlagNext);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], _memory.BusAddress + 0x9000);
        BinaryPrimitives.WriteUInt32LittleEndian(d[24..], 8);
        BinaryPrimitives.WriteUInt16LittleEndian(d[28..], FlagWrite);
        _memory.Write(0, d);
        _memory.Write(0x8000, "request!"u8);
        WriteU16(0x4000 + 4, 0);
        WriteU16(0x4000 + 2, 1);
        var queue = new DeviceVirtqueue(_hal, new QueueSetup(4, VirtioFirmware.NoVector, _memory.BusAddress, _memory.BusAddress + 0x4000, _memory.BusAddress + 0x6000));
        int taken = Notify(queue, 4, []);
        byte[] echoed = new byte[8];
        _memory.Read(0x9000, echoed);
        FuzzFailure.Check(taken == 1 && ReadU16(0x6000 + 2) == 1 && echoed.AsSpan().SequenceEqual("request!"u8), "after a reset the device did not serve a well-formed request");
    }

    private ulong Area(FuzzInput choices, int offset) => choices.Choose(8) switch
    {
        0 => 0,
        1 => ulong.MaxValue - 1,
        2 => _memory.BusAddress + MemoryBytes - 2,
        3 => choices.UInt64(),
        _ => _memory.BusAddress + (ulong)offset,
    };

    private ulong BufferAddress(FuzzInput choices) => choices.Choose(6) switch
    {
        0 => 0,
        1 => ulong.MaxValue - 3,
        2 => _memory.BusAddress + MemoryBytes - (ulong)choices.Choose(16),
        3 => choices.UInt64(),
        _ => _memory.BusAddress + 0x8000 + (ulong)choices.Choose(0x8000),
    };

    /// <summary>A driver's device reset through the common configuration; the firmware's event queue is drained as the firmware would.</summary>
    private void ResetDevice()
    {
        _transport.ResetAsync().AsTask().GetAwaiter().GetResult();
        _platform.FindEndpoint(Address)!.Firmware?.ProcessPendingEvents();
    }

    private bool NeedsReset() => _transport.NeedsReset;

    private ushort ReadU16(int offset) => _memory.ReadUInt16(offset);

    private void WriteU16(int offset, ushort value)
    {
        Span<byte> word = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(word, value);
        _memory.Write(offset, word);
    }
}
