using System.Diagnostics.CodeAnalysis;
using VirtioHw.Cosim;
using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Platforms.Cosim;

/// <summary>
/// One RTL endpoint instance of a <see cref="CosimPlatform"/>: where it sits, what it is built
/// from, its device memory, and the firmware driving it through <see cref="Hal"/>. Every call
/// into the instance (host, firmware) holds its lock, because a Verilated top is not thread-safe;
/// after each call the MSI messages it sent are delivered and a waiting firmware is woken.
/// </summary>
public sealed class CosimEndpoint
{
    /// <summary>Clocks after a write before its MSI messages and events are looked for.</summary>
    private const uint SettleCycles = 4;

    private readonly Lock _sync = new();
    private readonly IEndpointRtl _rtl;
    private readonly IRootPort _upstream;

    // BAR decode as the host programmed it, read back from config space after every config write.
    private readonly ulong[] _barBase = new ulong[PciHeader.Bar.Count];
    private readonly int[] _memoryBars;
    private bool _memorySpace;
    private bool _busMaster;

    private TaskCompletionSource? _eventWaiter;
    private string? _failure;

    internal CosimEndpoint(string name, PciAddress? address, EndpointDescription description, uint? ivPosition, IEndpointRtl rtl, DeviceMemory? memory, IRootPort upstream)
    {
        Name = name;
        IvPosition = ivPosition;
        Address = address;
        Description = description;
        Memory = memory;
        _rtl = rtl;
        _upstream = upstream;
        _memoryBars = [.. description.Bars.Where(b => !b.Io).Select(b => b.Index)];
        Hal = new CosimFirmwarePort(this);
        if (memory is not null)
        {
            _rtl.AttachMemory(memory);
        }

        if (address is not null)
        {
            RefreshDecode();
        }
    }

    /// <summary>The instance's name, as waveform files and messages carry it: <c>virtio-ism-00.01.0</c>, <c>virtio-ism-mmio-fe000000</c>.</summary>
    public string Name { get; }

    /// <summary>The function address, or null behind virtio-mmio.</summary>
    public PciAddress? Address { get; }

    public EndpointDescription Description { get; }

    /// <summary>An ivshmem peer's id, as IVPosition reads it; null for other personalities.</summary>
    public uint? IvPosition { get; }

    /// <summary>The device memory the memory master reaches; null when the endpoint has none.</summary>
    public DeviceMemory? Memory { get; }

    /// <summary>The firmware's port on this instance (the <c>fw_</c> port, DMA, the event wake-up).</summary>
    public IDeviceHal Hal { get; }

    /// <summary>The booted firmware, or null.</summary>
    public DeviceFirmware? Firmware { get; internal set; }

    /// <summary>The firmware's event loop while the platform runs it; a firmware failure shows here.</summary>
    public Task? FirmwareTask { get; internal set; }

    /// <summary>Clock cycles the access that left the instance failed ran before it gave up; null while it has not failed.</summary>
    public ulong? FailedAccessCycles { get; private set; }

    /// <summary>Clock cycles the instance has run.</summary>
    public ulong Cycle
    {
        get
        {
            lock (_sync)
            {
                return _rtl.Cycle;
            }
        }
    }

    internal string TopName => _rtl.TopName;

    /// <summary>One config read of 1, 2 or 4 bytes: the word on the cfg_ port, the bytes taken out of it.</summary>
    internal uint ReadConfig(int offset, int width)
    {
        lock (_sync)
        {
            uint word = Call(RtlPort.Config, (uint)offset & ~3u, 0, 0, write: false, "config read", offset);
            return (uint)((word >> ((offset & 3) * 8)) & Ones(width));
        }
    }

    /// <summary>One config write; the BAR decode follows what the host then reads back.</summary>
    internal void WriteConfig(int offset, int width, uint value)
    {
        lock (_sync)
        {
            int shift = (offset & 3) * 8;
            Call(RtlPort.Config, (uint)offset & ~3u, value << shift, (byte)(((1 << width) - 1) << (offset & 3)), write: true, "config write", offset);
            RefreshDecode();
        }
    }

    /// <summary>One host read, if this endpoint decodes <paramref name="address"/>.</summary>
    internal bool TryRead(ulong address, int width, out ulong value)
    {
        lock (_sync)
        {
            if (!TryDecode(address, out RtlPort port, out ulong offset))
            {
                value = 0;
                return false;
            }

            value = ReadPort(port, offset, width);
            return true;
        }
    }

    /// <summary>One host write, if this endpoint decodes <paramref name="address"/>.</summary>
    internal bool TryWrite(ulong address, int width, ulong value)
    {
        lock (_sync)
        {
            if (!TryDecode(address, out RtlPort port, out ulong offset))
            {
                return false;
            }

            WritePort(port, offset, width, value);
            return true;
        }
    }

    /// <summary>The firmware's CSR read.</summary>
    internal uint ReadCsr(uint offset)
    {
        lock (_sync)
        {
            return Call(RtlPort.Firmware, offset & ~3u, 0, 0, write: false, "firmware CSR read", offset);
        }
    }

