using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ignis.Cli;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests.Cli;

/// <summary>The admin commands on a running server's database, checked through the server's own endpoints.</summary>
public sealed class CliAdminTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private Task<CliResult> AdminAsync(CliRunner cli, params string[] args) => cli.RunAsync([.. args, "--data", Server.DataDirectory]);

    private async Task<SmartSession> SignInAsync(string user, string password, string clientId = "demo-app", string scope = "openid fhirUser offline_access user/*.rs") =>
        await new SmartClient(new SmartClientOptions
        {
            FhirBaseUrl = Server.FhirBase, ClientId = clientId, Scope = scope, TokenStore = new Ignis.Client.Storage.InMemoryTokenStore(),
            Browser = new FormBrowserLauncher(Server, user, password),
        }).LoginAsync();

    private async Task<HttpStatusCode> ReadAsync(string token, string path = "Patient/alice")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await Server.Client.SendAsync(request)).StatusCode;
    }

    private async Task<string?> RefreshErrorAsync(SmartSession session, string clientId = "demo-app")
    {
        var response = await new SmartApp(Server, clientId).RefreshAsync(session.Tokens.RefreshToken!);
        return (await response.BodyAsync())["error"]?.GetValue<string>();
    }

    [Fact]
    public async Task A_user_added_with_the_cli_signs_in_is_listed_and_lock_unlock_and_delete_take_effect_at_the_server()
    {
        using var cli = new CliRunner { Input = "erin-secret-pass\n" };
        (await AdminAsync(cli, "users", "add", "erin", "--password-stdin", "--role", "patient", "--fhir-user", "Patient/alice")).ShouldSucceed()
            .Out.ShouldContain("Added user erin (patient, Patient/alice)");

        var session = await SignInAsync("erin", "erin-secret-pass");
        session.Tokens.FhirUser.ShouldBe(Server.FhirBase + "/Patient/alice");
        (await ReadAsync(session.Tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);

        var list = (await AdminAsync(cli, "users", "list", "--json")).ShouldSucceed().Json.AsArray();
        var erin = list.Single(u => u!["name"]!.GetValue<string>() == "erin")!;
        erin["roles"]![0]!.GetValue<string>().ShouldBe("patient");
        erin["locked"]!.GetValue<bool>().ShouldBeFalse();
        list.Select(u => u!["name"]!.GetValue<string>()).ShouldContain("carol");
        (await AdminAsync(cli, "users", "list")).ShouldSucceed().Out.ShouldStartWith("NAME");

        (await AdminAsync(cli, "users", "lock", "erin")).ShouldSucceed().Out.ShouldContain("Locked user erin; revoked");
        await Task.Delay(1100); // the resource server reuses a validated token for up to a second
        (await ReadAsync(session.Tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshErrorAsync(session)).ShouldBe("invalid_grant");
        await Should.ThrowAsync<InvalidOperationException>(() => SignInAsync("erin", "erin-secret-pass")); // stays on the login page
        (await AdminAsync(cli, "users", "list", "--json")).Json.AsArray().Single(u => u!["name"]!.GetValue<string>() == "erin")!["locked"]!.GetValue<bool>().ShouldBeTrue();

        (await AdminAsync(cli, "users", "unlock", "erin")).ShouldSucceed();
        var again = await SignInAsync("erin", "erin-secret-pass");

        (await AdminAsync(cli, "users", "delete", "erin")).ShouldSucceed().Out.ShouldContain("Deleted user erin");
        await Task.Delay(1100);
        (await ReadAsync(again.Tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshErrorAsync(again)).ShouldBe("invalid_grant");
        (await AdminAsync(cli, "users", "delete", "erin")).ShouldFailWith(ExitCodes.Refused, "no user named erin");
    }

    [Fact]
    public async Task Bad_admin_input_is_refused_with_one_line()
    {
        using var cli = new CliRunner();
        (await AdminAsync(cli, "users", "add", "frank", "--password", "short")).ShouldFailWith(ExitCodes.Refused, "at least 8");
        (await AdminAsync(cli, "users", "add", "frank", "--password", "frank-long-pass", "--role", "king")).ShouldFailWith(ExitCodes.Usage, "--role");
        (await AdminAsync(cli, "users", "add", "carol", "--password", "another-pass-123", "--role", "clinician")).ShouldFailWith(ExitCodes.Refused, "carol");
        (await AdminAsync(cli, "clients", "add", "--name", "No redirect", "--public")).ShouldFailWith(ExitCodes.Refused, "redirect");
        (await AdminAsync(cli, "clients", "add", "--name", "Two ways", "--public", "--secret")).ShouldFailWith(ExitCodes.Usage, "say how the client authenticates");
        (await AdminAsync(cli, "clients", "delete", "no-such-client")).ShouldFailWith(ExitCodes.Refused, "no-such-client");
        (await cli.RunAsync("users", "list", "--data", Path.Combine(cli.Home, "nowhere"))).ShouldFailWith(ExitCodes.Usage, "no Ignis database");
    }

    [Fact]
    public async Task A_public_client_added_through_the_registry_signs_in_and_deleting_it_revokes_its_tokens()
    {
        using var cli = new CliRunner();
        var added = (await AdminAsync(cli, "clients", "add", "--name", "CLI native app", "--public", "--redirect-uri", "http://127.0.0.1/callback", "--json")).ShouldSucceed().Json;
        var clientId = added["clientId"]!.GetValue<string>();
        added["clientSecret"].ShouldBeNull();
        var listed = (await AdminAsync(cli, "clients", "list", "--json")).ShouldSucceed().Json.AsArray().Single(c => c!["clientId"]!.GetValue<string>() == clientId)!;
        listed["type"]!.GetValue<string>().ShouldBe("public");
        listed["name"]!.GetValue<string>().ShouldBe("CLI native app");
        listed["grants"]!.AsArray().Select(g => g!.GetValue<string>()).ShouldBe(["authorization_code", "refresh_token"], ignoreOrder: true);
        (await AdminAsync(cli, "clients", "list")).ShouldSucceed().Out.ShouldContain("CLI native app");

        var session = await SignInAsync("carol", "carol-demo-pass", clientId);
        (await ReadAsync(session.Tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);

        (await AdminAsync(cli, "clients", "delete", clientId)).ShouldSucceed().Out.ShouldContain($"Deleted client {clientId}; its tokens and authorizations are revoked");
        await Task.Delay(1100);
        (await ReadAsync(session.Tokens.AccessToken)).ShouldBe(HttpStatusCode.Unauthorized);
        (await RefreshErrorAsync(session, clientId)).ShouldNotBeNull();
        (await AdminAsync(cli, "clients", "list")).ShouldSucceed().Out.ShouldNotContain(clientId);
    }

    [Fact]
    public async Task A_backend_client_registered_with_its_jwks_gets_a_token_from_ignis_token_with_its_pem_key()
    {
        using var cli = new CliRunner();
        using var rsa = RSA.Create(2048);
        var pem = cli.PathIn("svc.pem");
        await File.WriteAllTextAsync(pem, rsa.ExportPkcs8PrivateKeyPem());
        var jwks = cli.PathIn("svc.jwks.json");
        await File.WriteAllTextAsync(jwks, new JsonObject { ["keys"] = new JsonArray(ClientAssertionKey.FromPem(rsa.ExportPkcs8PrivateKeyPem()).PublicJwk()) }.ToJsonString());
        var clientId = (await AdminAsync(cli, "clients", "add", "--name", "CLI backend", "--jwks", jwks, "--scope", "system/*.rs", "--grant", "client_credentials", "--json"))
            .ShouldSucceed().Json["clientId"]!.GetValue<string>();

        var result = (await cli.RunAsync("token", "--server", Server.FhirBase, "--client-id", clientId, "--key", pem)).ShouldSucceed();

        var token = result.Out.Trim();
        token.Split('.').Length.ShouldBe(3);
        (await ReadAsync(token, "Patient/dave")).ShouldBe(HttpStatusCode.OK);
        var json = (await cli.RunAsync("token", "--server", Server.FhirBase, "--client-id", clientId, "--key", pem, "--json")).ShouldSucceed().Json;
        json["scope"]!.GetValue<string>().ShouldBe("system/*.rs");
        json["alg"]!.GetValue<string>().ShouldBe("RS384");

        using var other = RSA.Create(2048);
        await File.WriteAllTextAsync(pem, other.ExportPkcs8PrivateKeyPem());
        (await cli.RunAsync("token", "--server", Server.FhirBase, "--client-id", clientId, "--key", pem)).ShouldFailWith(ExitCodes.Refused, "invalid_client");
    }
}

/// <summary>Commands that need a server of their own: key rotation with a restart, and creating a database.</summary>
public sealed class CliServerLifecycleTests
{
    [Fact]
    public async Task After_keys_rotate_and_a_restart_new_tokens_use_the_new_key_and_old_tokens_still_work()
    {
        var data = Directory.CreateTempSubdirectory("ignis-rotate-").FullName;
        try
        {
            string before, oldKid;
            Uri origin;
            await using (var server = await IgnisServer.StartInAsync(data, ownsData: false, "--demo"))
            {
                origin = server.Origin;
                before = await BackendTokenAsync(server);
                oldKid = SmartApp.JwtPart(before, 0)["kid"]!.GetValue<string>();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

            using var cli = new CliRunner();
            var rotated = (await cli.RunAsync("keys", "rotate", "--data", data, "--json")).ShouldSucceed().Json;
            rotated["retiredKeyId"]!.GetValue<string>().ShouldBe(oldKid);
            var newKid = rotated["newKeyId"]!.GetValue<string>();
            newKid.ShouldNotBe(oldKid);

            // The same origin after the restart: tokens are bound to it (iss, aud).
            await using (var server = await IgnisServer.StartInAsync(data, ownsData: false, "--urls", origin.GetLeftPart(UriPartial.Authority)))
            {
                var after = await BackendTokenAsync(server);
                SmartApp.JwtPart(after, 0)["kid"]!.GetValue<string>().ShouldBe(newKid);
                using var http = new HttpClient();
                var jwks = JsonNode.Parse(await http.GetStringAsync(new Uri(server.Origin, "/oauth/jwks")))!["keys"]!.AsArray().Select(k => k!["kid"]!.GetValue<string>()).ToList();
                jwks.ShouldContain(oldKid);
                jwks.ShouldContain(newKid);
                foreach (var token in new[] { before, after })
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/alice");
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    (await server.Client.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.OK);
                }
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

            // A second rotation with --keep 1 drops the oldest retired key.
            var second = (await cli.RunAsync("keys", "rotate", "--data", data, "--json")).ShouldSucceed().Json;
            second["deleted"]!.AsArray().Count.ShouldBe(1);
            Directory.GetFiles(Path.Combine(data, "keys"), "signing-rsa.retired-*.pem").Length.ShouldBe(1);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Db_migrate_creates_a_database_the_server_then_opens_and_a_second_run_has_nothing_to_do()
    {
        var data = Directory.CreateTempSubdirectory("ignis-migrate-").FullName;
        try
        {
            using var cli = new CliRunner();
            var created = (await cli.RunAsync("db", "migrate", "--data", data, "--json")).ShouldSucceed().Json;
            created["created"]!.GetValue<bool>().ShouldBeTrue();
            created["fhirSchemaFrom"]!.GetValue<int>().ShouldBe(0);
            created["authMigrationsApplied"]!.GetValue<int>().ShouldBeGreaterThan(0);
            var again = (await cli.RunAsync("db", "migrate", "--data", data)).ShouldSucceed().Out;
            again.ShouldContain("Upgraded");
            again.ShouldContain("0 auth migration(s) applied");

            await using var server = await IgnisServer.StartInAsync(data, ownsData: false, IgnisServer.Open);
            (await server.Client.GetAsync("metadata")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> BackendTokenAsync(IgnisServer server)
    {
        var body = await SmartApp.PostFormAsync(server, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" },
            ("demo-backend", "demo-backend-secret"));
        return body["access_token"]?.GetValue<string>() ?? throw new InvalidOperationException(body.ToJsonString());
    }
}
