using System.Buffers.Binary;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// Round trips through a real device queue: the virtio-ism control queue served by the ISM
/// firmware, driven with the transport and shared memory region of this stack. The wire format is
/// the seed specification's (virtio-ism-device.txt, "Control Virtqueue"), written out here on its
/// own so the firmware is checked rather than agreed with.
/// </summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
[CancelAfter(30_000)]
public sealed class IsmControlQueueConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    // struct virtio_ism_ctrl { u8 class; u8 command; data...; u8 ack; reply... }
    private const byte ClassAlloc = 0;        // VIRTIO_ISM_CTRL_ALLOC / _ALLOC_REGION 0
    private const byte ClassQuery = 1;        // VIRTIO_ISM_CTRL_QUERY / _QUERY_INFO 0
    private const byte AckOk = 0;             // VIRTIO_ISM_OK
    private const byte AckNoEntry = 2;        // VIRTIO_ISM_ENOENT
    private const int DevMemFeature = 0;      // VIRTIO_ISM_F_DEV_MEM
    private const byte ShmIdRegions = 1;      // VIRTIO_ISM_SHM_ID_REGIONS

    private (Platform Platform, IReadOnlyList<PciAddress> Ism) _ism;
    private IReadOnlyList<PciFunction> _functions = [];

    [SetUp]
    public void CreateIsmPlatform()
    {
        (Platform Platform, IReadOnlyList<PciAddress> Ism)? ism = Target.CreateWithIsmFirmware();
        if (ism is null)
        {
            Assert.Ignore($"the {Kind} platform has no ISM firmware");
        }

        _ism = ism.Value;
        _functions = PciBus.Scan(_ism.Platform);
    }

    [TearDown]
    public async Task DisposeIsmPlatform()
    {
        if (_ism.Platform is not null)
        {
            await _ism.Platform.DisposeAsync();
        }
    }

    [Test]
    public async Task Query_OfATokenNobodyAllocated_AcksEnoent()
    {
        await using Session session = await Session.OpenAsync(_functions.Find(_ism.Ism[0]));

        byte[] reply = await session.CommandAsync(ClassQuery, 0, Le64(0xdead_beef_0000_0001), 16);

        Assert.That(reply[0], Is.EqualTo(AckNoEntry));
    }

    [Test]
    public async Task Alloc_GivesATokenAndClearedChunks_WhichTheRegionsAreaMapsReadWrite()
    {
        await using Session session = await Session.OpenAsync(_functions.Find(_ism.Ism[0]));
        VirtioSharedMemoryRegion regions = session.Transport.GetSharedMemoryRegion(ShmIdRegions);

        byte[] reply = await session.CommandAsync(ClassAlloc, 0, Le64(4096), 24);

        Assert.That(reply[0], Is.EqualTo(AckOk));
        ulong token = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1));
        ulong chunks = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(9));
        ulong chunk = BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(17));
        Assert.That(token, Is.Not.Zero);
        Assert.That(chunks, Is.EqualTo(1), "a region smaller than a chunk occupies one chunk");
        Assert.That(regions.Read64(chunk), Is.Zero, "the device clears a region before handing it over");

        regions.Write64(chunk + 8, 0x0102_0304_0506_0708);
        Assert.That(regions.Read64(chunk + 8), Is.EqualTo(0x0102_0304_0506_0708));

        byte[] query = await session.CommandAsync(ClassQuery, 0, Le64(token), 16);
        Assert.That(query[0], Is.EqualTo(AckOk));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(query.AsSpan(1)), Is.EqualTo(4096), "query reports the region's size");
    }

    [Test]
    public async Task Query_FromAnotherDeviceOfTheDomain_FindsTheRegion()
    {
        await using Session owner = await Session.OpenAsync(_functions.Find(_ism.Ism[0]));
        await using Session peer = await Session.OpenAsync(_functions.Find(_ism.Ism[1]));

        byte[] alloc = await owner.CommandAsync(ClassAlloc, 0, Le64(8192), 24);
        ulong token = BinaryPrimitives.ReadUInt64LittleEndian(alloc.AsSpan(1));
        byte[] query = await peer.CommandAsync(ClassQuery, 0, Le64(token), 16);

        Assert.That(query[0], Is.EqualTo(AckOk));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(query.AsSpan(1)), Is.EqualTo(8192));
    }

    private static byte[] Le64(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>One ISM function opened and initialized, its control queue served by interrupts.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        private Session(VirtioPciTransport transport, VirtioQueue control)
        {
            Transport = transport;
            Control = control;
        }

        public VirtioPciTransport Transport { get; }

        public VirtioQueue Control { get; }

        public static async Task<Session> OpenAsync(PciFunction function)
        {
            var transport = VirtioPciTransport.Open(function);
            await transport.InitializeAsync(VirtioFeatures.Bit(DevMemFeature), TestContext.CurrentContext.CancellationToken);
            VirtioQueue control = transport.SetupQueue(0);
            transport.SetupQueue(1);
            var session = new Session(transport, control);
            _ = transport.RunInterruptsAsync(session._stop.Token);
            transport.DriverOk();
            return session;
        }

        /// <summary>Sends class, command and data; returns the ack byte and <paramref name="replyBytes"/> of reply.</summary>
        public async Task<byte[]> CommandAsync(byte commandClass, byte command, byte[] data, int replyBytes)
        {
            byte[] request = [commandClass, command, .. data];
            byte[] reply = new byte[1 + replyBytes];
            UsedBuffer used = await Control.SubmitAsync([request], [reply], TestContext.CurrentContext.CancellationToken);
            Assert.That(used.Length, Is.GreaterThanOrEqualTo(1), "the device wrote at least the ack");
            return reply;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Transport.DisposeAsync();
            _stop.Dispose();
        }
    }
}
