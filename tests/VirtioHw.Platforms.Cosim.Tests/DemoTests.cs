using VirtioHw.Model;
using VirtioHw.Personalities.Model;
using VirtioHw.Platforms.Cosim.Personalities;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>The steps of <c>virtiohw demo</c> on RTL endpoints, in process and through the real executable.</summary>
[CancelAfter(120_000)]
public sealed class DemoTests
{
    private static void RequireRtl(string personality)
    {
        if (!CosimPlatform.HasRtl(EndpointDescriptions.LoadBuiltin(personality), mmio: false))
        {
            Assert.Ignore($"this build's RTL has no endpoint top for {personality} yet");
        }
    }

    [Test]
    public async Task IsmDemo_OnRtl_BReadsWhatAWrote(CancellationToken cancellationToken)
    {
        var transcript = new StringWriter();
        int code = await Rtl.BuildAsync(() => CosimDemo.RunIsmAsync(transcript, cancellationToken: cancellationToken));
        Assert.That(code, Is.Zero, transcript.ToString());
        Assert.That(transcript.ToString(), Does.Contain($"B read \"{IsmDemo.Message}\""));
    }

    [Test]
    public async Task IvshmemDemo_OnRtl_PingAndPongArrive(CancellationToken cancellationToken)
    {
        RequireRtl("ivshmem");
        var transcript = new StringWriter();
        int code = await Rtl.BuildAsync(() => CosimDemo.RunIvshmemAsync(transcript, cancellationToken: cancellationToken));
        Assert.That(code, Is.Zero, transcript.ToString());
        Assert.That(transcript.ToString(), Does.Contain($"read \"{IvshmemDemo.Pong}\""));
    }

    [Test]
    public async Task DmabufDemo_OnRtl_ExportsAndReleases(CancellationToken cancellationToken)
    {
        RequireRtl("virtio-dmabuf");
        var transcript = new StringWriter();
        int code = await Rtl.BuildAsync(() => CosimDemo.RunDmabufAsync(transcript, cancellationToken: cancellationToken));
        Assert.That(code, Is.Zero, transcript.ToString());
        Assert.That(transcript.ToString(), Does.Contain("driver got DMABUF_REL"));
    }
}
