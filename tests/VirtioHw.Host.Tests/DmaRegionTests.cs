using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

/// <summary>
/// The little-endian helpers, once as <see cref="DmaRegion"/>'s defaults (over a region that only
/// implements Read and Write) and once as <see cref="HostDmaRegion"/>'s own.
/// </summary>
[TestFixture(typeof(ArrayDmaRegion))]
[TestFixture(typeof(HostDmaRegion))]
public class DmaRegionTests(Type kind)
{
    private DmaRegion _region = null!;

    [SetUp]
    public void SetUp() => _region = kind == typeof(HostDmaRegion)
        ? new HostDmaRegion(0x8000, 64)
        : new ArrayDmaRegion(0x8000, 64);

    [TearDown]
    public void TearDown() => _region.Dispose();

    [Test]
    public void Helpers_StoreLittleEndian()
    {
        _region.WriteUInt16(0, 0x0201);
        _region.WriteUInt32(2, 0x0605_0403);
        _region.WriteUInt64(6, 0x0e0d_0c0b_0a09_0807);
        byte[] bytes = new byte[14];
        _region.Read(0, bytes);

        Assert.That(bytes, Is.EqualTo(Enumerable.Range(1, 14).Select(i => (byte)i).ToArray()));
    }

    [Test]
    public void Helpers_LoadLittleEndian()
    {
        _region.Write(16, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);

        Assert.Multiple(() =>
        {
            Assert.That(_region.ReadUInt16(16), Is.EqualTo(0x0201));
            Assert.That(_region.ReadUInt32(16), Is.EqualTo(0x0403_0201));
            Assert.That(_region.ReadUInt64(16), Is.EqualTo(0x0807_0605_0403_0201));
        });
    }

    [Test]
    public void Clear_ZeroesOnlyTheRange()
    {
        _region.Write(0, Enumerable.Repeat((byte)0xaa, 64).ToArray());
        _region.Clear(8, 40);
        byte[] bytes = new byte[64];
        _region.Read(0, bytes);

        Assert.Multiple(() =>
        {
            Assert.That(bytes[..8], Is.All.EqualTo(0xaa));
            Assert.That(bytes[8..48], Is.All.Zero);
            Assert.That(bytes[48..], Is.All.EqualTo(0xaa));
        });
    }

    [TestCase(60, 8)]
    [TestCase(-1, 1)]
    [TestCase(65, 0)]
    public void Access_OutsideTheRegion_ThrowsArgumentOutOfRange(int offset, int length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _region.Read(offset, new byte[length]));
    }

    [Test]
    public void TryGetSpan_OnlyHostMemoryHasOne()
    {
        bool has = _region.TryGetSpan(out Span<byte> span);
        bool expected = kind == typeof(HostDmaRegion);
        int length = span.Length;

        Assert.That((has, length), Is.EqualTo((expected, expected ? 64 : 0)));
    }

    [Test]
    public void Access_AfterDispose_ThrowsObjectDisposed()
    {
        _region.Dispose();

        Assert.Throws<ObjectDisposedException>(() => _region.ReadUInt16(0));
    }

    /// <summary>A region that implements only the abstract core, so the defaults are what runs.</summary>
    internal sealed class ArrayDmaRegion(ulong busAddress, int length) : DmaRegion(busAddress, length)
    {
        private readonly byte[] _bytes = new byte[length];

        public override void Read(int offset, Span<byte> destination)
        {
            CheckRange(offset, destination.Length);
            _bytes.AsSpan(offset, destination.Length).CopyTo(destination);
        }

        public override void Write(int offset, ReadOnlySpan<byte> source)
        {
            CheckRange(offset, source.Length);
            source.CopyTo(_bytes.AsSpan(offset));
        }
    }
}
