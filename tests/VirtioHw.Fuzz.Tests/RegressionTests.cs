using VirtioHw.Fuzz;
using VirtioHw.Fuzz.Targets;

namespace VirtioHw.Fuzz.Tests;

/// <summary>Every kept failing input (<c>Regressions/TARGET/HASH.bin</c>) replayed against its target: each property holds now.</summary>
public sealed class RegressionTests
{
    private static string Folder => Path.Combine(TestContext.CurrentContext.TestDirectory, "Regressions");

    public static IEnumerable<TestCaseData> KeptInputs()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Regressions");
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        foreach (string file in Directory.EnumerateFiles(folder, "*.bin", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string target = Path.GetFileName(Path.GetDirectoryName(file)!);
            yield return new TestCaseData(target, Path.GetRelativePath(folder, file)).SetName($"Replay({target}/{Path.GetFileName(file)})");
        }
    }

    [Test]
    public void KeptInputs_AreThere() => Assert.That(KeptInputs(), Is.Not.Empty, "the kept inputs were not copied next to the tests");

    [TestCaseSource(nameof(KeptInputs))]
    public void Replay(string targetName, string file)
    {
        FuzzTarget? target = TargetCatalog.Create(targetName);
        Assert.That(target, Is.Not.Null, $"{file}: no target '{targetName}'");
        try
        {
            if (target!.Unavailable is { } reason)
            {
                Assert.Ignore($"{targetName}: {reason}");
            }

            Outcome? outcome = Outcome.Of(target!, File.ReadAllBytes(Path.Combine(Folder, file)));
            Assert.That(outcome?.Message, Is.Null, file);
        }
        finally
        {
            (target as IDisposable)?.Dispose();
        }
    }
}
