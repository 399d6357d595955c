using VirtioHw.Drivers.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Benchmarks.Control;

/// <summary>
/// One full ISM control operation as a host runs it: A allocates a one-chunk region, B attaches it,
/// A takes the ATTACH event, B detaches, A takes the DETACH event, A detaches and so frees the
/// region. Every step is a controlq command through the firmware, and every event an eventq buffer
/// with its MSI-X interrupt.
/// </summary>
public static class IsmControlOperation
{
    public static async Task RunAsync(IsmDevice a, IsmDevice b, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        IsmRegion region = await a.AllocateAsync(a.ChunkSize, cancellationToken).ConfigureAwait(false);
        IsmRegion attached = await b.AttachAsync(region.Token, IsmPermissions.Read | IsmPermissions.Write, cancellationToken).ConfigureAwait(false);
        await a.WaitForEventAsync(e => e.Type == IsmEventType.Attach && e.Offset == region.Offset, cancellationToken).ConfigureAwait(false);
        await attached.DetachAsync(cancellationToken).ConfigureAwait(false);
        await a.WaitForEventAsync(e => e.Type == IsmEventType.Detach && e.Offset == region.Offset, cancellationToken).ConfigureAwait(false);
        await region.DetachAsync(cancellationToken).ConfigureAwait(false);
    }
}
