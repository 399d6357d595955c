using System.Diagnostics;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// One QEMU process: started, watched and killed by its owner, with the tail of its stderr kept
/// for error messages. It does not outlive this process: on Linux it is started through
/// <c>setpriv --pdeathsig KILL</c> from a thread that lives exactly as long as QEMU does, so the
/// kernel kills QEMU when this process dies however it dies; on a normal exit the ones still
/// running are killed as well.
/// </summary>
internal sealed class QemuProcess : IAsyncDisposable
{
    private const int KeptStderrLines = 8;

    private static readonly Lock s_liveSync = new();
    private static readonly HashSet<QemuProcess> s_live = [];

    private readonly Process _process;
    private readonly Queue<string> _stderr = new();
    private readonly Lock _stderrSync = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _name;

    static QemuProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    private QemuProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    public int Id => _process.Id;

    /// <summary>Completes when QEMU has exited and its stderr is read to the end.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/>.</summary>
    /// <exception cref="QemuException">The binary is missing or cannot be started; one line.</exception>
    public static QemuProcess Start(string executable, IReadOnlyList<string> arguments)
    {
        string name = Path.GetFileName(executable);
        string binary = ExecutableSearch.Locate(executable)
            ?? throw new QemuException($"{executable} not found; apt-get install qemu-system-x86");

        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        if (ExecutableSearch.Locate("setpriv") is { } setpriv)
        {
            start.FileName = setpriv;
            start.ArgumentList.Add("--pdeathsig");
            start.ArgumentList.Add("KILL");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(binary);
        }
        else
        {
            start.FileName = binary;
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The parent-death signal fires when the thread that forked QEMU ends, so that thread
        // starts QEMU and then waits for it, neither sooner nor later.
        var started = new TaskCompletionSource<QemuProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => RunProcess(start, name, started)) { IsBackground = true, Name = name };
        thread.Start();
        try
        {
            return started.Task.GetAwaiter().GetResult();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new QemuException($"cannot start {binary}: {e.Message}", e);
        }
    }

    /// <summary>"qemu-system-x86_64 exited with code 1: qemu-system-x86_64: -device x: ..." once it has exited.</summary>
    public string DescribeExit()
    {
        string last;
        lock (_stderrSync)
        {
            last = _stderr.Count == 0 ? "(nothing on stderr)" : _stderr.Last();
        }

        return $"{_name} exited with code {_process.ExitCode}: {last}";
    }

    /// <summary>Kills QEMU (it holds nothing worth a graceful shutdown) and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        await _exited.Task.ConfigureAwait(false);
        lock (s_liveSync)
        {
            s_live.Remove(this);
        }

        _process.Dispose();
    }

    private static void RunProcess(ProcessStartInfo start, string name, TaskCompletionSource<QemuProcess> started)
    {
        QemuProcess qemu;
        try
        {
            var process = new Process { StartInfo = start };
            qemu = new QemuProcess(process, name);
            process.ErrorDataReceived += (_, line) => qemu.KeepStderr(line.Data);
            process.OutputDataReceived += (_, _) => { };
            process.Start();
            process.StandardInput.Close();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            lock (s_liveSync)
            {
                s_live.Add(qemu);
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            started.SetException(e);
            return;
        }

        started.SetResult(qemu);

        // Returns once QEMU has exited and both of its output streams are read to the end.
        qemu._process.WaitForExit();
        qemu._exited.TrySetResult();
    }

    private static void KillAll()
    {
        QemuProcess[] live;
        lock (s_liveSync)
        {
            live = [.. s_live];
        }

        foreach (QemuProcess qemu in live)
        {
            qemu.Kill();
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    private void KeepStderr(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (_stderrSync)
        {
            if (_stderr.Count == KeptStderrLines)
            {
                _stderr.Dequeue();
            }

            _stderr.Enqueue(line.Trim());
        }
    }
}
