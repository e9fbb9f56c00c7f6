using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Registration;

/// <summary>Open registration (demo mode): RFC 7591 registration, its metadata rules and the client information response.</summary>
public sealed class DynamicRegistrationTests(DynamicRegistrationTests.Fixture fixture) : IClassFixture<DynamicRegistrationTests.Fixture>
{
    public sealed class Fixture() : ConfiguredServerFixture();

    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task A_confidential_client_gets_its_secret_once_and_the_server_keeps_only_a_hash()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = await Registrations.RegisterAsync(Server, """
            {"client_name":"Scheduler","redirect_uris":["https://scheduler.example/callback"],
             "grant_types":["authorization_code","refresh_token"],"scope":"launch/patient patient/*.rs offline_access",
             "contacts":["ops@scheduler.example"],"logo_uri":"https://scheduler.example/logo.png","launch_uri":"https://scheduler.example/launch"}
            """);
        var clientId = body["client_id"].Str();
        var secret = body["client_secret"].Str();
        secret.Length.ShouldBeGreaterThanOrEqualTo(40);
        body["client_id_issued_at"]!.GetValue<long>().ShouldBeInRange(before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        body["client_secret_expires_at"]!.GetValue<long>().ShouldBe(0);
        body["token_endpoint_auth_method"].Str().ShouldBe("client_secret_basic");
        body["response_types"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["code"]);
        body["application_type"].Str().ShouldBe("web");
        body["registration_client_uri"].Str().ShouldBe($"{Server.Origin.GetLeftPart(UriPartial.Authority)}/oauth/register/{clientId}");
        body["registration_access_token"].Str().ShouldNotBeNullOrEmpty();
        body["contacts"]!.AsArray().Single()!.GetValue<string>().ShouldBe("ops@scheduler.example");
        body["launch_uri"].Str().ShouldBe("https://scheduler.example/launch");

        // Shown once: reading the registration back gives neither the secret nor the registration token.
        var read = await Registrations.ManageAsync(HttpMethod.Get, body["registration_client_uri"].Str(), body["registration_access_token"].Str());
        var again = await read.BodyAsync();
        again["client_secret"].ShouldBeNull();
        again["registration_access_token"].ShouldBeNull();
        again["client_name"].Str().ShouldBe("Scheduler");

        // Stored hashed, the registration token too.
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var row = await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().SingleAsync(a => a.ClientId == clientId);
        row.ClientSecret.ShouldNotBeNullOrEmpty();
        row.ClientSecret.ShouldNotContain(secret);
        row.Properties!.ShouldNotContain(body["registration_access_token"].Str());
    }

