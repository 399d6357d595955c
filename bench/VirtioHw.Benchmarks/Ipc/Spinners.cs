using System.Diagnostics;
using System.Reflection;

namespace VirtioHw.Benchmarks.Ipc;

/// <summary>
/// CPU-bound background processes (<c>vhw-bench spin</c>: a busy loop until killed), the load of
/// the latency rows measured on a busy machine; <c>bench/native/ipc_bench.cpp</c> forks the same
/// two for its eventfd row.
/// </summary>
public sealed class Spinners : IDisposable
{
    private readonly List<Process> _processes = [];

    private Spinners()
    {
    }

    /// <summary>Starts <paramref name="count"/> spinners and waits until they are past their start-up; dispose to kill them.</summary>
    public static Spinners Start(int count)
    {
        var spinners = new Spinners();
        string host = Environment.ProcessPath ?? "dotnet";
        for (int i = 0; i < count; i++)
        {
            var start = new ProcessStartInfo(host) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            {
                start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
            }

            start.ArgumentList.Add("spin");
            Process process = Process.Start(start) ?? throw new InvalidOperationException("a spinner did not start");
            spinners._processes.Add(process);

            // It says so once the runtime is up and the loop is about to run.
            if (process.StandardOutput.ReadLine() != "spinning")
            {
                spinners.Dispose();
                throw new InvalidOperationException("a spinner did not start spinning");
            }
        }

        return spinners;
    }

    /// <summary>The spinner's own body: burns one core until killed.</summary>
    public static void Spin()
    {
        Console.WriteLine("spinning");
        Console.Out.Flush();
        long n = 0;
        while (true)
        {
            n = Volatile.Read(ref n) + 1;
        }
    }

    public void Dispose()
    {
        foreach (Process process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            process.WaitForExit();
            process.Dispose();
        }
    }
}