    /// <summary>The firmware's CSR write.</summary>
    internal void WriteCsr(uint offset, uint value, uint strobe)
    {
        lock (_sync)
        {
            Call(RtlPort.Firmware, offset & ~3u, value, (byte)(strobe & 0xF), write: true, "firmware CSR write", offset);
        }
    }

    /// <summary>A virtio-mmio device's interrupt: every cause raised from now on is one message at <paramref name="messageAddress"/>.</summary>
    internal void RouteInterrupt(ulong messageAddress, uint messageData)
    {
        lock (_sync)
        {
            ThrowIfFailed();
            _rtl.RouteInterrupt(messageAddress, messageData);
        }
    }

    /// <summary>
    /// Fault injection: from clock cycle <paramref name="fromCycle"/> on (null: now) the
    /// <paramref name="ports"/> of this instance take no request, as if its link or its control
    /// plane hung. The first access on a stalled port then fails after
    /// <see cref="CosimPlatformSettings.TimeoutCycles"/> with a <see cref="CosimException"/> naming
    /// the instance, and the instance stays failed; other instances go on.
    /// </summary>
    public void Stall(StalledPorts ports, ulong? fromCycle = null)
    {
        lock (_sync)
        {
            ThrowIfFailed();
            ulong from = fromCycle ?? _rtl.Cycle;
            if (ports.HasFlag(StalledPorts.Host))
            {
                foreach (RtlPort port in (ReadOnlySpan<RtlPort>)[RtlPort.Config, RtlPort.Bar0, RtlPort.Bar1, RtlPort.Bar2, RtlPort.Mmio, RtlPort.Shm])
                {
                    _rtl.Stall(port, from);
                }
            }

            if (ports.HasFlag(StalledPorts.Firmware))
            {
                _rtl.Stall(RtlPort.Firmware, from);
            }
        }
    }

    /// <summary>
    /// Whether the endpoint may master the bus: command.bus_master of its config space as last read
    /// back after a config write (a virtio-mmio device always may). Kept here, so the firmware's DMA
    /// does not reach into the host's config port.
    /// </summary>
    internal bool BusMasterEnabled()
    {
        if (Address is null)
        {
            return true;
        }

        lock (_sync)
        {
            return _busMaster;
        }
    }

    internal bool DmaRead(ulong busAddress, Span<byte> destination) =>
        BusMasterEnabled() && _upstream.TryMemoryRead(busAddress, destination);

    internal bool DmaWrite(ulong busAddress, ReadOnlySpan<byte> source) =>
        BusMasterEnabled() && _upstream.TryMemoryWrite(busAddress, source);

    /// <summary>Completes once fw_irq_o is high: at once if it is, else after the host access that raises it.</summary>
    internal ValueTask WaitForEventAsync(CancellationToken cancellationToken)
    {
        Task waiter;
        lock (_sync)
        {
            ThrowIfFailed();
            if (_rtl.FirmwareInterrupt)
            {
                return ValueTask.CompletedTask;
            }

            _eventWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter = _eventWaiter.Task;
        }

        return new ValueTask(waiter.WaitAsync(cancellationToken));
    }

    internal void OpenTrace(string path)
    {
        lock (_sync)
        {
            _rtl.OpenTrace(path);
        }
    }

    /// <summary>Flushes the waveform and frees the instance; later calls fail.</summary>
    internal void Close()
    {
        lock (_sync)
        {
            _failure ??= "the platform was disposed";
            _eventWaiter?.TrySetException(new ObjectDisposedException(Name, $"{Name}: {_failure}"));
            _eventWaiter = null;
            _rtl.CloseTrace();
            _rtl.Dispose();
        }
    }

    internal uint TimeoutCycles
    {
        get => _rtl.TimeoutCycles;
        set => _rtl.TimeoutCycles = value;
    }

    private ulong ReadPort(RtlPort port, ulong offset, int width)
    {
        if (width == 8)
        {
            // 64-bit: two 32-bit accesses, low word first, as a 32-bit AXI4-Lite port receives it.
            ulong low = Call(port, (uint)offset, 0, 0, write: false, "read", (long)offset);
            ulong high = Call(port, (uint)offset + 4, 0, 0, write: false, "read", (long)offset + 4);
            return low | (high << 32);
        }

        uint word = Call(port, (uint)offset & ~3u, 0, 0, write: false, "read", (long)offset);
        return (word >> ((int)(offset & 3) * 8)) & Ones(width);
    }

    private void WritePort(RtlPort port, ulong offset, int width, ulong value)
    {
        if (width == 8)
        {
            Call(port, (uint)offset, (uint)value, 0xF, write: true, "write", (long)offset);
            Call(port, (uint)offset + 4, (uint)(value >> 32), 0xF, write: true, "write", (long)offset + 4);
            return;
        }

        int lane = (int)(offset & 3);
        Call(port, (uint)offset & ~3u, (uint)value << (lane * 8), (byte)(((1 << width) - 1) << lane), write: true, "write", (long)offset);
    }

