using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>A demo server whose jwks_uri re-fetch has no minimum interval, and a loopback host serving client key sets.</summary>
public sealed class BackendFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;
    public JwksHost Jwks { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:ClientAssertions:JwksUriRefetchInterval=00:00:00");
        Jwks = await JwksHost.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Jwks.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// SMART Backend Services: client_credentials with private_key_jwt (RFC 7523) and with client secrets, every
/// assertion rule and its failure, keys inline and by jwks_uri, and system/ scopes at the FHIR API.
/// </summary>
public sealed class BackendServicesTests(BackendFixture fixture) : IClassFixture<BackendFixture>
{
    private IgnisServer Server => fixture.Server;
    private string Aud => BackendClients.TokenEndpoint(Server);

    private async Task<(ClientKey Key, string ClientId)> InlineClientAsync(string alg = "ES384", string[]? scopes = null)
    {
        var key = ClientKey.Create(alg);
        return (key, await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key), scopes: scopes));
    }

    private static void ShouldFail((int Status, JsonNode Body) result, string description)
    {
        result.Status.ShouldBe(401, result.Body.ToJsonString());
        result.Body["error"].Str().ShouldBe(Errors.InvalidClient, result.Body.ToJsonString());
        result.Body["error_description"].Str().ShouldStartWith(description, customMessage: result.Body.ToJsonString());
        result.Body["access_token"].ShouldBeNull();
    }

    private async Task<HttpResponseMessage> FhirGetAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("RS384")]
    [InlineData("ES384")]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public async Task A_private_key_jwt_client_gets_a_token_with_each_smart_algorithm_and_no_refresh_token(string alg)
    {
        var (key, clientId) = await InlineClientAsync(alg);
        var (status, body) = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign());
        status.ShouldBe(200, body.ToJsonString());
        body["token_type"].Str().ShouldBe("Bearer", StringCompareShould.IgnoreCase);
        body["scope"].Str().ShouldBe("system/*.rs");
        body["expires_in"]!.GetValue<int>().ShouldBeGreaterThan(0);
        body["refresh_token"].ShouldBeNull();
        var claims = SmartApp.JwtPart(body["access_token"].Str(), 1);
        claims["client_id"].Str().ShouldBe(clientId);
        claims["sub"].Str().ShouldBe(clientId);
        claims["aud"]!.ToJsonString().ShouldContain(Server.FhirBase);
    }

    [Fact]
    public async Task The_assertion_may_name_the_client_in_a_client_id_parameter_too()
    {
        var (key, clientId) = await InlineClientAsync();
        var (status, body) = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), clientId: clientId);
        status.ShouldBe(200, body.ToJsonString());
    }

    [Fact]
    public async Task System_scopes_reach_every_patient_v1_v2_and_granular()
    {
        var (key, clientId) = await InlineClientAsync("ES256",
            ["system/Patient.read", "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"]);

        var v1 = (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), "system/Patient.read")).Body["access_token"].Str();
        (await FhirGetAsync("Patient/alice", v1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await FhirGetAsync("Patient/dave", v1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await FhirGetAsync("Observation?_count=5", v1)).ShouldBeOutcomeAsync(403);
        await (await FhirPostAsync("Patient", """{"resourceType":"Patient"}""", v1)).ShouldBeOutcomeAsync(403);

        const string granular = "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
        var lab = (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), granular)).Body["access_token"].Str();
        var bundle = await (await FhirGetAsync("Observation?_count=200", lab)).BodyAsync();
        var observations = (bundle["entry"]?.AsArray() ?? []).Select(e => e!["resource"]!).ToList();
        observations.ShouldNotBeEmpty();
        observations.ShouldAllBe(o => o["category"]!.ToJsonString().Contains("laboratory"));
        observations.Select(o => o["subject"]!["reference"].Str()).Distinct().OrderBy(s => s).ShouldBe(["Patient/alice", "Patient/dave"]);
        await (await FhirGetAsync("Patient/alice", lab)).ShouldBeOutcomeAsync(403);
    }

    private async Task<HttpResponseMessage> FhirPostAsync(string path, string json, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Http.Json(json) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_backend_token_is_stored_like_any_other_and_its_revocation_reaches_the_fhir_api_within_a_second()
    {
        var (key, clientId) = await InlineClientAsync("ES384");
        var token = (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Body["access_token"].Str();
        (await FhirGetAsync("Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var id = SmartApp.JwtPart(token, 1)["oi_tkn_id"].Str();
            var row = await tokens.FindByIdAsync(id);
            row.ShouldNotBeNull();
            (await tokens.GetSubjectAsync(row)).ShouldBe(clientId);
            (await tokens.GetTypeAsync(row)).ShouldBe(TokenTypeIdentifiers.AccessToken);
            (await tokens.HasStatusAsync(row, Statuses.Valid)).ShouldBeTrue();
            (await tokens.GetApplicationIdAsync(row)).ShouldBe(await applications.GetIdAsync((await applications.FindByClientIdAsync(clientId))!));
            (await tokens.GetExpirationDateAsync(row))!.Value.ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(50));
        }
        (await SmartApp.IntrospectAsync(Server, token))["active"]!.GetValue<bool>().ShouldBeTrue();

        // RFC 7009, the client authenticating with an assertion (aud: the token endpoint, or the revocation endpoint itself).
        var otherToken = (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Body["access_token"].Str();
        var revokeUrl = new Uri(Server.Origin, "/oauth/revoke").ToString();
        (await BackendClients.RevokeAsync(Server, otherToken, new Assertion(key, clientId, revokeUrl).Sign())).Status.ShouldBe(200);
        (await SmartApp.IntrospectAsync(Server, otherToken))["active"]!.GetValue<bool>().ShouldBeFalse();
        var revoke = await BackendClients.RevokeAsync(Server, token, new Assertion(key, clientId, Aud).Sign());
        revoke.Status.ShouldBe(200, revoke.Body.ToJsonString());
        (await SmartApp.IntrospectAsync(Server, token))["active"]!.GetValue<bool>().ShouldBeFalse();
        await Task.Delay(1100);
        await (await FhirGetAsync("Patient/dave", token)).ShouldBeOutcomeAsync(401);
    }

    [Fact]
    public async Task A_deleted_client_gets_no_more_tokens_even_right_after_one()
    {
        var (key, clientId) = await InlineClientAsync("ES256");
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            await applications.DeleteAsync((await applications.FindByClientIdAsync(clientId))!);
        }
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign()), ClientAssertionErrors.UnknownIssuer);
    }

    [Fact]
    public async Task Rotated_inline_keys_take_effect_at_once()
    {
        var (old, clientId) = await InlineClientAsync("ES384");
        (await BackendClients.TokenAsync(Server, new Assertion(old, clientId, Aud).Sign())).Status.ShouldBe(200);
        var fresh = ClientKey.Create("RS384");
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var application = (await applications.FindByClientIdAsync(clientId))!;
            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, application);
            descriptor.JsonWebKeySet = new Microsoft.IdentityModel.Tokens.JsonWebKeySet(ClientKey.Jwks(fresh));
            await applications.UpdateAsync(application, descriptor);
        }
        (await BackendClients.TokenAsync(Server, new Assertion(fresh, clientId, Aud).Sign())).Status.ShouldBe(200);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(old, clientId, Aud).Sign()), "No key in the client's registered jwks has the assertion's kid");
    }

    [Fact]
    public async Task No_refresh_token_for_client_credentials_even_when_offline_access_is_granted()
    {
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key), scopes: ["system/*.rs", "offline_access"],
            configure: d => d.Permissions.Add(Permissions.GrantTypes.RefreshToken));
        var (status, body) = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), "system/*.rs offline_access");
        status.ShouldBe(200, body.ToJsonString());
        body["refresh_token"].ShouldBeNull();
    }

    [Fact]
    public async Task A_bad_signature_is_invalid_client()
    {
        var (key, clientId) = await InlineClientAsync("ES384");
        var impostor = ClientKey.Create("ES384", key.Kid);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(impostor)), ClientAssertionErrors.Signature);
    }

    [Fact]
    public async Task A_key_of_another_client_does_not_authenticate()
    {
        var (_, victim) = await InlineClientAsync("ES256");
        var (attackerKey, _) = await InlineClientAsync("ES256");
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(attackerKey, victim, Aud).Sign()), "No key in the client's registered jwks has the assertion's kid");
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(attackerKey, victim, Aud).WithHeader("kid", null).Sign()), ClientAssertionErrors.Signature);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("none")]
    [InlineData("RS512")]
    [InlineData("PS256")]
    public async Task Algorithms_outside_the_allow_list_are_refused(string alg)
    {
        var (key, clientId) = await InlineClientAsync("RS256");
        var assertion = new Assertion(key, clientId, Aud).WithHeader("alg", alg);
        var token = alg switch
        {
            "HS256" => assertion.SignHs256(System.Text.Encoding.UTF8.GetBytes(key.PublicJwk()["n"].Str())),
            "none" => assertion.Unsigned(),
            _ => assertion.Sign(),
        };
        ShouldFail(await BackendClients.TokenAsync(Server, token), ClientAssertionErrors.Algorithm);
    }

    public static TheoryData<string, string> WrongAudiences => new()
    {
        { "issuer", ClientAssertionErrors.WrongAudience },
        { "fhir", ClientAssertionErrors.WrongAudience },
        { "other-host", ClientAssertionErrors.WrongAudience },
        { "missing", ClientAssertionErrors.MissingAudience },
    };

    [Theory]
    [MemberData(nameof(WrongAudiences))]
    public async Task The_audience_must_be_the_token_endpoint_url(string which, string error)
    {
        var (key, clientId) = await InlineClientAsync();
        JsonNode? aud = which switch
        {
            "issuer" => Server.Origin.ToString(),
            "fhir" => Server.FhirBase,
            "other-host" => "https://elsewhere.example/oauth/token",
            _ => null,
        };
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).With("aud", aud).Sign()), error);
    }

    [Fact]
    public async Task The_audience_is_one_string_not_an_array()
    {
        var (key, clientId) = await InlineClientAsync();
        var assertion = new Assertion(key, clientId, Aud).With("aud", new JsonArray(Aud)).Sign();
        ShouldFail(await BackendClients.TokenAsync(Server, assertion), ClientAssertionErrors.AudienceNotString);
    }

    public static TheoryData<string, string> BadLifetimes => new()
    {
        { "exp-too-far", ClientAssertionErrors.ExpirationTooFar },
        { "expired", ClientAssertionErrors.Expired },
        { "no-exp", ClientAssertionErrors.MissingExpiration },
        { "string-exp", ClientAssertionErrors.MissingExpiration },
        { "string-iat", ClientAssertionErrors.DateNotNumeric },
        { "nbf-future", ClientAssertionErrors.NotYetValid },
        { "iat-future", ClientAssertionErrors.IssuedInFuture },
    };

    [Theory]
    [MemberData(nameof(BadLifetimes))]
    public async Task Exp_is_required_in_the_future_and_at_most_five_minutes_ahead(string which, string error)
    {
        var (key, clientId) = await InlineClientAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var assertion = new Assertion(key, clientId, Aud);
        _ = which switch
        {
            "exp-too-far" => assertion.With("exp", now + 10 * 60),
            "expired" => assertion.With("exp", now - 5),
            "no-exp" => assertion.With("exp", null),
            "string-exp" => assertion.With("exp", (now + 60).ToString()),
            "string-iat" => assertion.With("iat", now.ToString()),
            "nbf-future" => assertion.With("nbf", now + 120),
            _ => assertion.With("iat", now + 120),
        };
        ShouldFail(await BackendClients.TokenAsync(Server, assertion.Sign()), error);
    }

    [Fact]
    public async Task Exp_five_minutes_ahead_is_accepted()
    {
        var (key, clientId) = await InlineClientAsync();
        var assertion = new Assertion(key, clientId, Aud).With("exp", DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()).Sign();
        (await BackendClients.TokenAsync(Server, assertion)).Status.ShouldBe(200);
    }

    [Fact]
    public async Task A_jti_is_required()
    {
        var (key, clientId) = await InlineClientAsync();
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).With("jti", null).Sign()), ClientAssertionErrors.MissingJti);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).With("jti", new string('j', 300)).Sign()), ClientAssertionErrors.JtiTooLong);
    }

    [Fact]
    public async Task A_replayed_assertion_is_refused()
    {
        var (key, clientId) = await InlineClientAsync();
        var assertion = new Assertion(key, clientId, Aud).Sign();
        (await BackendClients.TokenAsync(Server, assertion)).Status.ShouldBe(200);
        ShouldFail(await BackendClients.TokenAsync(Server, assertion), ClientAssertionErrors.Replayed);
    }

    [Fact]
    public async Task The_same_jti_from_two_clients_is_two_different_assertions()
    {
        var (keyA, clientA) = await InlineClientAsync();
        var (keyB, clientB) = await InlineClientAsync();
        (await BackendClients.TokenAsync(Server, new Assertion(keyA, clientA, Aud).With("jti", "shared-jti").Sign())).Status.ShouldBe(200);
        (await BackendClients.TokenAsync(Server, new Assertion(keyB, clientB, Aud).With("jti", "shared-jti").Sign())).Status.ShouldBe(200);
    }

    [Fact]
    public async Task Iss_and_sub_must_both_be_the_client_id()
    {
        var (key, clientId) = await InlineClientAsync();
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).With("sub", "someone-else").Sign()), ClientAssertionErrors.SubjectNotIssuer);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), clientId: "demo-backend"), ClientAssertionErrors.IssuerNotClientId);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, "no-such-client", Aud).Sign()), ClientAssertionErrors.UnknownIssuer);
    }

    [Fact]
    public async Task A_kid_not_among_the_registered_keys_is_refused()
    {
        var (key, clientId) = await InlineClientAsync();
        var result = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).WithHeader("kid", "unknown-kid").Sign());
        ShouldFail(result, "No key in the client's registered jwks has the assertion's kid");
    }

    [Fact]
    public async Task An_rsa_key_under_2048_bits_is_not_a_client_key()
    {
        var weak = ClientKey.Create("RS256", rsaBits: 1024);
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(weak));
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(weak, clientId, Aud).Sign()), "The client's registered jwks holds no signing keys");
    }

    [Fact]
    public async Task Without_a_kid_every_registered_key_is_tried()
    {
        var other = ClientKey.Create("RS384");
        var key = ClientKey.Create("ES384");
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(other, key));
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).WithHeader("kid", null).Sign())).Status.ShouldBe(200);
    }

    [Fact]
    public async Task A_client_secret_is_refused_for_a_private_key_jwt_client()
    {
        var (key, clientId) = await InlineClientAsync();
        var post = await BackendClients.PostAsync(Server, new() { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = "guess" });
        ShouldFail(post, ClientAssertionErrors.SecretForKeyClient);
        var basic = await BackendClients.PostAsync(Server, new() { ["grant_type"] = "client_credentials" }, (clientId, "guess"));
        basic.Status.ShouldBe(401, basic.Body.ToJsonString());
        basic.Body["error"].Str().ShouldBe(Errors.InvalidClient);
        basic.Body["error_description"].Str().ShouldBe(ClientAssertionErrors.SecretForKeyClient);
        // An assertion next to a secret is two authentication methods at once (OpenIddict: invalid_request).
        var both = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign(), extra: new Dictionary<string, string> { ["client_secret"] = "guess" });
        both.Body["error"].Str().ShouldBe(Errors.InvalidRequest);
        both.Body["access_token"].ShouldBeNull();
    }

    [Fact]
    public async Task A_secret_client_cannot_switch_to_an_assertion()
    {
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key), method: "client_secret_basic", secret: "a-long-secret-for-tests");
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign()), ClientAssertionErrors.AssertionForSecretClient);
    }

    [Fact]
    public async Task Client_secret_basic_and_client_secret_post_both_authenticate_a_secret_client()
    {
        var basic = await BackendClients.PostAsync(Server, new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }, ("demo-backend", "demo-backend-secret"));
        basic.Status.ShouldBe(200, basic.Body.ToJsonString());
        var post = await BackendClients.PostAsync(Server, new()
        {
            ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds", ["client_id"] = "demo-backend", ["client_secret"] = "demo-backend-secret",
        });
        post.Status.ShouldBe(200, post.Body.ToJsonString());
        post.Body["refresh_token"].ShouldBeNull();
        (await FhirGetAsync("Patient/dave", post.Body["access_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Keys_from_a_jwks_uri_are_fetched_and_cached_within_cache_control()
    {
        var key = ClientKey.Create("ES384");
        var url = fixture.Jwks.Serve(ClientKey.Jwks(key), "max-age=3600");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        for (var i = 0; i < 3; i++)
        {
            var (status, body) = await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign());
            status.ShouldBe(200, body.ToJsonString());
        }
        fixture.Jwks.Fetches(url).ShouldBe(1);
    }

    [Fact]
    public async Task A_jwks_uri_answered_with_no_store_is_fetched_for_every_assertion()
    {
        var key = ClientKey.Create("RS384");
        var url = fixture.Jwks.Serve(ClientKey.Jwks(key), "no-store");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        fixture.Jwks.Fetches(url).ShouldBe(2);
    }

    [Fact]
    public async Task A_jwks_uri_document_is_fetched_again_when_its_max_age_has_passed()
    {
        var key = ClientKey.Create("ES256");
        var url = fixture.Jwks.Serve(ClientKey.Jwks(key), "max-age=1");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        fixture.Jwks.Fetches(url).ShouldBe(1);
        await Task.Delay(1200);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign())).Status.ShouldBe(200);
        fixture.Jwks.Fetches(url).ShouldBe(2);
    }

    [Fact]
    public async Task An_unknown_kid_makes_the_server_fetch_the_jwks_uri_once_more()
    {
        var first = ClientKey.Create("ES384");
        var url = fixture.Jwks.Serve(ClientKey.Jwks(first), "max-age=3600");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        (await BackendClients.TokenAsync(Server, new Assertion(first, clientId, Aud).Sign())).Status.ShouldBe(200);
        fixture.Jwks.Fetches(url).ShouldBe(1);

        // The client rotates: the new key is published, and the cached document (max-age 1 h) does not have it.
        var rotated = ClientKey.Create("RS384");
        fixture.Jwks.Replace(url, ClientKey.Jwks(first, rotated), "max-age=3600");
        var (status, body) = await BackendClients.TokenAsync(Server, new Assertion(rotated, clientId, Aud).Sign());
        status.ShouldBe(200, body.ToJsonString());
        fixture.Jwks.Fetches(url).ShouldBe(2);

        // A kid that is not published anywhere: one more fetch, then invalid_client (never a loop).
        var stranger = ClientKey.Create("ES256");
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(stranger, clientId, Aud).Sign()), "No key in the client's jwks_uri document has the assertion's kid");
        fixture.Jwks.Fetches(url).ShouldBe(3);
    }

    [Fact]
    public async Task A_jku_header_is_honoured_only_when_it_is_the_registered_jwks_uri()
    {
        var key = ClientKey.Create("ES384");
        var url = fixture.Jwks.Serve(ClientKey.Jwks(key), "max-age=3600");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).WithHeader("jku", url).Sign())).Status.ShouldBe(200);

        var elsewhere = fixture.Jwks.Serve(ClientKey.Jwks(key));
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).WithHeader("jku", elsewhere).Sign()), ClientAssertionErrors.JkuNotRegistered);
        fixture.Jwks.Fetches(elsewhere).ShouldBe(0);

        var (inlineKey, inlineClient) = await InlineClientAsync();
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(inlineKey, inlineClient, Aud).WithHeader("jku", url).Sign()), ClientAssertionErrors.JkuNotRegistered);
    }

    [Theory]
    [InlineData("http://jwks.example/keys.json")]
    [InlineData("ftp://127.0.0.1/keys.json")]
    public async Task A_jwks_uri_must_be_https_or_loopback_http(string url)
    {
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: url);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign()), "The client's jwks_uri must be an https URL");
    }

    [Fact]
    public async Task A_jwks_uri_that_fails_is_invalid_client_not_a_server_error()
    {
        var key = ClientKey.Create("ES256");
        var missing = new Uri(fixture.Jwks.Origin, "/nothing-here/jwks.json").ToString();
        var clientId = await BackendClients.RegisterAsync(Server, jwksUri: missing);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, clientId, Aud).Sign()), "The client's jwks_uri answered HTTP 404");

        var garbage = fixture.Jwks.Serve("not json");
        var other = await BackendClients.RegisterAsync(Server, jwksUri: garbage);
        ShouldFail(await BackendClients.TokenAsync(Server, new Assertion(key, other, Aud).Sign()), "The client's jwks_uri did not return a valid JSON Web Key Set");
    }

    [Fact]
    public async Task A_malformed_assertion_is_invalid_client()
    {
        var (_, clientId) = await InlineClientAsync();
        var (status, body) = await BackendClients.TokenAsync(Server, "not.a.jwt", clientId: clientId);
        status.ShouldBe(401);
        body["error"].Str().ShouldBe(Errors.InvalidClient);
    }

    [Fact]
    public async Task A_confidential_authorization_code_client_authenticates_with_private_key_jwt()
    {
        var key = ClientKey.Create("RS384");
        var app = new SmartApp(Server, "asym-" + Guid.NewGuid().ToString("N")[..8], "http://127.0.0.1:51240/callback");
        await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key), scopes: [], clientId: app.ClientId, configure: d =>
        {
            d.Permissions.Clear();
            d.ConsentType = ConsentTypes.Explicit;
            d.RedirectUris.Add(new Uri(app.RedirectUri));
            foreach (var p in (string[])[Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode,
                         Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code])
                d.Permissions.Add(p);
        });
        using var browser = new SmartBrowser(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid fhirUser launch/patient patient/*.rs");

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = app.RedirectUri, ["code_verifier"] = app.Verifier,
        };
        var withoutAuth = await BackendClients.PostAsync(Server, new(form) { ["client_id"] = app.ClientId });
        withoutAuth.Body["error"].Str().ShouldBe(Errors.InvalidClient, withoutAuth.Body.ToJsonString());

        // A failed client authentication does not spend the code; the authenticated exchange succeeds.
        var exchange = await BackendClients.PostAsync(Server, new(form)
        {
            ["client_assertion_type"] = BackendClients.AssertionType,
            ["client_assertion"] = new Assertion(key, app.ClientId, Aud).Sign(),
        });
        exchange.Status.ShouldBe(200, exchange.Body.ToJsonString());
        exchange.Body["patient"].Str().ShouldBe("alice");
        (await FhirGetAsync("Patient/alice", exchange.Body["access_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

/// <summary>The default jwks_uri re-fetch interval: assertions with made-up kids cannot make the server fetch in a loop.</summary>
public sealed class JwksRefetchIntervalTests
{
    [Fact]
    public async Task An_unknown_kid_right_after_a_fetch_does_not_fetch_again()
    {
        await using var server = await IgnisServer.StartAsync();
        await using var jwks = await JwksHost.StartAsync();
        var key = ClientKey.Create("ES384");
        var url = jwks.Serve(ClientKey.Jwks(key), "max-age=3600");
        var clientId = await BackendClients.RegisterAsync(server, jwksUri: url);
        var aud = BackendClients.TokenEndpoint(server);
        (await BackendClients.TokenAsync(server, new Assertion(key, clientId, aud).Sign())).Status.ShouldBe(200);

        for (var i = 0; i < 5; i++)
        {
            var made = await BackendClients.TokenAsync(server, new Assertion(ClientKey.Create("ES384"), clientId, aud).Sign());
            made.Body["error"].Str().ShouldBe(Errors.InvalidClient);
        }
        jwks.Fetches(url).ShouldBe(1);
    }
}
