using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Data;

public sealed class DataProtectionKeyTests
{
    [Fact]
    public async Task The_data_protection_key_ring_is_kept_in_the_auth_tables_and_read_back_after_a_restart()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        try
        {
            byte[] sealedPayload;
            string keyXml;
            await using (var first = await IgnisServer.StartInAsync(dataDir, ownsData: false))
            {
                sealedPayload = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("session"u8.ToArray());
                var rows = await KeyRowsAsync(first);
                // One key, made at the first start, stored as DataProtection's own XML with its friendly name.
                rows.Count.ShouldBe(1);
                rows[0].FriendlyName.ShouldStartWith("key-");
                keyXml = rows[0].Xml;
                keyXml.ShouldStartWith("<key id=\"" + rows[0].FriendlyName["key-".Length..] + "\"");
            }
            await using (var second = await IgnisServer.StartInAsync(dataDir, ownsData: false))
            {
                // The same key read back: what the first run protected (cookies, antiforgery tokens) still opens.
                second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(sealedPayload)
                    .ShouldBe("session"u8.ToArray());
                var rows = await KeyRowsAsync(second);
                rows.Count.ShouldBe(1);
                rows[0].Xml.ShouldBe(keyXml);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<List<(string FriendlyName, string Xml)>> KeyRowsAsync(IgnisServer server)
    {
        var rows = new List<(string, string)>();
        await using var connection = await server.Services.GetRequiredService<AuthDatabase>().OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"FriendlyName\", \"Xml\" FROM \"DataProtectionKeys\"";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }
}
