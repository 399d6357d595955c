using System.Diagnostics;
using VirtioHw.Drivers.Dmabuf;
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
        return await RunFlowAsync(Say, bench.Device, bench.Firmware, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The export and release themselves, between an open <paramref name="device"/> and the
    /// firmware behind it on any platform, each step a line through <paramref name="say"/>; returns the exit code.
    /// </summary>
    public static async Task<int> RunFlowAsync(Action<string> say, DmabufDevice device, DmabufFirmware firmware, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(say);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(firmware);
        uint vmId = await device.GetVmIdAsync(cancellationToken).ConfigureAwait(false);
        say($"{device.Transport.Location}: NEED_VMID answered with VM id {vmId}");

        var exported = new TaskCompletionSource<DmabufExportEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        firmware.Exported += (_, e) => exported.TrySetResult(e);
        byte[] metadata = new byte[20];
        BitConverter.TryWriteBytes(metadata, 4096 * 16);
        UInt128 id = await device.ExportAsync(metadata, cancellationToken).ConfigureAwait(false);
        say($"driver exported a buffer as id {id:x32}");
        DmabufExportEventArgs seen = await exported.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        say($"device imported id {seen.Id:x32}");

        firmware.Release(seen.Id);
        say("device released it");
        UInt128 released = await device.NextReleaseAsync(cancellationToken).ConfigureAwait(false);
        say($"driver got DMABUF_REL for id {released:x32}");
        bool ok = seen.Id == id && released == id;
        say(ok ? "done" : "the ids do not match");
        return ok ? 0 : 1;
    }
}
