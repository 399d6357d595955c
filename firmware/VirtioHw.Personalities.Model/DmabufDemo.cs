using System.Diagnostics;
using VirtioHw.Firmware.Dmabuf;

namespace VirtioHw.Personalities.Model;

/// <summary>
/// The virtio-dmabuf part of <c>virtiohw demo</c>: the driver asks for the VM id, exports a buffer
/// under a new 128-bit id, the device side sees the export and releases it, and the driver gets
/// the release with the same id. Each step is a timed transcript line.
/// </summary>
public static class DmabufDemo
{
    /// <summary>Runs the export and release, writing the transcript to <paramref name="output"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,9:F3} ms] {line}");

        Say("model platform: one virtio-dmabuf endpoint (device id 36 of the seed specification; virtio-can in the ratified one)");
        await using DmabufBench bench = await DmabufBench.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        uint vmId = await bench.Device.GetVmIdAsync(cancellationToken).ConfigureAwait(false);
        Say($"{bench.Device.Transport.Location}: NEED_VMID answered with VM id {vmId}");

        var exported = new TaskCompletionSource<DmabufExportEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        bench.Firmware.Exported += (_, e) => exported.TrySetResult(e);
        byte[] metadata = new byte[20];
        BitConverter.TryWriteBytes(metadata, 4096 * 16);
        UInt128 id = await bench.Device.ExportAsync(metadata, cancellationToken).ConfigureAwait(false);
        Say($"driver exported a buffer as id {id:x32}");
        DmabufExportEventArgs seen = await exported.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        Say($"device imported id {seen.Id:x32}");

        bench.Firmware.Release(seen.Id);
        Say("device released it");
        UInt128 released = await bench.Device.NextReleaseAsync(cancellationToken).ConfigureAwait(false);
        Say($"driver got DMABUF_REL for id {released:x32}");
        bool ok = seen.Id == id && released == id;
        Say(ok ? "done" : "the ids do not match");
        return ok ? 0 : 1;
    }
}
