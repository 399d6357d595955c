using System.Text.RegularExpressions;

namespace VirtioHw.Regc.Tests;

/// <summary>
/// Every file in Malformed/ is a broken description whose first line says the error expected:
/// <c>// expect: LINE:COLUMN: message</c>. regc must report exactly that place and message, as
/// one line, with exit code 1.
/// </summary>
public sealed partial class MalformedDescriptionTests
{
    private static string MalformedDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Malformed");

    public static IEnumerable<TestCaseData> Cases()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Malformed");
        foreach (string path in Directory.GetFiles(dir, "*.rdl").Order(StringComparer.Ordinal))
            yield return new TestCaseData(Path.GetFileName(path)).SetName($"Malformed_{Path.GetFileNameWithoutExtension(path)}_IsReportedWithItsPlace");
    }

    [TestCaseSource(nameof(Cases))]
    public void Malformed_IsReportedWithItsPlace(string fileName)
    {
        string path = Path.Combine(MalformedDir, fileName);
        Match expect = ExpectLine().Match(File.ReadLines(path).First());
        Assert.That(expect.Success, Is.True, $"{fileName} must start with '// expect: LINE:COL: message'");

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = RegcCommand.Run(["--check", path], stdout, stderr);

        string error = stderr.ToString().TrimEnd('\n');
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Not.Contain('\n'), "an error is one line");
            Assert.That(error, Does.StartWith($"{path}:{expect.Groups["place"].Value}: error: "));
            Assert.That(error, Does.Contain(expect.Groups["message"].Value));
            Assert.That(stdout.ToString(), Is.Empty);
        });
    }

    [Test]
    public void MalformedCorpus_HasAtLeastTwentyCases() =>
        Assert.That(Cases().Count(), Is.GreaterThanOrEqualTo(20));

    [GeneratedRegex(@"^// expect: (?<place>\d+:\d+): (?<message>.+)$")]
    private static partial Regex ExpectLine();
}
