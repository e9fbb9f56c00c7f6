using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

public sealed class KeyPersistenceTests
{
    [Fact]
    public async Task Keys_and_tokens_survive_a_restart_and_the_key_files_are_private()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        try
        {
            string kid, token;
            Uri origin;
            await using (var first = await IgnisServer.StartInAsync(dataDir, ownsData: false, "--demo"))
            {
                kid = await KidAsync(first);
                origin = first.Origin;
                token = (await SmartApp.PostFormAsync(first, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" },
                    ("demo-backend", "demo-backend-secret")))["access_token"].Str();
            }
            // Same origin (the issuer) as before, as after a real restart.
            await using (var second = await IgnisServer.StartInAsync(dataDir, ownsData: false, "--urls", origin.GetLeftPart(UriPartial.Authority)))
            {
                (await KidAsync(second)).ShouldBe(kid);
                (await SmartApp.IntrospectAsync(second, token))["active"]!.GetValue<bool>().ShouldBeTrue();
            }
            // On PostgreSQL the keys are rows of the database, not files (PostgresClusterTests).
            if (!OperatingSystem.IsWindows() && !TestPostgres.IsDefaultStorage)
                foreach (var file in Directory.GetFiles(Path.Combine(dataDir, "keys")))
                    File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<string> KidAsync(IgnisServer server)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        return JsonNode.Parse(await http.GetStringAsync("/oauth/jwks"))!["keys"]![0]!["kid"].Str();
    }
}
