using VirtioHw.Cosim;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// The RTL endpoints in co-simulation (<see cref="CosimPlatform"/>), laid out as the model's
/// default endpoints and expected to be what the same descriptions say. Tests are ignored, with
/// the reason, when the co-simulation libraries are not built. With <see cref="TraceVariable"/>
/// set to a folder, every instance writes an FST waveform there, named after the test.
/// </summary>
internal sealed class CosimPlatformUnderTest : PlatformUnderTest
{
    /// <summary>Environment variable naming the folder for waveforms of co-simulated tests.</summary>
    public const string TraceVariable = "VIRTIOHW_TRACE";

    // The model's default layout, of the personalities whose RTL top this build has: the suite
    // grows with the RTL, and what it leaves out is named in the test output.
    private static readonly CosimPlatformSettings Settings = CosimPlatformSettings.Default with
    {
        PciEndpoints = [.. CosimPlatformSettings.Default.PciEndpoints.Where(p => CosimPlatform.HasRtl(p.Description, mmio: false))],
        MmioDevices = [.. CosimPlatformSettings.Default.MmioDevices.Where(d => CosimPlatform.HasRtl(d, mmio: true))],
    };

    /// <summary>The default endpoints this build's RTL cannot place, for the test output.</summary>
    public static string LeftOut { get; } = string.Join(", ",
        CosimPlatformSettings.Default.PciEndpoints.Where(p => !CosimPlatform.HasRtl(p.Description, mmio: false)).Select(p => $"{p.Description.Name}@{p.Address}")
            .Concat(CosimPlatformSettings.Default.MmioDevices.Where(d => !CosimPlatform.HasRtl(d, mmio: true)).Select(d => $"{d.Name} behind virtio-mmio")));

    public override IReadOnlyList<ExpectedEndpoint> Endpoints { get; } =
    [
        .. Settings.PciEndpoints.Select(p => ModelPlatformUnderTest.Expect(p.Description, p.Address)),
        .. Settings.MmioDevices.Select(d => ModelPlatformUnderTest.Expect(d, null)),
    ];

    public override Platform Create(bool echoQueues)
    {
        if (LeftOut.Length > 0)
        {
            TestContext.Out.WriteLine($"co-simulation: no RTL top yet for {LeftOut}; the fixture runs on the other endpoints");
        }

        return CreatePlatform(echoQueues);
    }

    private static CosimPlatform CreatePlatform(bool echoQueues) => Build(() => new CosimPlatform(Settings with
    {
        Firmware = echoQueues ? endpoint => EchoFirmware.Create(endpoint.Description, endpoint.Hal) ?? CosimFirmware.Create(endpoint) : CosimFirmware.Create,
        Trace = TracePath(""),
    }));

    public override MsiVector? ConnectMmioInterrupt(Platform platform, MmioDeviceWindow window) =>
        ((CosimPlatform)platform).ConnectMmioInterrupt(window);

    public override (Platform Platform, IReadOnlyList<PciAddress> IsmFunctions)? CreateWithIsmFirmware()
    {
        // The domain memory is freed by its finalizer once the platform that holds it is gone.
        var domain = new CosimIsmDomain(devices: 2);
        return (Build(() => new CosimPlatform(domain.PlatformSettings(TracePath("-ism")))), domain.Addresses);
    }

    /// <summary>The waveform file of the running test (with <paramref name="suffix"/>), or null when tracing is off.</summary>
    private static string? TracePath(string suffix)
    {
        string? folder = Environment.GetEnvironmentVariable(TraceVariable);
        if (string.IsNullOrEmpty(folder))
        {
            return null;
        }

        Directory.CreateDirectory(folder);
        string test = string.Concat(TestContext.CurrentContext.Test.Name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_'));
        return Path.Combine(folder, $"{test}{suffix}.fst");
    }

    private static CosimPlatform Build(Func<CosimPlatform> create)
    {
        try
        {
            return create();
        }
        catch (CosimLibraryException e)
        {
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }
    }
}
