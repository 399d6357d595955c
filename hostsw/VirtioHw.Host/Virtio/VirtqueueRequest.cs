using System.Threading.Tasks.Sources;

namespace VirtioHw.Host.Virtio;

internal enum RequestState
{
    /// <summary>In the pool, or being set up by SubmitAsync.</summary>
    Idle,

    /// <summary>Queued until the ring has descriptors and staging memory for it.</summary>
    Waiting,

    /// <summary>Made available; the device owns its descriptors and staging memory.</summary>
    InFlight,
}

/// <summary>
/// One submission and the completion its caller awaits. Pooled by its queue: it goes back once
/// both holders have let go, the caller (by taking the result) and the queue (once the device
/// returned the buffers, or the submission never reached the device).
/// </summary>
/// <remarks>Every member but <see cref="GetResult"/> is used under the queue's lock.</remarks>
internal sealed class VirtqueueRequest : IValueTaskSource<UsedBuffer>
{
    private readonly SplitVirtqueue _queue;
    private ManualResetValueTaskSourceCore<UsedBuffer> _completion;
    private CancellationTokenRegistration _cancellation;
    private int _holders;
    private int _keptOutBuffers;
    private UsedBuffer _result;

    public VirtqueueRequest(SplitVirtqueue queue)
    {
        _queue = queue;

        // Completions under the queue's lock must not run continuations there; a queue with inline
        // completions signals once the lock is released (Signal), on the calling thread.
        _completion.RunContinuationsAsynchronously = true;
        WaitNode = new LinkedListNode<VirtqueueRequest>(this);
    }

    /// <summary>This request's place in the queue's waiting list, allocated once.</summary>
    public LinkedListNode<VirtqueueRequest> WaitNode { get; }

    public RequestState State { get; set; }

    /// <summary>The caller has its outcome (result, cancellation or failure).</summary>
    public bool Completed { get; private set; }

    /// <summary>
    /// False once a cancellation callback may still be on its way; such a request is not reused,
    /// so the late callback cannot reach a later submission.
    /// </summary>
    public bool Recyclable { get; private set; } = true;

    public short Version => _completion.Version;

    /// <summary>Device-readable buffers, kept only while the request waits.</summary>
    public ReadOnlyMemory<byte>[] OutBuffers { get; private set; } = [];

    public Memory<byte>[] InBuffers { get; private set; } = [];

    public int OutCount { get; private set; }

    public int InCount { get; private set; }

    public int OutBytes { get; private set; }

    public int InBytes { get; private set; }

    /// <summary>Where the request's staging range starts, and how long it is.</summary>
    public int StagingOffset { get; set; }

    public int StagingLength { get; set; }

    /// <summary>Where the device-writable bytes start in staging memory, one buffer after another.</summary>
    public int InOffset { get; set; }

    public void Start(int outCount, ReadOnlySpan<Memory<byte>> inBuffers, int outBytes, int inBytes)
    {
        _holders = 2;
        Completed = false;
        OutCount = outCount;
        InCount = inBuffers.Length;
        OutBytes = outBytes;
        InBytes = inBytes;
        if (InBuffers.Length < inBuffers.Length)
        {
            InBuffers = new Memory<byte>[inBuffers.Length];
        }

        inBuffers.CopyTo(InBuffers);
    }

    /// <summary>Keeps the device-readable buffers for staging later, when the request has to wait.</summary>
    public void KeepOutBuffers(ReadOnlySpan<ReadOnlyMemory<byte>> outBuffers)
    {
        if (OutBuffers.Length < outBuffers.Length)
        {
            OutBuffers = new ReadOnlyMemory<byte>[outBuffers.Length];
        }

        outBuffers.CopyTo(OutBuffers);
        _keptOutBuffers = outBuffers.Length;
    }

    /// <summary>Drops the references to the caller's buffers once they are no longer needed.</summary>
    public void ForgetOutBuffers()
    {
        Array.Clear(OutBuffers, 0, _keptOutBuffers);
        _keptOutBuffers = 0;
    }

    /// <summary>Cancels through the queue when <paramref name="token"/> fires; may do so at once.</summary>
    public void WatchCancellation(CancellationToken token)
    {
        if (token.CanBeCanceled)
        {
            _cancellation = token.UnsafeRegister(
                static (state, token) => ((VirtqueueRequest)state!)._queue.Cancel((VirtqueueRequest)state!, token), this);
        }
    }

    public void SetResult(UsedBuffer result)
    {
        Finish();
        _completion.RunContinuationsAsynchronously = true;
        _completion.SetResult(result);
    }

    /// <summary>Under the queue's lock: the device returned the buffers; the caller hears of it by <see cref="Signal"/>, after the lock.</summary>
    public void Complete(UsedBuffer result)
    {
        Finish();
        _result = result;
    }

    /// <summary>Outside the queue's lock: completes the caller's wait, running its continuation on this thread.</summary>
    public void Signal()
    {
        _completion.RunContinuationsAsynchronously = false;
        _completion.SetResult(_result);
    }

    public void SetException(Exception exception)
    {
        Finish();
        _completion.RunContinuationsAsynchronously = true;
        _completion.SetException(exception);
    }

    /// <summary>Lets go of one holder; true for the last one, when the request may be reused.</summary>
    public bool Release() => Interlocked.Decrement(ref _holders) == 0;

    /// <summary>Makes the request ready for another submission.</summary>
    public void Recycle()
    {
        Array.Clear(InBuffers, 0, InCount);
        ForgetOutBuffers();
        State = RequestState.Idle;
        _completion.Reset();
    }

    public UsedBuffer GetResult(short token)
    {
        bool current = token == _completion.Version;
        try
        {
            return _completion.GetResult(token);
        }
        finally
        {
            if (current)
            {
                _queue.ReleaseHolder(this);
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    private void Finish()
    {
        Completed = true;

        // Unregister never waits for a running callback (that could deadlock on the queue's lock);
        // false means the callback ran or is running, so this object must not be reused.
        if (_cancellation.Token.CanBeCanceled && !_cancellation.Unregister())
        {
            Recyclable = false;
        }

        _cancellation = default;
    }
}
