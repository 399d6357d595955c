namespace VirtioHw.Firmware.Ivshmem;

/// <summary>
/// The peers of one ivshmem shared memory object, by IVPosition. A doorbell written on one peer
/// (peer &lt;&lt; 16 | vector) becomes that vector's interrupt on the named peer; a doorbell for an
/// absent peer, or for a vector the peer does not have, is dropped, as ivshmem does.
/// </summary>
public sealed class IvshmemPeerGroup
{
    /// <summary>The vector every present peer gets when another peer joins.</summary>
    public const ushort JoinVector = 0;

    private readonly Lock _sync = new();
    private readonly Dictionary<ushort, IvshmemPeerFirmware> _peers = [];

    /// <summary>Doorbells dropped because the peer or its vector does not exist.</summary>
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

    /// <summary>Adds a peer and rings <see cref="JoinVector"/> on every peer already present.</summary>
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
                    present.Csr.TriggerMsix(JoinVector);
                }
            }
        }
    }

    internal void Route(ushort peer, ushort vector)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(peer, out IvshmemPeerFirmware? target) && vector < target.Csr.MsixVectorCount)
            {
                target.Csr.TriggerMsix(vector);
            }
            else
            {
                DroppedDoorbells++;
            }
        }
    }
}
