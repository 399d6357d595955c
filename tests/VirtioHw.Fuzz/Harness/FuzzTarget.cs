namespace VirtioHw.Fuzz;

/// <summary>
/// One thing to fuzz. An input is a byte array: a file's bytes, or the choices a target reads with
/// <see cref="FuzzInput"/>; the same bytes always make the same execution, so a failing input can
/// be minimised, kept, and replayed by a regression test.
/// </summary>
public abstract class FuzzTarget
{
    private long _faults;

    /// <summary>The name <c>--target</c> takes.</summary>
    public abstract string Name { get; }

    /// <summary>One line: what is fed in and what must hold.</summary>
    public abstract string Description { get; }

    /// <summary>How long one execution may run before it counts as a hang.</summary>
    public virtual TimeSpan HangTimeout => TimeSpan.FromSeconds(20);

    /// <summary>
    /// Why this target cannot run here (a co-simulation library not built, say), in one sentence;
    /// null when it can. A target that cannot run is reported as skipped, never as passed.
    /// </summary>
    public virtual string? Unavailable => null;

    /// <summary>Faults injected so far (connections cut, peers gone, responses withheld).</summary>
    public long FaultsInjected => Interlocked.Read(ref _faults);

    /// <summary>A new input: a mutated seed, or random choices.</summary>
    public abstract byte[] Generate(Random random);

    /// <summary>
    /// The inputs coverage-guided fuzzing starts from (<c>--starters</c>): <paramref name="count"/>
    /// generated ones; a file format's targets put its real files first.
    /// </summary>
    public virtual IEnumerable<byte[]> Starters(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => Generate(random));

    /// <summary>Runs one input. Throws <see cref="FuzzFailure"/> when a property fails; any other exception escaping is a failure too.</summary>
    public abstract void Execute(byte[] input);

    protected void CountFault() => Interlocked.Increment(ref _faults);
}

/// <summary>A property of a target that an input broke.</summary>
public sealed class FuzzFailure : Exception
{
    public FuzzFailure(string message) : base(message) { }

    public FuzzFailure() : this("property failed") { }

    public FuzzFailure(string message, Exception inner) : base(message, inner) { }

    /// <summary>Throws when <paramref name="holds"/> is false.</summary>
    public static void Check(bool holds, string what)
    {
        if (!holds)
        {
            throw new FuzzFailure(what);
        }
    }
}
