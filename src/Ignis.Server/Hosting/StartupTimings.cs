using System.Diagnostics;

namespace Ignis.Server.Hosting;

/// <summary>
/// Wall and CPU time of each start-up phase since the process started, logged at Debug level under Ignis.Startup
/// (<c>--Logging:LogLevel:Ignis.Startup=Debug</c>); bench/run-startup.sh measures the same from outside.
/// </summary>
public sealed partial class StartupTimings
{
    private readonly List<(string Phase, double WallMs, double CpuMs, double HeapMiB)> _marks = [];
    private bool _written;

    public void Mark(string phase)
    {
        using var process = Process.GetCurrentProcess();
        var wall = (DateTime.Now - process.StartTime).TotalMilliseconds;
        lock (_marks) _marks.Add((phase, wall, process.TotalProcessorTime.TotalMilliseconds, GC.GetTotalMemory(false) / 1048576.0));
    }

    /// <summary>Writes the phases once (after the first /fhir/metadata answer, or when the server has started).</summary>
    public void Write(ILogger logger, string last)
    {
        if (!logger.IsEnabled(LogLevel.Debug)) return;
        Mark(last);
        lock (_marks)
        {
            if (_written) return;
            _written = true;
            foreach (var (phase, wall, cpu, heap) in _marks) LogPhase(logger, phase, wall, cpu, heap);
            var gc = GC.GetGCMemoryInfo();
            LogMemory(logger, GC.GetTotalMemory(false) / 1048576.0, gc.TotalCommittedBytes / 1048576.0, GC.CollectionCount(0), GC.CollectionCount(2),
                Environment.WorkingSet / 1048576.0);
        }
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Start-up: {Phase} at {WallMs:F0} ms since process start, {CpuMs:F0} ms CPU, managed heap {HeapMiB:F1} MiB")]
    private static partial void LogPhase(ILogger logger, string phase, double wallMs, double cpuMs, double heapMiB);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Debug,
        Message = "Start-up: managed heap {HeapMiB:F1} MiB, GC committed {CommittedMiB:F1} MiB, {Gen0} gen0 / {Gen2} gen2 collections, working set {RssMiB:F0} MiB")]
    private static partial void LogMemory(ILogger logger, double heapMiB, double committedMiB, int gen0, int gen2, double rssMiB);
}
