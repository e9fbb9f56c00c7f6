using Ignis.Fhir.Engine;

namespace Ignis.Server.Fhir;

/// <summary>
/// Logs at shutdown how long the SQLite write gate was held in all: the serial time of the single writer, which
/// bounds the ingest rate (bench/run-ingest.sh reads the line to give it per resource).
/// </summary>
internal sealed partial class WriteGateReport(WriteGate gate, ILogger<WriteGateReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        WriteGateHeld(logger, gate.HeldTime.TotalMilliseconds);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "SQLite write gate held {HeldMs:F1} ms in all since start")]
    private static partial void WriteGateHeld(ILogger logger, double heldMs);
}
