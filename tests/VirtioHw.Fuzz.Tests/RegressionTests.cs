using VirtioHw.Fuzz;
using VirtioHw.Fuzz.Targets;

namespace VirtioHw.Fuzz.Tests;

/// <summary>
/// Every kept input replayed against its target: the failing inputs fuzzing found
/// (<c>Regressions/TARGET/HASH.bin</c>) and the inputs that reached new coverage under AFL++
/// (<c>Corpus/TARGET/HASH.bin</c>, from <c>make fuzz-afl</c>); each property holds on every one.
/// </summary>
public sealed class RegressionTests
{
    private static readonly string[] Folders = ["Regressions", "Corpus"];

    /// <summary>The targets whose coverage-guided corpus is kept.</summary>
    private static readonly string[] CorpusTargets = ["rdl", "bit", "ihex", "sfdp", "board", "endpoint", "domain", "ivshmem"];

    private static string Folder => TestContext.CurrentContext.TestDirectory;

    public static IEnumerable<TestCaseData> KeptInputs()
    {
        foreach (string kind in Folders)
        {
            string folder = Path.Combine(AppContext.BaseDirectory, kind);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(folder, "*.bin", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string target = Path.GetFileName(Path.GetDirectoryName(file)!);
                yield return new TestCaseData(target, Path.GetRelativePath(AppContext.BaseDirectory, file)).SetName($"Replay({kind}/{target}/{Path.GetFileName(file)})");
            }
        }
    }

    [Test]
    public void KeptInputs_AreThere() => Assert.That(KeptInputs(), Is.Not.Empty, "the kept inputs were not copied next to the tests");

    [TestCaseSource(nameof(CorpusTargets))]
    public void Corpus_IsKeptForTarget(string target) =>
        Assert.That(Directory.EnumerateFiles(Path.Combine(Folder, "Corpus", target), "*.bin"), Is.Not.Empty, $"no corpus of {target} next to the tests");

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