    [Fact]
    public async Task A_backend_client_authenticates_with_the_secret_it_was_given_by_basic_or_post()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata
        {
            ClientName = "Nightly export", GrantTypes = ["client_credentials"], Scope = "system/Patient.rs", TokenEndpointAuthMethod = "client_secret_post",
        });
        var clientId = result.Client!.ClientId;
        var basic = await Registrations.ClientCredentialsAsync(Server, clientId, result.ClientSecret!, "system/Patient.rs");
        basic.StatusCode.ShouldBe(HttpStatusCode.OK, await basic.Content.ReadAsStringAsync());
        var post = await Registrations.TokenAsync(Server, new()
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = result.ClientSecret!, ["scope"] = "system/Patient.rs",
        });
        post.StatusCode.ShouldBe(HttpStatusCode.OK);
        var token = (await post.BodyAsync())["access_token"].Str();
        (await Registrations.FhirReadAsync(Server, token)).ShouldBe(HttpStatusCode.OK);
        var wrong = await Registrations.ClientCredentialsAsync(Server, clientId, "not-the-secret", "system/Patient.rs");
        (await wrong.ErrorAsync()).ShouldBe("invalid_client");
    }

    [Fact]
    public async Task A_public_native_client_registers_without_a_secret_and_completes_a_launch_on_any_loopback_port()
    {
        var body = await Registrations.RegisterAsync(Server, """
            {"client_name":"Pocket chart","redirect_uris":["http://127.0.0.1/callback","com.example.pocket:/oauth"],
             "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}
            """);
        body["client_secret"].ShouldBeNull();
        body["client_secret_expires_at"].ShouldBeNull();
        body["application_type"].Str().ShouldBe("native");

        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server, body["client_id"].Str(), "http://127.0.0.1:49321/callback");
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient patient/*.rs offline_access");
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        tokens["refresh_token"].Str().ShouldNotBeNullOrEmpty();
        (await Registrations.FhirReadAsync(Server, tokens["access_token"].Str())).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_private_key_jwt_client_registers_with_inline_keys_or_a_jwks_uri_and_gets_no_secret()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var inline = await Registrations.RegisterAsync(Server, new JsonObject
        {
            ["client_name"] = "Inline keys", ["grant_types"] = new JsonArray("client_credentials"),
            ["token_endpoint_auth_method"] = "private_key_jwt", ["jwks"] = Registrations.Jwks(ec),
        }.ToJsonString());
        inline["client_secret"].ShouldBeNull();
        var key = inline["jwks"]!["keys"]![0]!;
        key["x"].Str().ShouldBe(Registrations.Jwks(ec)["keys"]![0]!["x"].Str());
        key.AsObject().Select(p => p.Key).ShouldBe(["crv", "kid", "kty", "use", "x", "y"], ignoreOrder: true);

        var byUri = await Registrations.RegisterAsync(Server, """
            {"client_name":"Keys by URI","grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt",
             "jwks_uri":"https://backend.example/.well-known/jwks.json"}
            """);
        byUri["client_secret"].ShouldBeNull();
        byUri["jwks_uri"].Str().ShouldBe("https://backend.example/.well-known/jwks.json");
        var stored = await Registrations.WithRegistryAsync(Server, r => r.FindAsync(byUri["client_id"].Str()));
        stored!.Metadata.JwksUri.ShouldBe("https://backend.example/.well-known/jwks.json");
    }

    public static TheoryData<string, string, string> BadMetadata => new()
    {
        { "http redirect to a remote host", """{"redirect_uris":["http://app.example/cb"]}""", "invalid_redirect_uri" },
        { "redirect with a fragment", """{"redirect_uris":["https://app.example/cb#x"]}""", "invalid_redirect_uri" },
        { "relative redirect", """{"redirect_uris":["/cb"]}""", "invalid_redirect_uri" },
        { "javascript: redirect", """{"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri" },
        { "private-use scheme that is not a reverse domain", """{"redirect_uris":["myapp:/cb"],"token_endpoint_auth_method":"none"}""", "invalid_redirect_uri" },
        { "redirect with user information", """{"redirect_uris":["https://user:pw@app.example/cb"]}""", "invalid_redirect_uri" },
        { "no redirect for the code grant", """{"client_name":"x"}""", "invalid_redirect_uri" },
        { "web app with a loopback redirect", """{"redirect_uris":["http://127.0.0.1/cb"],"application_type":"web"}""", "invalid_redirect_uri" },
        { "redirect_uris not an array", """{"redirect_uris":"https://app.example/cb"}""", "invalid_client_metadata" },
        { "code grant with the token response type", """{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}""", "invalid_client_metadata" },
        { "code response type without the code grant", """{"grant_types":["client_credentials"],"response_types":["code"]}""", "invalid_client_metadata" },
        { "unknown grant type", """{"grant_types":["urn:example:magic"]}""", "invalid_client_metadata" },
        { "password grant", """{"grant_types":["password"]}""", "invalid_client_metadata" },
        { "implicit grant", """{"redirect_uris":["https://app.example/cb"],"grant_types":["implicit"],"response_types":["token"],"token_endpoint_auth_method":"none"}""", "invalid_client_metadata" },
        { "refresh_token alone", """{"grant_types":["refresh_token"]}""", "invalid_client_metadata" },
        { "unsupported auth method", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_jwt"}""", "invalid_client_metadata" },
        { "client_credentials without authentication", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}""", "invalid_client_metadata" },
        { "jwks and jwks_uri together", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://k.example/jwks","jwks":{"keys":[]}}""", "invalid_client_metadata" },
        { "private_key_jwt without keys", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}""", "invalid_client_metadata" },
        { "jwks_uri over http to a remote host", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"http://k.example/jwks"}""", "invalid_client_metadata" },
        { "jwks without keys", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[]}}""", "invalid_client_metadata" },
        { "symmetric key in jwks", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}""", "invalid_client_metadata" },
        { "RSA key with a broken modulus", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"RSA","n":"!!not base64!!","e":"AQAB"}]}}""", "invalid_client_metadata" },
        { "EC point not on the curve", """{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}]}}""", "invalid_client_metadata" },
        { "unknown scope", """{"redirect_uris":["https://app.example/cb"],"scope":"patient/*.rs everything"}""", "invalid_client_metadata" },
        { "system scope without client_credentials", """{"redirect_uris":["https://app.example/cb"],"scope":"system/*.rs"}""", "invalid_client_metadata" },
        { "logo over http to a remote host", """{"redirect_uris":["https://app.example/cb"],"logo_uri":"http://app.example/logo.png"}""", "invalid_client_metadata" },
        { "client_name not a string", """{"redirect_uris":["https://app.example/cb"],"client_name":42}""", "invalid_client_metadata" },
        { "not a JSON object", """["redirect_uris"]""", "invalid_client_metadata" },
        { "not JSON", """redirect_uris=https://app.example/cb""", "invalid_client_metadata" },
    };

    [Theory]
    [MemberData(nameof(BadMetadata))]
    public async Task Bad_metadata_is_refused_with_the_rfc_7591_error(string defect, string json, string error)
    {
        var before = await CountClientsAsync();
        var response = await Registrations.PostAsync(Server, json);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, defect + ": " + text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var body = JsonNode.Parse(text)!;
        body["error"].Str().ShouldBe(error, defect);
        body["error_description"].Str().ShouldNotBeNullOrEmpty();
        (await CountClientsAsync()).ShouldBe(before, defect);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Keys_with_private_parts_or_too_short_are_refused(bool privateParts)
    {
        using var rsa = RSA.Create(privateParts ? 2048 : 1024);
        var response = await Registrations.PostAsync(Server, new JsonObject
        {
            ["grant_types"] = new JsonArray("client_credentials"), ["token_endpoint_auth_method"] = "private_key_jwt",
            ["jwks"] = Registrations.Jwks(rsa, includePrivate: privateParts),
        }.ToJsonString());
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorAsync()).ShouldBe("invalid_client_metadata");
    }

    [Fact]
    public async Task A_client_asking_for_system_scopes_without_an_administrator_is_held_until_approved()
    {
        var body = await Registrations.RegisterAsync(Server, """
            {"client_name":"Bulk reader","grant_types":["client_credentials"],"scope":"system/*.rs"}
            """);
        body["ignis_status"].Str().ShouldBe("pending_approval");
        var clientId = body["client_id"].Str();
        var held = await Registrations.ClientCredentialsAsync(Server, clientId, body["client_secret"].Str());
        held.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await held.ErrorAsync()).ShouldBe("unauthorized_client");

        (await Registrations.WithRegistryAsync(Server, r => r.ApproveAsync(clientId))).Client!.Status.ShouldBe(ClientStatus.Active);
        var approved = await Registrations.ClientCredentialsAsync(Server, clientId, body["client_secret"].Str());
        approved.StatusCode.ShouldBe(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Legacy_grants_cannot_be_enabled_while_they_are_off_server_wide()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { RedirectUris = ["https://app.example/cb"], TokenEndpointAuthMethod = "none" });
        var enable = await Registrations.WithRegistryAsync(Server, r => r.SetLegacyGrantAsync(result.Client!.ClientId, LegacyGrant.Password, enabled: true));
        enable.Error!.Code.ShouldBe("invalid_request");
        enable.Error.Description.ShouldContain("Ignis:Auth:LegacyGrants:Password");
        // Not even an administrator can register them while they are off.
        var direct = await Registrations.WithRegistryAsync(Server, r => r.RegisterAsync(
            new ClientMetadata { GrantTypes = ["password"], TokenEndpointAuthMethod = "none" }, Registrant.Administrator("a")));
        direct.Error!.Code.ShouldBe("invalid_client_metadata");
        // Off server-wide, the grant does not exist at the token endpoint.
        var password = await Registrations.TokenAsync(Server, new()
        {
            ["grant_type"] = "password", ["client_id"] = "demo-app", ["username"] = "alice", ["password"] = "alice-demo-pass",
        });
        (await password.ErrorAsync()).ShouldBe("unsupported_grant_type");
    }

    [Fact]
    public async Task Discovery_names_the_registration_endpoint_and_no_legacy_grant_while_they_are_off()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        var origin = Server.Origin.GetLeftPart(UriPartial.Authority);
        var openid = JsonNode.Parse(await http.GetStringAsync("/.well-known/openid-configuration"))!;
        openid["registration_endpoint"].Str().ShouldBe(origin + "/oauth/register");
        var smart = JsonNode.Parse(await http.GetStringAsync("/fhir/.well-known/smart-configuration"))!;
        smart["registration_endpoint"].Str().ShouldBe(origin + "/oauth/register");
        foreach (var doc in new[] { openid, smart })
        {
            doc["grant_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldNotContain("password");
            doc["grant_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldNotContain("implicit");
            doc["response_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldNotContain("token");
        }
    }

    private async Task<int> CountClientsAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AuthDbContext>()
            .Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().CountAsync();
    }
}
