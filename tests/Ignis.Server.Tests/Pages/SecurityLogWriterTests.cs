using Ignis.Server.Audit;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Pages;

/// <summary>The background writer of the security log: everything queued is stored, also when the server stops right after.</summary>
public sealed class SecurityLogWriterTests
{
    [Fact]
    public async Task Events_queued_just_before_shutdown_are_stored_as_AuditEvents()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        try
        {
            const int count = 450; // more than two batches
            var marker = "burst-" + Guid.NewGuid().ToString("N")[..8];
            await using (var server = await IgnisServer.StartInAsync(dataDir, ownsData: false, IgnisServer.Open))
            {
                var log = server.Services.GetRequiredService<SecurityLog>();
                for (var i = 0; i < count; i++)
                    log.Record(new SecurityEvent(SecurityEventKind.TokenIssued) { Client = new SecurityParty(marker, marker), Detail = $"event {i}" });
                log.Dropped.ShouldBe(0);
            }

            await using var restarted = await IgnisServer.StartInAsync(dataDir, ownsData: false, IgnisServer.Open);
            var bundle = await (await restarted.Client.GetAsync($"AuditEvent?agent-name:exact={marker}&_summary=count")).BodyAsync();
            bundle["total"]!.GetValue<int>().ShouldBe(count);
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
