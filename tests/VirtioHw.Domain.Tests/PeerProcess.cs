using System.Diagnostics;
using System.Threading.Channels;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// A <c>virtiohw</c> process built next to the tests (a real peer of the domain), its stdout
/// as lines as they come. Disposing it kills it if it still runs.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _transcript = [];
    private readonly Task<string> _stderr;

    private PeerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
                return;
            }

            lock (_transcript)
            {
                _transcript.Add(e.Data);
            }

            _lines.Writer.TryWrite(e.Data);
        };
        _process.BeginOutputReadLine();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    /// <summary>Everything printed so far, one line each, and stderr.</summary>
    public string Transcript
    {
        get
        {
            lock (_transcript)
            {
                return string.Join('\n', _transcript) + (_stderr.IsCompleted ? "\nstderr: " + _stderr.Result : string.Empty);
            }
        }
    }

    public static PeerProcess Start(params string[] args) => Start(interactive: false, args);

    /// <summary>A process whose stdin stays open, for <see cref="AskAsync"/> and <see cref="Tell"/>.</summary>
    public static PeerProcess StartInteractive(params string[] args) => Start(interactive: true, args);

    /// <summary>Writes one command line to the process's stdin and returns its next line of output.</summary>
    public async Task<string> AskAsync(string command, CancellationToken cancellationToken)
    {
        Tell(command);
        try
        {
            return await _lines.Reader.ReadAsync(cancellationToken);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new AssertionException($"the process ended without answering '{command}':\n{Transcript}");
        }
    }

    /// <summary>Writes one command line to the process's stdin without waiting for an answer.</summary>
    public void Tell(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
    }

    private static PeerProcess Start(bool interactive, string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "virtiohw.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["TERM"] = "dumb";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        if (!interactive)
        {
            process.StandardInput.Close();
        }

        return new PeerProcess(process);
    }

    /// <summary>The first line (from now on) that contains <paramref name="text"/>.</summary>
    public async Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken)
    {
        await foreach (string line in _lines.Reader.ReadAllAsync(cancellationToken))
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new AssertionException($"the process ended without printing '{text}':\n{Transcript}");
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _stderr;
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process gets no chance to say goodbye.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGKILL, and waits (bounded) until the process is gone, so its sockets are closed.</summary>
    public void KillAndWait()
    {
        _process.Kill();
        if (!_process.WaitForExit(30_000))
        {
            throw new AssertionException($"process {_process.Id} did not die within 30 s of SIGKILL");
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
