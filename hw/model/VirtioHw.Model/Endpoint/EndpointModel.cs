using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// What every endpoint's hardware has: the firmware CSR port (<see cref="FwCsrModel"/>) with its
/// event FIFO, the backing memory of its shared memory windows, and a lock that serialises host
/// accesses and firmware accesses, as the one register bus of the RTL does.
/// </summary>
public abstract class EndpointModel
{
    /// <param name="description">The validated description the hardware is built from.</param>
    /// <param name="upstream">Where the endpoint's DMA and messages go; not owned.</param>
    /// <param name="backing">Device memory to use, shared with other endpoints; null to allocate <see cref="EndpointDescription.BackingMemory"/> bytes.</param>
    protected EndpointModel(EndpointDescription description, IRootPort upstream, SharedMemoryBacking? backing)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(upstream);
        Description = description;
        Upstream = upstream;
        if (backing is not null && backing.Length < description.BackingMemory)
        {
            throw new ArgumentException($"the backing memory has 0x{backing.Length:x} bytes; {description.Name} needs 0x{description.BackingMemory:x}", nameof(backing));
        }

        Backing = backing ?? (description.BackingMemory > 0 ? new SharedMemoryBacking(description.BackingMemory) : null);
        Csr.SetPersonalityDeviceId(description.Virtio?.DeviceId ?? 0);
        Csr.SetPersonalityNumQueues((byte)description.Queues.Length);
        Csr.SetPersonalityMsixVectors((ushort)(description.Msix?.Vectors ?? 0));
        Events = new EventFifo(Csr, Sync, description.EventFifoDepth);
        Hal = new FirmwarePort(this);
    }

    public EndpointDescription Description { get; }

    /// <summary>The firmware's port on this endpoint.</summary>
    public IDeviceHal Hal { get; }

    /// <summary>Device memory behind the shared memory windows; null when the endpoint has none.</summary>
    public SharedMemoryBacking? Backing { get; }

    /// <summary>Serialises every access to the endpoint's registers, from the host and from firmware.</summary>
    internal Lock Sync { get; } = new();

    internal FwCsrModel Csr { get; } = new();

    internal EventFifo Events { get; }

    internal IRootPort Upstream { get; }

    /// <summary>Whether the endpoint may start DMA and messages.</summary>
    internal abstract bool BusMasterEnabled { get; }

    /// <summary>One host memory read; false when the endpoint does not decode <paramref name="address"/>.</summary>
    public abstract bool TryRead(ulong address, int width, out ulong value);

    /// <summary>One host memory write; false when the endpoint does not decode <paramref name="address"/>.</summary>
    public abstract bool TryWrite(ulong address, int width, ulong value);

    /// <summary>
    /// Reads ordinary memory (a shared memory window) at <paramref name="address"/>, as far as one
    /// run goes, under one acquisition of <see cref="Sync"/>; the bytes read, 0 when the address is
    /// not such memory here (the caller then goes one access at a time).
    /// </summary>
    internal virtual int ReadRun(ulong address, Span<byte> destination) => 0;

    /// <summary>The counterpart of <see cref="ReadRun"/>; the bytes consumed, or 0.</summary>
    internal virtual int WriteRun(ulong address, ReadOnlySpan<byte> source) => 0;

    /// <summary>Hardware state that follows every access (an interrupt level, say); runs under <see cref="Sync"/>.</summary>
    internal virtual void AfterAccess()
    {
    }

    /// <summary>The window that answers in shared memory region <paramref name="region"/>.</summary>
    internal IMemoryTarget CreateSharedMemoryWindow(SharedMemoryRegion region) => region.Kind switch
    {
        SharedMemoryKind.Chunks => new ChunkWindow(region, Backing!, this),
        SharedMemoryKind.Notify => new IsmNotifyArea(region, Events),
        _ => new PlainWindow(Backing!, region.Offset),
    };
}
