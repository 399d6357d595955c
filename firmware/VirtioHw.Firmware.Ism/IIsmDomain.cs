using VirtioHw.Wire;

namespace VirtioHw.Firmware.Ism;

/// <summary>
/// A virtio-ism communication domain as its members see it: the authority over the chunk pool,
/// the regions (token, chunks, permissions) and who refers to each. An <see cref="IsmFirmware"/>
/// keeps only what is its own (chunk slots, notify slots, bound vectors) and asks the domain for
/// the rest, so it does not care whether the domain lives in this process (<see cref="IsmDomain"/>)
/// or behind a domain server.
/// </summary>
/// <remarks>
/// Chunk addresses are byte offsets in the domain memory every member's chunk window maps.
/// Operations name the member by its devid; they may be called from any thread.
/// </remarks>
public interface IIsmDomain
{
    /// <summary>The communication domain id every member reports (a version-4 UUID).</summary>
    Guid Cdid { get; }

    /// <summary>Size of one chunk, a power of two.</summary>
    ulong ChunkSize { get; }

    /// <summary>How many chunks the domain memory has.</summary>
    int ChunkCount { get; }

    /// <summary>Adds a member; returns its devid: unique in the domain, never 0.</summary>
    /// <param name="member">Receives the domain's events for this member; called from any thread.</param>
    ulong Join(IIsmDomainMember member);

    /// <summary>Removes a member: every region it refers to is detached (its peers hear of it).</summary>
    void Leave(ulong devid);

    /// <summary>VIRTIO_ISM_CTRL_ALLOC_REGION: a new region of <paramref name="size"/> bytes, cleared, referred to by <paramref name="devid"/>.</summary>
    IsmMapResult Allocate(ulong devid, ulong size, IsmChunkLimits limits);

    /// <summary>
    /// VIRTIO_ISM_CTRL_ALLOC_REGION without VIRTIO_ISM_F_DEV_MEM: a region in the allocating
    /// driver's buffer at bus address <paramref name="buffer"/> (already cleared by the device),
    /// chunk i at <c>buffer + i * ChunkSize</c> in system memory, referred to by <paramref name="devid"/>.
    /// When its last referrer detaches, the allocator gets a BUFFER_FREE event.
    /// </summary>
    /// <remarks>
    /// Only members that share the allocator's system memory can map such a region. A domain whose
    /// members cannot (one behind a domain server, whose members are other processes) keeps this
    /// default and refuses with VIRTIO_ISM_ERR: the command is well-formed, but the region could
    /// not be what the domain promises, memory every member reaches; NOMEM and NOSPEC would tell
    /// the driver to retry smaller or later, which cannot help.
    /// </remarks>
    IsmMapResult AllocateInDriverMemory(ulong devid, ulong size, ulong buffer, IsmChunkLimits limits) =>
        IsmMapResult.Failed(IsmAck.Error);

    /// <summary>VIRTIO_ISM_CTRL_QUERY_INFO: the region's size and the permissions <paramref name="devid"/> holds on it.</summary>
    IsmQueryResult Query(ulong devid, ulong token);

    /// <summary>VIRTIO_ISM_CTRL_ATTACH_REGION with <paramref name="access"/> (READ and/or WRITE); the other referrers get an ATTACH event.</summary>
    IsmMapResult Attach(ulong devid, ulong token, IsmPermissions access, IsmChunkLimits limits);

    /// <summary>VIRTIO_ISM_CTRL_DETACH_REGION; the other referrers get a DETACH event; the last detach frees the region.</summary>
    IsmAck Detach(ulong devid, ulong token);

    /// <summary>VIRTIO_ISM_CTRL_GRANT: the default permissions (<paramref name="peer"/> null) or those of one device.</summary>
    IsmAck Grant(ulong devid, ulong token, IsmPermissions permissions, ulong? peer);

    /// <summary>A kick of the region's notify-address: an UPDATE event for every other referrer.</summary>
    void Kick(ulong devid, ulong token);
}

/// <summary>
/// The side of a member the domain talks to. Calls come from any thread, possibly while the domain
/// holds its own lock: an implementation queues or handles the event and never calls back into
/// the domain.
/// </summary>
public interface IIsmDomainMember
{
    void OnDomainEvent(IsmDomainEvent domainEvent);

    /// <summary>
    /// The domain is gone (its server died or hung up): every region the member referred to is
    /// lost and no operation will succeed again. Called once, from any thread.
    /// </summary>
    void OnDomainLost()
    {
    }
}

/// <summary>
/// An event for one member: <paramref name="Type"/> one of the <see cref="IsmWire"/> event types,
/// the region by its token, the devid of the device that caused it, and for ATTACH and DETACH the
/// referrers other than the receiver. BUFFER_FREE goes to the allocator of a region in driver
/// memory once nobody refers to it (the receiver knows the buffer by the token).
/// </summary>
public readonly record struct IsmDomainEvent(ulong Type, ulong Token, ulong DevId, ulong Peers);

/// <summary>
/// What the member can take besides the domain's own limits: the chunks its reply buffer can
/// list (negative when not even the header fits) and its free chunk slots.
/// </summary>
public readonly record struct IsmChunkLimits(long ReplyChunks, int FreeSlots);

/// <summary>
/// The outcome of an alloc or attach. On OK: the token, the region size and its chunks in region
/// order, addresses in domain memory, or bus addresses in system memory when
/// <see cref="SystemMemory"/> (a region in its allocator's buffer); on E2BIG:
/// <see cref="ChunkCount"/> is the number of chunks to make room for.
/// </summary>
public sealed record IsmMapResult(IsmAck Ack, ulong Token = 0, ulong Size = 0, IReadOnlyList<ulong>? Chunks = null, ulong ChunkCount = 0, bool SystemMemory = false)
{
    public static IsmMapResult Failed(IsmAck ack) => new(ack);
}

/// <summary>The outcome of a query: on OK the region's size and the asking device's permissions.</summary>
public readonly record struct IsmQueryResult(IsmAck Ack, ulong Size, IsmPermissions Permissions);
