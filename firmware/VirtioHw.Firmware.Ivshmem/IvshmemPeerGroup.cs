namespace VirtioHw.Firmware.Ivshmem;

/// <summary>
/// The peers of one ivshmem shared memory object, by IVPosition. A peer may join at any time (its
/// firmware boots); every peer already present is then told, with <see cref="IvshmemSignals.JoinTrigger"/>.
/// A doorbell written on one peer (peer &lt;&lt; 16 | vector) goes to the named peer's endpoint,
/// which raises it as its interrupt mode and compatibility say (<see cref="IvshmemSignals"/>); a
/// doorbell for an absent peer is dropped, as ivshmem does.
/// </summary>
public sealed class IvshmemPeerGroup
{
    private readonly Lock _sync = new();
    private readonly Dictionary<ushort, IvshmemPeerFirmware> _peers = [];

    /// <summary>Doorbells dropped because the peer does not exist (a vector a peer lacks is its endpoint's to drop).</summary>
    public long DroppedDoorbells { get; private set; }

    /// <summary>The IVPositions of the peers present now.</summary>
    public IReadOnlyList<ushort> Peers
    {
        get
        {
            lock (_sync)
            {
                return [.. _peers.Keys.Order()];
            }
        }
    }

    /// <summary>Adds a peer and announces the join to every peer already present.</summary>
    /// <exception cref="InvalidOperationException">Another peer has that IVPosition.</exception>
    internal void Join(ushort position, IvshmemPeerFirmware peer)
    {
        lock (_sync)
        {
            if (!_peers.TryAdd(position, peer))
            {
                throw new InvalidOperationException($"two ivshmem peers with IVPosition {position}");
            }

            foreach ((ushort other, IvshmemPeerFirmware present) in _peers)
            {
                if (other != position)
                {
                    present.Csr.TriggerMsix(IvshmemSignals.JoinTrigger);
                }
            }
        }
    }

    internal void Route(ushort peer, ushort vector)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(peer, out IvshmemPeerFirmware? target))
            {
                target.Csr.TriggerMsix(IvshmemSignals.DoorbellTrigger(vector, target.Csr.MsixVectorCount));
            }
            else
            {
                DroppedDoorbells++;
            }
        }
    }
}
