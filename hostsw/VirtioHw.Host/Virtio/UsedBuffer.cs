namespace VirtioHw.Host.Virtio;

/// <summary>The outcome of one submission: the device handed the buffers back.</summary>
/// <param name="Length">
/// Bytes the device wrote into the device-writable buffers, from the first one on; these bytes
/// have been copied back. Never more than those buffers hold together.
/// </param>
public readonly record struct UsedBuffer(int Length);
