using System.Diagnostics;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The firmware event FIFO: hardware pushes (kind, data) pairs, firmware sees the head in
/// evt_kind/evt_data and the fill level in evt_status, and drops the head with evt_pop. A push into
/// a full FIFO is lost and sets evt_status.overflow. Runs under the endpoint's lock.
/// </summary>
internal sealed class EventFifo
{
    private readonly FwCsrModel _csr;
    private readonly Lock _sync;
    private readonly (FwCsr.FwEventKind Kind, uint Data)[] _entries;
    private int _head;
    private int _count;

    // The firmware task waiting for an event, completed by the next push.
    private TaskCompletionSource? _waiter;

    public EventFifo(FwCsrModel csr, Lock sync, int depth)
    {
        _csr = csr;
        _sync = sync;
        _entries = new (FwCsr.FwEventKind, uint)[depth];
        csr.EvtPopPulsed += (_, e) =>
        {
            if (e.Value != 0)
            {
                Pop();
            }
        };
        ShowHead();
    }

    public void Push(FwCsr.FwEventKind kind, uint data)
    {
        Debug.Assert(_sync.IsHeldByCurrentThread, "hardware runs under the endpoint lock");
        if (_count == _entries.Length)
        {
            _csr.HwSetEvtStatusOverflow();
            return;
        }

        _entries[(_head + _count) % _entries.Length] = (kind, data);
        _count++;
        ShowHead();
        if (_waiter is { } waiter)
        {
            _waiter = null;
            waiter.SetResult();
        }
    }

    /// <summary>Completes when the FIFO holds an event; at once if it already does.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        Task waiting;
        lock (_sync)
        {
            if (_count > 0)
            {
                return ValueTask.CompletedTask;
            }

            // Continuations must not run inside Push, which holds the endpoint lock.
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting = _waiter.Task;
        }

        return new ValueTask(waiting.WaitAsync(cancellationToken));
    }

    private void Pop()
    {
        if (_count == 0)
        {
            return;
        }

        _head = (_head + 1) % _entries.Length;
        _count--;
        ShowHead();
    }

    private void ShowHead()
    {
        _csr.SetEvtStatusCount((ushort)_count);
        (FwCsr.FwEventKind kind, uint data) = _count > 0 ? _entries[_head] : (FwCsr.FwEventKind.None, 0u);
        _csr.SetEvtKind((byte)kind);
        _csr.SetEvtData(data);
    }
}
