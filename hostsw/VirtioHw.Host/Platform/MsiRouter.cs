namespace VirtioHw.Host.Platforms;

/// <summary>
/// Gives each <see cref="MsiVector"/> a unique data value at one message address and routes a
/// device's write of a message to its vector. Platforms implement
/// <see cref="Platform.AllocateMsiVector"/> with <see cref="Allocate"/> and pass every device
/// write that may be a message to <see cref="TryDeliver"/>.
/// </summary>
public sealed class MsiRouter : IDisposable
{
    private readonly Lock _sync = new();
    private readonly Dictionary<uint, MsiVector> _vectors = [];

    // Data values of disposed vectors, reused before new ones so the numbers stay small.
    private readonly Stack<uint> _freeData = new();
    private uint _nextData;

    /// <summary>
    /// A router with no vectors. Callers own the vectors it hands out; disposing the router
    /// disposes those still alive.
    /// </summary>
    /// <param name="messageAddress">The address every message of this router is written to.</param>
    public MsiRouter(ulong messageAddress) => MessageAddress = messageAddress;

    public ulong MessageAddress { get; }

    /// <summary>A new vector with a data value no live vector has. The caller disposes it.</summary>
    public MsiVector Allocate()
    {
        lock (_sync)
        {
            uint data = _freeData.Count > 0 ? _freeData.Pop() : _nextData++;
            var vector = new MsiVector(MessageAddress, data, Release);
            _vectors.Add(data, vector);
            return vector;
        }
    }

    /// <summary>
    /// Delivers a device's write of (<paramref name="address"/>, <paramref name="data"/>) to the
    /// vector that owns it; false when no live vector does.
    /// </summary>
    public bool TryDeliver(ulong address, uint data)
    {
        MsiVector? vector;
        lock (_sync)
        {
            if (address != MessageAddress || !_vectors.TryGetValue(data, out vector))
            {
                return false;
            }
        }

        vector.Deliver();
        return true;
    }

    /// <summary>Disposes every vector still allocated, which ends their streams.</summary>
    public void Dispose()
    {
        MsiVector[] vectors;
        lock (_sync)
        {
            vectors = [.. _vectors.Values];
        }

        foreach (MsiVector vector in vectors)
        {
            vector.Dispose();
        }
    }

    private void Release(MsiVector vector)
    {
        lock (_sync)
        {
            if (_vectors.Remove(vector.Data))
            {
                _freeData.Push(vector.Data);
            }
        }
    }
}
