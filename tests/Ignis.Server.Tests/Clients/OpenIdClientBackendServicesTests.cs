using System.Text.Json.Nodes;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Clients;

/// <summary>
/// SMART Backend Services with a third-party client library: openid-client (npm) signs ES384 private_key_jwt
/// assertions with a key made here, gets two client_credentials tokens (a new jti each) and reads FHIR data of
/// every patient with the system scope (tests/clients/backend-services.mjs).
/// </summary>
public sealed class OpenIdClientBackendServicesTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Theory]
    [InlineData("ES384")]
    [InlineData("RS384")]
    public async Task Openid_client_gets_backend_tokens_with_private_key_jwt_and_reads_every_patient(string alg)
    {
        var folder = NodeScripts.Folder();
        await NodeScripts.EnsureInstalledAsync(folder);
        var key = ClientKey.Create(alg);
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key), scopes: ["system/Patient.rs", "system/Observation.rs"]);

        using var node = NodeScripts.Start("node", folder, new Dictionary<string, string> { ["IGNIS_CLIENT_JWK"] = key.PrivateJwk().ToJsonString() },
            "backend-services.mjs", Server.Origin.ToString(), clientId, "system/Patient.rs system/Observation.rs",
            "Patient?_count=100", "Observation?subject=Patient/dave&_count=5");
        node.StandardInput.Close();
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await node.WaitForExitAsync(timeout.Token);
        var text = await stdout;
        node.ExitCode.ShouldBe(0, text + await stderr);
        var result = JsonNode.Parse(text)!;

        result["discovery"]!["token_endpoint"].Str().ShouldBe(BackendClients.TokenEndpoint(Server));
        var tokens = result["tokens"]!.AsArray();
        tokens.Count.ShouldBe(2);
        foreach (var token in tokens)
        {
            token!["token_type"].Str().ShouldBe("bearer", StringCompareShould.IgnoreCase);
            token["scope"].Str().Split(' ').ShouldBe(["system/Patient.rs", "system/Observation.rs"], ignoreOrder: true);
            token["has_refresh_token"]!.GetValue<bool>().ShouldBeFalse();
        }
        result["distinct_access_tokens"]!.GetValue<int>().ShouldBe(2);

        var reads = result["reads"]!.AsArray();
        reads[0]!["status"]!.GetValue<int>().ShouldBe(200, reads[0]!.ToJsonString());
        var patients = reads[0]!["body"]!["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()).ToList();
        patients.ShouldContain("alice");
        patients.ShouldContain("dave");
        reads[1]!["status"]!.GetValue<int>().ShouldBe(200, reads[1]!.ToJsonString());
        reads[1]!["body"]!["entry"]!.AsArray().ShouldAllBe(e => e!["resource"]!["subject"]!["reference"]!.GetValue<string>() == "Patient/dave");
    }
}
