using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using IvshmemRegs = VirtioHw.Registers.Ivshmem;

namespace VirtioHw.Drivers.Ivshmem;

/// <summary>
/// The driver of an ivshmem function: its IVPosition, the doorbell to other peers, the shared
/// memory in BAR2, and its MSI-X vectors, each connected to a platform <see cref="MsiVector"/>.
/// </summary>
public sealed class IvshmemDevice : IDisposable
{
    /// <summary>PCI ids of ivshmem.</summary>
    public const ushort VendorId = 0x1af4;
    public const ushort DeviceId = 0x1110;

    private readonly ulong _registers;
    private readonly MsiVector[] _vectors;

    private IvshmemDevice(PciFunction function, ulong registers, ulong memory, ulong memoryLength, MsiVector[] vectors)
    {
        Function = function;
        _registers = registers;
        MemoryAddress = memory;
        MemoryLength = memoryLength;
        _vectors = vectors;
    }

    public PciFunction Function { get; }

    public Platform Platform => Function.Platform;

    /// <summary>This peer's id in the group.</summary>
    public ushort Position => (ushort)Platform.Read32(_registers + IvshmemRegs.IvPosition.Offset);

    /// <summary>Where the shared memory (BAR2) is.</summary>
    public ulong MemoryAddress { get; }

    public ulong MemoryLength { get; }

    /// <summary>How many interrupt vectors the device has, each with its <see cref="Vector"/>.</summary>
    public int VectorCount => _vectors.Length;

    /// <summary>
    /// Opens an enumerated, assigned ivshmem function: BAR0 registers, BAR2 memory, and every MSI-X
    /// entry connected to a new platform vector, then MSI-X enabled.
    /// </summary>
    /// <exception cref="ArgumentException">The function is not ivshmem, or its BARs were not assigned.</exception>
    public static IvshmemDevice Open(PciFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.VendorId != VendorId || function.DeviceId != DeviceId)
        {
            throw new ArgumentException($"{function.Address} is {function.VendorId:x4}:{function.DeviceId:x4}, not ivshmem ({VendorId:x4}:{DeviceId:x4})", nameof(function));
        }

        PciBar registers = function.GetBar(0) is { Address: not 0 } r ? r : throw new ArgumentException($"{function.Address}: BAR0 is not assigned", nameof(function));
        PciBar memory = function.GetBar(2) is { Address: not 0 } m ? m : throw new ArgumentException($"{function.Address}: BAR2 is not assigned", nameof(function));
        PciMsix msix = function.OpenMsix();
        var vectors = new MsiVector[msix.TableSize];
        for (int entry = 0; entry < vectors.Length; entry++)
        {
            vectors[entry] = function.Platform.AllocateMsiVector();
            msix.Connect(entry, vectors[entry]);
        }

        msix.Enabled = true;
        return new IvshmemDevice(function, registers.Address, memory.Address, memory.Size, vectors);
    }

    /// <summary>The interrupt stream of vector <paramref name="vector"/>.</summary>
    public MsiVector Vector(int vector) => _vectors[vector];

    /// <summary>Join notifications: MSI-X vector 0 fires whenever another peer joins the shared memory.</summary>
    public MsiVector Joins => _vectors[(int)IvshmemRegs.IvshmemVector.PeerJoined];

    /// <summary>Rings <paramref name="vector"/> of peer <paramref name="peer"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="vector"/> is 0: with MSI-X it announces joins, and "guests should not use vector 0 for any other purpose".
    /// </exception>
    public void Ring(ushort peer, ushort vector)
    {
        if (vector == (ushort)IvshmemRegs.IvshmemVector.PeerJoined)
        {
            throw new ArgumentOutOfRangeException(nameof(vector), vector, "vector 0 announces joins; doorbells use vectors 1 and up");
        }

        Platform.Write32(_registers + IvshmemRegs.Doorbell.Offset, ((uint)peer << IvshmemRegs.Doorbell.Peer.Shift) | vector);
    }

    /// <summary>Copies shared memory out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the shared memory.</exception>
    public void Read(ulong offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        Platform.ReadMemory(MemoryAddress + offset, destination);
    }

    /// <summary>Copies into shared memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the shared memory.</exception>
    public void Write(ulong offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        Platform.WriteMemory(MemoryAddress + offset, source);
    }

    /// <summary>Releases the vectors (MSI-X stays as programmed).</summary>
    public void Dispose()
    {
        foreach (MsiVector vector in _vectors)
        {
            vector.Dispose();
        }
    }

    private void CheckRange(ulong offset, int length)
    {
        if (offset > MemoryLength || (ulong)length > MemoryLength - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} run past the {MemoryLength} bytes of shared memory");
        }
    }
}
