using VirtioHw.Personalities.Model;

namespace VirtioHw.Personalities.Tests;

public sealed class DemoTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Demo_BReadsWhatAWroteThroughItsOwnWindow_AndExitsZero(CancellationToken cancellationToken)
    {
        using var transcript = new StringWriter();

        int exitCode = await IsmDemo.RunAsync(transcript, cancellationToken);

        string text = transcript.ToString();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, text);
            Assert.That(text, Does.Contain($"B read \"{IsmDemo.Message}\""));
            Assert.That(text, Does.Contain("UPDATE of the region"));
            Assert.That(text, Does.Contain("DETACH of the region"));
            Assert.That(text, Does.Contain("0 regions left"));
        }
    }
}
