using Spectre.Console;

namespace VirtioHw.Flash;

/// <summary>Runs a piece of work with a progress display around it.</summary>
public interface IProgressHost
{
    T Run<T>(Func<IFlashProgress, T> body);
}

/// <summary>Progress for a person: Spectre.Console bars on a terminal, plain lines when output is redirected.</summary>
public sealed class ConsoleProgressHost : IProgressHost
{
    private readonly TextWriter _plain;
    private readonly bool _interactive;

    /// <param name="plain">Where plain lines go when the output is not a terminal.</param>
    /// <param name="interactive">Whether to draw bars (normally <c>!Console.IsOutputRedirected</c>).</param>
    public ConsoleProgressHost(TextWriter plain, bool interactive)
    {
        _plain = plain;
        _interactive = interactive;
    }

    public T Run<T>(Func<IFlashProgress, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!_interactive)
        {
            return body(new PlainFlashProgress(_plain, TimeProvider.System));
        }

        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .Start(context => result = body(new SpectreFlashProgress(context)));
        return result;
    }

    /// <summary>One Spectre task per phase; the speed and remaining-time columns give bytes/s and ETA.</summary>
    private sealed class SpectreFlashProgress(ProgressContext context) : IFlashProgress
    {
        private ProgressTask? _task;

        public void Begin(FlashPhase phase, long totalBytes) =>
            _task = context.AddTask(phase.ToString().ToLowerInvariant(), maxValue: Math.Max(1, totalBytes));

        public void Advance(long bytes) => _task?.Increment(bytes);

        public void End()
        {
            if (_task is not null)
            {
                _task.Value = _task.MaxValue;
                _task.StopTask();
                _task = null;
            }
        }
    }
}

/// <summary>
/// Progress as plain lines for logs and pipes: one line per phase when it ends, and a line with
/// rate and ETA every few seconds while a long phase runs.
/// </summary>
public sealed class PlainFlashProgress : IFlashProgress
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private FlashPhase _phase;
    private long _total;
    private long _done;
    private long _start;
    private long _lastLine;
    private bool _active;

    public PlainFlashProgress(TextWriter output, TimeProvider time)
    {
        _output = output;
        _time = time;
    }

    public void Begin(FlashPhase phase, long totalBytes)
    {
        _phase = phase;
        _total = totalBytes;
        _done = 0;
        _start = _time.GetTimestamp();
        _lastLine = _start;
        _active = true;
    }

    public void Advance(long bytes)
    {
        if (!_active)
        {
            return;
        }

        _done += bytes;
        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_lastLine, now) >= LineInterval && _done < _total)
        {
            _lastLine = now;
            double seconds = _time.GetElapsedTime(_start, now).TotalSeconds;
            double rate = seconds > 0 ? _done / seconds : 0;
            string eta = rate > 0 ? $", about {(_total - _done) / rate:0} s left" : "";
            _output.WriteLine($"{Name} {100.0 * _done / Math.Max(1, _total):0}% ({Units.Rate(rate)}{eta})");
        }
    }

    public void End()
    {
        if (!_active)
        {
            return;
        }

        _active = false;
        double seconds = _time.GetElapsedTime(_start).TotalSeconds;
        string rate = seconds > 0 ? $", {Units.Rate(_done / seconds)}" : "";
        _output.WriteLine($"{Name} {_done} bytes in {seconds:0.00} s{rate}");
    }

    private string Name => _phase.ToString().ToLowerInvariant().PadRight(7);
}

/// <summary>Runs work without showing progress (tests, scripting through the library).</summary>
public sealed class SilentProgressHost : IProgressHost
{
    public static SilentProgressHost Instance { get; } = new();

    public T Run<T>(Func<IFlashProgress, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return body(NullFlashProgress.Instance);
    }
}
