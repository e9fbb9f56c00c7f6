namespace Ignis.Fhir.Engine;

/// <summary>
/// SQLite has one writer at a time: writes queue here instead of spinning on SQLITE_BUSY, and each
/// write gets a lastUpdated strictly later than the previous one so history order is total.
/// </summary>
public sealed class WriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastTicks;

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        return new Releaser(_gate);
    }

    /// <summary>The next write time; call only while holding the gate.</summary>
    public long NextTicks()
    {
        var now = DateTime.UtcNow.Ticks;
        // Keep to whole microseconds: FHIR instants round-trip through JSON at that precision.
        now -= now % 10;
        _lastTicks = now > _lastTicks ? now : _lastTicks + 10;
        return _lastTicks;
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _done;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Release();
        }
    }
}
