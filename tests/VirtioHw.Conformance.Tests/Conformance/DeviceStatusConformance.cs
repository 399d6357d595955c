using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// Device initialization on every virtio device, on both transports: reset, the status sequence,
/// feature negotiation and the device's side of its failure paths.
/// </summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
[TestFixture(PlatformKind.Qemu)]
public sealed class DeviceStatusConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    private static readonly ulong Version1 = VirtioFeatures.Bit(VirtioFeatures.Version1);

    [Test]
    public async Task Device_OffersVersion1_AndTheDescribedFeatures()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.ResetAsync();

            Assert.That(transport.ReadDeviceFeatures(), Is.EqualTo(e.Virtio!.DeviceFeatures), e.ToString());
        }
    }

    [Test]
    public async Task StatusSequence_AcknowledgeDriverFeaturesOkDriverOk_IsKeptByTheDevice()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);

            ulong negotiated = await transport.InitializeAsync(e.Virtio!.DeviceFeatures);
            transport.DriverOk();

            Assert.That(negotiated & Version1, Is.EqualTo(Version1), e.ToString());
            Assert.That(transport.ReadStatus(), Is.EqualTo(VirtioStatus.Acknowledge | VirtioStatus.Driver | VirtioStatus.FeaturesOk | VirtioStatus.DriverOk), e.ToString());
        }
    }

    [Test]
    public async Task Reset_ReturnsTheStatusToZero()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.InitializeAsync(0);
            transport.DriverOk();

            await transport.ResetAsync();

            Assert.That(transport.ReadStatus(), Is.EqualTo(VirtioStatus.Reset), e.ToString());
        }
    }

    [Test]
    public async Task FeaturesOk_WithAFeatureTheDeviceDidNotOffer_DoesNotStick()
    {
        if (Target.AcceptsAnyFeatureSet is { } why)
        {
            Assert.Ignore(why);
        }

        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.ResetAsync();
            transport.AddStatus(VirtioStatus.Acknowledge | VirtioStatus.Driver);
            ulong unoffered = FirstBitNotIn(e.Virtio!.DeviceFeatures);

            transport.WriteDriverFeatures(Version1 | unoffered);
            transport.AddStatus(VirtioStatus.FeaturesOk);

            Assert.That(transport.ReadStatus() & VirtioStatus.FeaturesOk, Is.EqualTo(VirtioStatus.Reset), e.ToString());
        }
    }

    [Test]
    public async Task FeaturesOk_WithoutVersion1_DoesNotStick()
    {
        if (Target.AcceptsAnyFeatureSet is { } why)
        {
            Assert.Ignore(why);
        }

        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.ResetAsync();
            transport.AddStatus(VirtioStatus.Acknowledge | VirtioStatus.Driver);

            transport.WriteDriverFeatures(e.Virtio!.DeviceFeatures & ~Version1);
            transport.AddStatus(VirtioStatus.FeaturesOk);

            Assert.That(transport.ReadStatus() & VirtioStatus.FeaturesOk, Is.EqualTo(VirtioStatus.Reset), e.ToString());
        }
    }

    [Test]
    public async Task Failed_IsKeptUntilTheNextReset()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints)
        {
            VirtioTransport transport = Open(e);
            await transport.ResetAsync();
            transport.AddStatus(VirtioStatus.Acknowledge);

            transport.Fail();

            Assert.That(transport.ReadStatus() & VirtioStatus.Failed, Is.EqualTo(VirtioStatus.Failed), e.ToString());
            Assert.That(transport.ThrowIfUnhealthy, Throws.TypeOf<VirtioException>().With.Message.Contains("FAILED"), e.ToString());
            await transport.ResetAsync();
            Assert.That(transport.ReadStatus(), Is.EqualTo(VirtioStatus.Reset), e.ToString());
        }
    }

    [Test]
    public async Task DeviceConfiguration_ReadsConsistently()
    {
        foreach (ExpectedEndpoint e in VirtioEndpoints.Where(e => e.Virtio!.Device is not null || e.MmioBase is not null))
        {
            VirtioTransport transport = Open(e);
            int length = transport.DeviceConfigLength < 0 ? 16 : Math.Min(transport.DeviceConfigLength, 64);
            byte[] first = new byte[length];
            byte[] second = new byte[length];

            uint generation = transport.ConfigGeneration;
            transport.ReadDeviceConfig(0, first);
            transport.ReadDeviceConfig(0, second);

            Assert.That(second, Is.EqualTo(first), $"{e}: the configuration holds still while nothing changes it");
            Assert.That(transport.ConfigGeneration, Is.EqualTo(generation), $"{e}: reading does not move the generation");
        }
    }

    private static ulong FirstBitNotIn(ulong offered)
    {
        // A device-type bit the device does not offer: the device must refuse it.
        for (int bit = 0; bit < 24; bit++)
        {
            if ((offered & (1UL << bit)) == 0)
            {
                return 1UL << bit;
            }
        }

        throw new InvalidOperationException("the device offers every device-type feature bit");
    }
}
