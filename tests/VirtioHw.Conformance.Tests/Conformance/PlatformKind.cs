namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>The platforms the conformance fixtures run on.</summary>
public enum PlatformKind
{
    /// <summary>The fakes of this project, laid out like the model's default endpoints.</summary>
    Fake,

    /// <summary>The C# hardware model (hw/model) with its firmware.</summary>
    Model,

    /// <summary>The RTL endpoints in co-simulation (cosim/VirtioHw.Platforms.Cosim), laid out like the model's default endpoints.</summary>
    Cosim,

    /// <summary>A real QEMU 7.2 (hostsw/VirtioHw.Platforms.Qemu) with devices nobody on this team wrote.</summary>
    Qemu,
}
