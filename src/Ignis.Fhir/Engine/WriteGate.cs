namespace Ignis.Fhir.Engine;

/// <summary>
/// SQLite has one writer at a time: writes queue here instead of spinning on SQLITE_BUSY, and each
/// write gets a lastUpdated strictly later than the previous one so history order is total.
/// (PostgreSQL uses only the clock: its writers run in parallel, see <see cref="Storage.Postgres.PostgresFhirStore"/>.)
/// </summary>
public sealed class WriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastTicks;
    private long _held;

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        return new Releaser(this);
    }

    /// <summary>
    /// How long the gate has been held in all, since this gate was made: the serial time of the single writer (the
    /// ingest benchmarks compare it per resource written).
    /// </summary>
    public TimeSpan HeldTime => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _held));

    /// <summary>
    /// The next write time, later than every earlier one of this process. Safe without the gate too (PostgreSQL's
    /// writers run in parallel): the last value advances by compare-and-swap.
    /// </summary>
    public long NextTicks()
    {
        var now = DateTime.UtcNow.Ticks;
        // Keep to whole microseconds: FHIR instants round-trip through JSON at that precision.
        now -= now % 10;
        while (true)
        {
            var last = Volatile.Read(ref _lastTicks);
            var next = now > last ? now : last + 10;
            if (Interlocked.CompareExchange(ref _lastTicks, next, last) == last) return next;
        }
    }

    private sealed class Releaser(WriteGate gate) : IDisposable
    {
        private readonly long _entered = System.Diagnostics.Stopwatch.GetTimestamp();
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            Interlocked.Add(ref gate._held, System.Diagnostics.Stopwatch.GetTimestamp() - _entered);
            gate._gate.Release();
        }
    }
}
