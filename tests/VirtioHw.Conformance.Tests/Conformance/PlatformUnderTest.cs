using VirtioHw.Host.Platforms;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// How the fixtures get a platform of one kind and what its devices are expected to be. Each kind
/// derives its expectations from the same descriptions its devices are built from.
/// </summary>
internal abstract class PlatformUnderTest
{
    /// <summary>Every device, PCI functions first, then virtio-mmio devices.</summary>
    public abstract IReadOnlyList<ExpectedEndpoint> Endpoints { get; }

    /// <summary>
    /// Builds a fresh platform. With <paramref name="echoQueues"/> every virtio queue answers a
    /// request with its bytes reversed (<see cref="Fakes.EchoRing.Reply"/>), through the device's
    /// real queue hardware, so round trips can be checked on any platform.
    /// </summary>
    public abstract Platform Create(bool echoQueues);

    /// <summary>
    /// A platform whose virtio-ism functions run the real ISM firmware (the control plane), and
    /// where they are; null when this kind of platform has none.
    /// </summary>
    public virtual (Platform Platform, IReadOnlyList<PciAddress> IsmFunctions)? CreateWithIsmFirmware() => null;

    /// <summary>The interrupt of a virtio-mmio device as a vector, or null when the platform offers none (then the transport polls).</summary>
    public virtual MsiVector? ConnectMmioInterrupt(Platform platform, MmioDeviceWindow window) => null;

    /// <summary>Functions the platform has of its own (a chipset), present but not under test.</summary>
    public virtual IReadOnlyList<PciAddress> PlatformFunctions => [];

    /// <summary>
    /// Null when the devices refuse FEATURES_OK for a feature set they cannot take (unoffered bits,
    /// no VIRTIO_F_VERSION_1), as this kit's devices do; otherwise why they do not (the
    /// specification lets a device accept and mask).
    /// </summary>
    public virtual string? AcceptsAnyFeatureSet => null;

    public static PlatformUnderTest For(PlatformKind kind) => kind switch
    {
        PlatformKind.Fake => new FakePlatformUnderTest(),
        PlatformKind.Model => new ModelPlatformUnderTest(),
        PlatformKind.Cosim => new CosimPlatformUnderTest(),
        PlatformKind.Qemu => new QemuPlatformUnderTest(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such platform"),
    };
}
