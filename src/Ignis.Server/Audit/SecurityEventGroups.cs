namespace Ignis.Server.Audit;

/// <summary>
/// Folds a backend service's token events into one security log entry per client and time window. A backend service
/// (client_credentials, no person) may ask for tokens many times a second, and each event is the same as the one before
/// in everything but its time: the client, the scopes, the address, the user agent. One AuditEvent per window with the
/// number of tokens and the period they span (<see cref="SecurityEvent.Count"/>, <see cref="SecurityEvent.Until"/>)
/// keeps what the log is read for (which app got tokens, for what, from where, when, how many) without an AuditEvent,
/// its history row and ten search-index rows per token. Microsoft Entra ID groups its service principal and
/// non-interactive sign-ins the same way. Events with a person, failures and every other kind are never grouped.
/// <para>
/// The security log's writer groups the events of each batch it takes from the queue, so a window that spans two
/// batches gives two entries, whose counts add up.
/// </para>
/// </summary>
public static class SecurityEventGroups
{
    /// <summary>Whether <paramref name="e"/> is a backend service's token event, which may be grouped.</summary>
    public static bool IsGroupable(SecurityEvent e) =>
        e is { Kind: SecurityEventKind.TokenIssued, User: null, Failed: false, Count: 1, Until: null, Client: not null };

    /// <summary>
    /// The events of <paramref name="batch"/> with the groupable ones of the same shape (everything but the time) and the
    /// same <paramref name="window"/> of the clock (counted from 0001-01-01 UTC: whole seconds for one second) folded
    /// into the first of them; in the order of each entry's first event. A window of zero or less groups nothing.
    /// </summary>
    public static IReadOnlyList<SecurityEvent> Group(IReadOnlyList<SecurityEvent> batch, TimeSpan window)
    {
        if (window <= TimeSpan.Zero || batch.Count < 2) return batch;
        var result = new List<SecurityEvent>(batch.Count);
        Dictionary<(SecurityEvent Shape, long Window), Window>? open = null;
        foreach (var e in batch)
        {
            if (!IsGroupable(e))
            {
                result.Add(e);
                continue;
            }
            open ??= [];
            var key = (e with { Recorded = default }, e.Recorded.UtcTicks / window.Ticks);
            if (open.TryGetValue(key, out var group))
            {
                group.Add(e.Recorded);
                continue;
            }
            open[key] = new Window(result.Count, e.Recorded);
            result.Add(e);
        }
        foreach (var g in open?.Values ?? Enumerable.Empty<Window>())
            if (g.Count > 1) result[g.At] = result[g.At] with { Count = g.Count, Recorded = g.First, Until = g.Last };
        return result;
    }

    private sealed class Window(int at, DateTimeOffset time)
    {
        public int At { get; } = at;
        public int Count { get; private set; } = 1;
        public DateTimeOffset First { get; private set; } = time;
        public DateTimeOffset Last { get; private set; } = time;

        public void Add(DateTimeOffset time)
        {
            Count++;
            if (time < First) First = time;
            if (time > Last) Last = time;
        }
    }
}
