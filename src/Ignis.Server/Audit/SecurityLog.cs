using System.Threading.Channels;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Audit;

/// <summary>
/// Takes security events from the request path into a bounded queue and returns at once; a background writer
/// (<see cref="SecurityLogWriter"/>) stores them as FHIR AuditEvents. When the queue is full (the store is far
/// behind) an event is dropped and a warning logged, rather than slowing sign-ins and token requests down.
/// </summary>
public sealed partial class SecurityLog(TimeProvider clock, ILogger<SecurityLog> logger)
{
    public const int Capacity = 10_000;

    private readonly Channel<SecurityEvent> _queue = Channel.CreateBounded<SecurityEvent>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite answers false when full
    });
    private long _dropped;

    internal ChannelReader<SecurityEvent> Reader => _queue.Reader;

    /// <summary>Events dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(SecurityEvent e)
    {
        if (_queue.Writer.TryWrite(e.Recorded == default ? e with { Recorded = clock.GetUtcNow() } : e)) return;
        if (Interlocked.Increment(ref _dropped) % 1000 == 1) LogDropped(logger, e.Kind, Dropped);
    }

    /// <summary>Records an event observed in a request: the time, the caller's address and user agent.</summary>
    public void Record(HttpContext http, SecurityEvent e) => Record(e with
    {
        Recorded = clock.GetUtcNow(),
        Address = e.Address ?? http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = e.UserAgent ?? (http.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua : null),
    });

    internal void Complete() => _queue.Writer.TryComplete();

    [LoggerMessage(EventId = 3500, Level = LogLevel.Warning, Message = "The security log queue is full; a {Kind} event was dropped ({Dropped} dropped so far)")]
    private static partial void LogDropped(ILogger logger, SecurityEventKind kind, long dropped);
}

/// <summary>
/// Stores queued security events as AuditEvent resources through the FHIR engine, in batches of up to
/// <see cref="BatchSize"/>. A batch that is not full waits <see cref="Linger"/> for more events first: each transaction
/// rewrites every database page it touches (the AuditEvent rows, their history and search-index rows), so at a steady
/// rate of a few hundred tokens a second batches of a handful of events cost several times the I/O and CPU per event of
/// batches of dozens (docs/benchmarks.md, issue 4). The events were already written after the response; they now reach
/// the log at most <see cref="Linger"/> later.
/// <para>
/// A batch is committed in transactions of at most <see cref="TransactionSize"/> events, without waiting for the disk
/// (<see cref="Ignis.Fhir.Storage.IFhirStore.WriteWithoutSyncAsync{T}"/>: on SQLite synchronous=NORMAL, as the token rows;
/// the queue in memory is the larger exposure anyway). On SQLite every writer shares one write lock: a batch of 800
/// events in one synchronous transaction held it for tens of milliseconds, and every token request's jti and token row
/// (the token writer) and every FHIR write waited behind it.
/// </para>
/// </summary>
public sealed partial class SecurityLogWriter(SecurityLog log, FhirService fhir, IOptions<SecurityLogOptions> options, ILogger<SecurityLogWriter> logger)
    : BackgroundService
{
    public const int BatchSize = 1000;

    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(250);

    /// <summary>The most events one transaction stores: a few milliseconds of the write lock.</summary>
    public const int TransactionSize = 64;

    protected override async System.Threading.Tasks.Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SecurityEvent>(BatchSize);
        try
        {
            while (await log.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchSize && log.Reader.TryRead(out var e)) batch.Add(e);
                if (batch.Count < BatchSize)
                {
                    try
                    {
                        await System.Threading.Tasks.Task.Delay(Linger, stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping: this batch is written below, the rest by StopAsync.
                    }
                    while (batch.Count < BatchSize && log.Reader.TryRead(out var e)) batch.Add(e);
                }
                await WriteAsync(batch, CancellationToken.None);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async System.Threading.Tasks.Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // What was queued before shutdown is still written.
        log.Complete();
        var batch = new List<SecurityEvent>(BatchSize);
        while (log.Reader.TryRead(out var e))
        {
            batch.Add(e);
            if (batch.Count == BatchSize)
            {
                await WriteAsync(batch, cancellationToken);
                batch.Clear();
            }
        }
        if (batch.Count > 0) await WriteAsync(batch, cancellationToken);
    }

    private readonly AuditEventTemplates _templates = new(fhir.Index);

    /// <summary>
    /// Transactions of up to <see cref="TransactionSize"/> events, through <see cref="FhirService.CreateAllAsync(string, IReadOnlyList{PreparedResource}, bool, CancellationToken)"/>:
    /// the same AuditEvent rows (resource, history, search index) a transaction Bundle of POSTs writes, without building,
    /// preparing and answering a Bundle, and for the events of a shape seen before (a backend service's tokens) without
    /// building, serializing and indexing each AuditEvent either (<see cref="AuditEventTemplates"/>). A backend service's
    /// token events are grouped first (<see cref="SecurityEventGroups"/>, <see cref="SecurityLogOptions.BackendTokenWindow"/>).
    /// </summary>
    private async System.Threading.Tasks.Task WriteAsync(List<SecurityEvent> taken, CancellationToken ct)
    {
        if (taken.Count == 0) return;
        var batch = SecurityEventGroups.Group(taken, options.Value.BackendTokenWindow);
        var audits = new PreparedResource[batch.Count];
        var written = 0;
        try
        {
            for (var i = 0; i < batch.Count; i++) audits[i] = _templates.Prepare(batch[i]);
            while (written < audits.Length)
            {
                var end = Math.Min(audits.Length, written + TransactionSize);
                await fhir.CreateAllAsync(nameof(AuditEvent), audits[written..end], sync: false, ct);
                written = end;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogWriteFailed(logger, e, batch.Skip(written).Sum(entry => entry.Count), 500);
        }
    }

    [LoggerMessage(EventId = 3501, Level = LogLevel.Error, Message = "Writing {Count} security log events failed with status {Status}")]
    private static partial void LogWriteFailed(ILogger logger, Exception? exception, int count, int status);
}
