using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

public sealed class DiscoveryTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Smart_configuration_has_every_required_and_recommended_field_with_absolute_urls()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/fhir/.well-known/smart-configuration");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var response = await Server.Client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var doc = await response.BodyAsync();
        var origin = Server.Origin.GetLeftPart(UriPartial.Authority);

        doc["issuer"].Str().ShouldBe(origin);
        foreach (var (field, path) in new[]
                 {
                     ("jwks_uri", "/oauth/jwks"), ("authorization_endpoint", "/oauth/authorize"), ("token_endpoint", "/oauth/token"),
                     ("introspection_endpoint", "/oauth/introspect"), ("revocation_endpoint", "/oauth/revoke"),
                     ("registration_endpoint", "/oauth/register"), ("management_endpoint", "/account/apps"),
                 })
            doc[field].Str().ShouldBe(origin + path, field);
        doc["code_challenge_methods_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["S256"]);
        Strings(doc["grant_types_supported"]).ShouldBe(["authorization_code", "client_credentials", "refresh_token"], ignoreOrder: true);
        Strings(doc["response_types_supported"]).ShouldContain("code");
        Strings(doc["token_endpoint_auth_methods_supported"]).ShouldContain("client_secret_basic");
        Strings(doc["scopes_supported"]).ShouldContain("launch/patient");
        Strings(doc["scopes_supported"]).ShouldContain("online_access");
        Strings(doc["capabilities"]).ShouldBe(
        [
            "launch-ehr", "launch-standalone", "authorize-post", "client-public", "client-confidential-symmetric",
            "client-confidential-asymmetric", "context-passthrough-banner", "context-passthrough-style", "context-ehr-patient",
            "context-ehr-encounter", "context-standalone-patient", "context-standalone-encounter", "permission-offline",
            "permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2", "sso-openid-connect",
        ], ignoreOrder: true);
    }

    [Fact]
    public async Task Openid_configuration_names_the_origin_as_issuer_and_publishes_an_RS256_key()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        var doc = JsonNode.Parse(await http.GetStringAsync("/.well-known/openid-configuration"))!;
        var origin = Server.Origin.GetLeftPart(UriPartial.Authority);
        doc["issuer"].Str().TrimEnd('/').ShouldBe(origin);
        doc["jwks_uri"].Str().ShouldBe(origin + "/oauth/jwks");
        doc["userinfo_endpoint"].Str().ShouldBe(origin + "/oauth/userinfo");
        doc["end_session_endpoint"].Str().ShouldBe(origin + "/oauth/logout");
        Strings(doc["code_challenge_methods_supported"]).ShouldBe(["S256"]);

        var jwks = JsonNode.Parse(await http.GetStringAsync("/oauth/jwks"))!;
        var key = jwks["keys"]!.AsArray().Single()!;
        key["kty"].Str().ShouldBe("RSA");
        key["alg"].Str().ShouldBe("RS256");
        key["kid"].Str().ShouldNotBeNullOrEmpty();
        key["d"].ShouldBeNull();
    }

    [Fact]
    public async Task Metadata_carries_the_smart_oauth_uris_and_the_smart_on_fhir_service()
    {
        var cs = await (await Server.Client.GetAsync("metadata")).BodyAsync();
        var security = cs["rest"]![0]!["security"]!;
        security["service"]![0]!["coding"]![0]!["code"].Str().ShouldBe("SMART-on-FHIR");
        var uris = security["extension"]!.AsArray().Single(e => e!["url"].Str() == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")!;
        var origin = Server.Origin.GetLeftPart(UriPartial.Authority);
        var map = uris["extension"]!.AsArray().ToDictionary(e => e!["url"].Str(), e => e!["valueUri"].Str());
        map.ShouldBe(new Dictionary<string, string>
        {
            ["authorize"] = origin + "/oauth/authorize",
            ["token"] = origin + "/oauth/token",
            ["register"] = origin + "/oauth/register",
            ["manage"] = origin + "/account/apps",
            ["introspect"] = origin + "/oauth/introspect",
            ["revoke"] = origin + "/oauth/revoke",
        }, ignoreOrder: true);
    }

    [Fact]
    public async Task Pages_carry_security_headers()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        var response = await http.GetAsync("/account/login");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("frame-ancestors 'none'");
    }

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(v => v!.GetValue<string>())];
}
