using VirtioHw.Fuzz;
using VirtioHw.Fuzz.Targets;

namespace VirtioHw.Fuzz.Tests;

/// <summary>
/// A short seeded run of every target, so the ordinary test run fuzzes a little too. The budget
/// is a count of executions (capped in time so a slow machine stays quick); the long runs are
/// <c>make fuzz</c>.
/// </summary>
[CancelAfter(120_000)]
public sealed class ShortRunTests
{
    private static readonly Dictionary<string, long> Executions = new()
    {
        ["rdl"] = 400,
        ["bit"] = 400,
        ["ihex"] = 400,
        ["sfdp"] = 400,
        ["board"] = 300,
        ["endpoint"] = 200,
        ["virtqueue"] = 300,
        ["mmio"] = 40,
        ["mmio-rtl"] = 6,
        ["cosim-stall"] = 3,
        ["ism"] = 20,
        ["ivshmem"] = 15,
        ["domain"] = 15,
    };

    public static IEnumerable<string> Targets => TargetCatalog.Names;

    [Test]
    public void EveryTarget_HasAShortRunBudget() => Assert.That(Executions.Keys, Is.EquivalentTo(TargetCatalog.Names));

    [TestCaseSource(nameof(Targets))]
    public void ShortSeededRun_FindsNoFailure(string name)
    {
        FuzzTarget target = TargetCatalog.Create(name)!;
        try
        {
            FuzzResult result = Fuzzer.Run(target, new FuzzSettings
            {
                Seed = 20261121,
                Duration = TimeSpan.FromSeconds(5),
                MaxExecutions = Executions.GetValueOrDefault(name, 50),
            });

            if (result.Skipped is { } reason)
            {
                Assert.Ignore($"{name}: {reason}");
            }

            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.Executions, Is.GreaterThan(0));
                Assert.That(result.Failures.Select(f => $"{f.Message} (input {Convert.ToHexString(f.Input)})"), Is.Empty);
            }
        }
        finally
        {
            (target as IDisposable)?.Dispose();
        }
    }
}
