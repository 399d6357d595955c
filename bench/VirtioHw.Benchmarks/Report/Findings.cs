namespace VirtioHw.Benchmarks.Report;

/// <summary>
/// Why a figure is missing or a target was missed: what was found when it was looked into. The report
/// prints the reason next to the verdict; a reason here never changes a figure or a verdict.
/// </summary>
public static class Findings
{
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
    };

    public static string Reason(string key) => Reasons.TryGetValue(key, out string? reason) ? reason : "not yet investigated";
}
