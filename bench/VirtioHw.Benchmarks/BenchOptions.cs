namespace VirtioHw.Benchmarks;

/// <summary>What every benchmark command takes: quick or full, and where results go.</summary>
public sealed class BenchOptions
{
    /// <summary>The smaller runs of <c>make bench-quick</c>.</summary>
    public bool Quick { get; init; }

    /// <summary>The folder of result files (<see cref="ResultFile"/>).</summary>
    public required string Results { get; init; }

    /// <summary>BenchmarkDotNet's artifacts folder.</summary>
    public required string Artifacts { get; init; }
}
