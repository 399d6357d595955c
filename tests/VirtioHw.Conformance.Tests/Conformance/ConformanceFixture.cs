using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// The base of every conformance fixture: a fresh platform of the fixture's kind per test, its
/// expectations, and helpers to reach its devices through the host stack.
/// </summary>
public abstract class ConformanceFixture(PlatformKind kind)
{
    private readonly List<IAsyncDisposable> _owned = [];
    private PlatformUnderTest? _target;
    private Platform? _platform;

    public PlatformKind Kind { get; } = kind;

    /// <summary>Whether the devices answer queue requests (see <see cref="PlatformUnderTest.Create"/>).</summary>
    protected virtual bool EchoQueues => false;

    internal PlatformUnderTest Target => _target ?? throw new InvalidOperationException("no platform before SetUp");

    protected Platform Platform => _platform ?? throw new InvalidOperationException("no platform before SetUp");

    internal IEnumerable<ExpectedEndpoint> PciEndpoints => Target.Endpoints.Where(e => e.Address is not null);

    internal IEnumerable<ExpectedEndpoint> VirtioPciEndpoints => PciEndpoints.Where(e => e.Virtio is not null);

    internal IEnumerable<ExpectedEndpoint> MmioEndpoints => Target.Endpoints.Where(e => e.MmioBase is not null);

    /// <summary>Every virtio endpoint, PCI and MMIO.</summary>
    internal IEnumerable<ExpectedEndpoint> VirtioEndpoints => Target.Endpoints.Where(e => e.Virtio is not null);

    [SetUp]
    public void CreatePlatform()
    {
        _target = PlatformUnderTest.For(Kind);
        _platform = _target.Create(EchoQueues);
    }

    [TearDown]
    public async Task DisposePlatform()
    {
        if (Kind == PlatformKind.Cosim && TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            await TestContext.Out.WriteLineAsync(RerunWithTrace());
        }

        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _owned.Clear();
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }

    /// <summary>The command that runs the current co-simulated test again with a waveform of every instance.</summary>
    private static string RerunWithTrace()
    {
        TestContext.TestAdapter test = TestContext.CurrentContext.Test;
        string fixture = test.ClassName?[(test.ClassName.LastIndexOf('.') + 1)..] ?? "";
        return $"re-run with waveforms: {CosimPlatformUnderTest.TraceVariable}=/tmp/virtiohw-trace dotnet test tests/VirtioHw.Conformance.Tests "
            + $"--filter \"FullyQualifiedName~{fixture}&FullyQualifiedName~Cosim&Name~{test.MethodName}\"";
    }

    /// <summary>Enumerates and assigns, as a host does at boot.</summary>
    protected IReadOnlyList<PciFunction> Scan() => PciBus.Scan(Platform);

    /// <summary>Opens the transport of a virtio endpoint (PCI after a scan, or MMIO); disposed after the test.</summary>
    internal VirtioTransport Open(ExpectedEndpoint endpoint, IReadOnlyList<PciFunction>? functions = null)
    {
        VirtioTransport transport;
        if (endpoint.Address is { } address)
        {
            transport = VirtioPciTransport.Open((functions ?? Scan()).Find(address));
        }
        else
        {
            MmioDeviceWindow window = Platform.VirtioMmioDevices.Single(w => w.BaseAddress == endpoint.MmioBase);
            MsiVector? line = Target.ConnectMmioInterrupt(Platform, window);
            if (line is not null)
            {
                _owned.Add(new VectorOwner(line));
            }

            transport = VirtioMmioTransport.Open(Platform, window, line);
        }

        _owned.Add(transport);
        return transport;
    }

    private sealed class VectorOwner(MsiVector vector) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            vector.Dispose();
            return default;
        }
    }
}
