using VirtioHw.Fuzz.Targets;

namespace VirtioHw.Fuzz.Tests;

/// <summary>
/// The mmio-rtl target does compare something: a few seeded executions place every RTL endpoint
/// this build has, compare thousands of accesses, and see MSI messages arrive on both sides.
/// </summary>
[CancelAfter(300_000)]
public sealed class RtlLockstepTests
{
    [Test]
    public void ShortRun_PlacesEveryRtlEndpoint_AndComparesAccessesAndMessages()
    {
        var target = new RtlLockstepTarget();
        if (target.Unavailable is { } reason)
        {
            Assert.Ignore($"mmio-rtl: {reason}");
        }

        FuzzResult result = Fuzzer.Run(target, new FuzzSettings { Seed = 7, Duration = TimeSpan.FromSeconds(60), MaxExecutions = 12 });

        TestContext.Out.WriteLine($"{result.Executions} executions, {target.AccessesCompared} accesses and {target.MessagesCompared} MSI messages compared on {string.Join(", ", target.PciEndpoints.Select(p => $"{p.Description.Name}@{p.Address}"))}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Failures.Select(f => f.Message), Is.Empty);
            Assert.That(target.PciEndpoints.Select(p => p.Description.Name), Is.SupersetOf(new[] { "virtio-ism", "virtio-dmabuf" }), "the endpoints with an RTL top");
            Assert.That(target.AccessesCompared, Is.GreaterThan(1000));
            Assert.That(target.MessagesCompared, Is.GreaterThan(0));
        }
    }
}