    /// <summary>
    /// One AXI4-Lite access, then the MSI messages it caused and the firmware wake-up. A timeout
    /// or a simulation error leaves the instance failed: every later call says so at once.
    /// </summary>
    private uint Call(RtlPort port, uint offset, uint data, byte strobe, bool write, string what, long at)
    {
        ThrowIfFailed();
        uint value = 0;
        ulong start = _rtl.Cycle;
        try
        {
            if (write)
            {
                _rtl.Write(port, offset, data, strobe);
            }
            else
            {
                value = _rtl.Read(port, offset);
            }

            if (write)
            {
                Settle();
            }

            if (_eventWaiter is not null && _rtl.FirmwareInterrupt)
            {
                _eventWaiter.TrySetResult();
                _eventWaiter = null;
            }
        }
        catch (CosimException e)
        {
            string access = $"{what} of {PortName(port)} 0x{at:x}";
            FailedAccessCycles = _rtl.Cycle - start;
            _failure = e is CosimTimeoutException
                ? $"the RTL stopped responding: {access} did not complete within {_rtl.TimeoutCycles} cycles ({e.Message})"
                : $"{access} failed: {e.Message}";
            _eventWaiter?.TrySetException(new CosimException($"{Name}: {_failure}"));
            _eventWaiter = null;
            throw new CosimException($"{Name}: {_failure}", e);
        }

        return value;
    }

    /// <summary>
    /// Lets the effects of a write reach the outputs (an MSI message leaves a few clocks after the
    /// write that causes it, one message per clock; an event reaches fw_irq_o), delivering every
    /// message, until a few clocks pass without one.
    /// </summary>
    private void Settle()
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        bool more = true;
        while (more)
        {
            _rtl.Tick(SettleCycles);
            more = false;
            while (_rtl.TryPopMsi(out ulong address, out uint data))
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, data);
                _upstream.TryMemoryWrite(address, bytes);
                more = true;
            }
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            ThrowFailed();
        }
    }

    [DoesNotReturn]
    private void ThrowFailed() => throw new CosimException($"{Name}: {_failure}");

    private bool TryDecode(ulong address, out RtlPort port, out ulong offset)
    {
        if (Address is null)
        {
            return TryDecodeMmio(address, out port, out offset);
        }

        if (_memorySpace)
        {
            foreach (int index in _memoryBars)
            {
                ulong start = _barBase[index];
                if (address >= start && address - start < Description.FindBar(index)!.Size)
                {
                    port = RtlPort.Bar0 + index;
                    offset = address - start;
                    return true;
                }
            }
        }

        port = default;
        offset = 0;
        return false;
    }

    private bool TryDecodeMmio(ulong address, out RtlPort port, out ulong offset)
    {
        MmioPlacement mmio = Description.Mmio!;
        if (address >= mmio.Base && address - mmio.Base < CosimPlatform.MmioWindowSize)
        {
            (port, offset) = (RtlPort.Mmio, address - mmio.Base);
            return true;
        }

        ulong shmSize = MmioSharedMemorySize(Description);
        if (address >= mmio.SharedMemoryBase && address - mmio.SharedMemoryBase < shmSize)
        {
            (port, offset) = (RtlPort.Shm, address - mmio.SharedMemoryBase);
            return true;
        }

        port = default;
        offset = 0;
        return false;
    }

    /// <summary>The size of the BAR that holds a virtio-mmio device's shared memory regions (0 without any).</summary>
    internal static ulong MmioSharedMemorySize(EndpointDescription description) =>
        description.SharedMemory.IsEmpty ? 0 : description.FindBar(description.SharedMemory[0].Bar)!.Size;

    /// <summary>Reads command.memory_space and every memory BAR back from the RTL's config space.</summary>
    private void RefreshDecode()
    {
        uint command = Call(RtlPort.Config, PciHeader.Command.Offset & ~3u, 0, 0, write: false, "config read", (long)PciHeader.Command.Offset);
        _memorySpace = (command & PciHeader.Command.MemorySpace.Mask) != 0;
        _busMaster = (command & PciHeader.Command.BusMaster.Mask) != 0;
        foreach (int index in _memoryBars)
        {
            BarDescription bar = Description.FindBar(index)!;
            ulong value = Call(RtlPort.Config, PciHeader.Bar.OffsetOf(index), 0, 0, write: false, "config read", (long)PciHeader.Bar.OffsetOf(index))
                & PciHeader.Bar.Address.Mask;
            if (bar.Is64Bit)
            {
                value |= (ulong)Call(RtlPort.Config, PciHeader.Bar.OffsetOf(index + 1), 0, 0, write: false, "config read", (long)PciHeader.Bar.OffsetOf(index + 1)) << 32;
            }

            _barBase[index] = value & ~(bar.Size - 1);
        }
    }

    private static ulong Ones(int width) => ulong.MaxValue >> (64 - (8 * width));

    private static string PortName(RtlPort port) => port switch
    {
        RtlPort.Config => "config space",
        RtlPort.Bar0 => "BAR0",
        RtlPort.Bar1 => "BAR1",
        RtlPort.Bar2 => "BAR2",
        RtlPort.Firmware => "the firmware CSR port",
        RtlPort.Mmio => "the virtio-mmio registers",
        _ => "the virtio-mmio shared memory",
    };
}
