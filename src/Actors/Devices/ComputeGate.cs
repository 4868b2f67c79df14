namespace RingActors.Actors.Devices;

/// <summary>
/// Admits at most <see cref="Slots"/> kernels at once, and when a slot frees gives it to the waiting request with the most
/// work left (first come first served among equals). The compute dispatcher alone takes its workers' mailboxes in the order
/// they were scheduled; with the blocks of a contiguous causal ring that leaves the most loaded device computing alone at
/// the end (about 4.5 block-times where 2 cores need 4, docs/benchmarks.md). Longest-work-left first keeps that device busy
/// from the start. Slots equal the dispatcher's threads, so an admitted kernel never queues for a thread.
/// Thread-safe: requests come from compute workers on any dispatcher thread; a grant is a callback run outside the lock.
/// </summary>
public sealed class ComputeGate
{
    private readonly object _lock = new();
    private readonly PriorityQueue<Request, (long NegativeWorkLeft, long Order)> _waiting = new();
    private long _order;
    private int _free;

    public ComputeGate(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        _free = slots;
    }

    public int Slots { get; }

    /// <summary>Slots no kernel holds (for tests and diagnostics).</summary>
    public int Free
    {
        get
        {
            lock (_lock)
            {
                return _free;
            }
        }
    }

    /// <summary>Requests waiting for a slot (for tests and diagnostics).</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>
    /// Asks for a slot for a kernel with <paramref name="workLeft"/> (any unit, larger first). <paramref name="admitted"/> runs
    /// once the slot is the caller's, at once if one is free; the caller then owes exactly one <see cref="Leave"/>, or an
    /// <see cref="Abandon"/> if it will never run.
    /// </summary>
    public Request Enter(long workLeft, Action admitted)
    {
        ArgumentNullException.ThrowIfNull(admitted);
        var request = new Request(admitted);
        lock (_lock)
        {
            if (_free == 0)
            {
                _waiting.Enqueue(request, (-System.Math.Max(0, workLeft), _order++));
                return request;
            }

            _free--;
            request.State = RequestState.Admitted;
        }

        admitted();
        return request;
    }

    /// <summary>A kernel admitted by <see cref="Enter"/> has finished: its slot goes to the waiting request with the most work left.</summary>
    public void Leave()
    {
        Request? next;
        lock (_lock)
        {
            if (!_waiting.TryDequeue(out next, out _))
            {
                if (_free == Slots)
                {
                    throw new InvalidOperationException("ComputeGate.Leave without a slot taken");
                }

                _free++;
                return;
            }

            next.State = RequestState.Admitted;
        }

        next.Admitted();
    }

    /// <summary>
    /// The requester stopped before its kernel ran (its device was killed or restarted): a waiting request is withdrawn, an
    /// admitted one gives its slot back. Calling it for a request whose kernel already ran and left is a no-op.
    /// </summary>
    public void Abandon(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_lock)
        {
            switch (request.State)
            {
                case RequestState.Waiting:
                    request.State = RequestState.Abandoned;
                    _waiting.Remove(request, out _, out _);
                    return;
                case RequestState.Admitted:
                    request.State = RequestState.Abandoned;
                    break;
                default:
                    return;
            }
        }

        Leave();
    }

    /// <summary>Marks an admitted request as run, so that a later <see cref="Abandon"/> does not free its slot a second time.</summary>
    public void Ran(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_lock)
        {
            if (request.State == RequestState.Admitted)
            {
                request.State = RequestState.Ran;
            }
        }
    }

    /// <summary>One kernel's place in the gate.</summary>
    public sealed class Request
    {
        internal Request(Action admitted) => Admitted = admitted;

        internal Action Admitted { get; }

        internal RequestState State { get; set; }
    }

    internal enum RequestState
    {
        Waiting,
        Admitted,
        Ran,
        Abandoned,
    }
}
