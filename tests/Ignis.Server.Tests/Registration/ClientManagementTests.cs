using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Registration;

/// <summary>RFC 7592 management, deletion and its effect at the FHIR API, secret rotation, disabling.</summary>
public sealed class ClientManagementTests(ClientManagementTests.Fixture fixture) : IClassFixture<ClientManagementTests.Fixture>
{
    public sealed class Fixture() : ConfiguredServerFixture("--Ignis:Auth:Registration:SecretRotationGracePeriod=00:00:03");

    private IgnisServer Server => fixture.Server;

    private Task<JsonNode> RegisterWebAppAsync(string name = "Chart viewer") => Registrations.RegisterAsync(Server, $$"""
        {"client_name":"{{name}}","redirect_uris":["https://viewer.example/cb"],"grant_types":["authorization_code","refresh_token"],"scope":"patient/*.rs"}
        """);

    [Fact]
    public async Task The_registration_access_token_reads_updates_and_deletes_its_client()
    {
        var body = await RegisterWebAppAsync();
        var uri = body["registration_client_uri"].Str();
        var token = body["registration_access_token"].Str();

        var read = await Registrations.ManageAsync(HttpMethod.Get, uri, token);
        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        read.Headers.CacheControl!.NoStore.ShouldBeTrue();
        (await read.BodyAsync())["client_id"].Str().ShouldBe(body["client_id"].Str());

        var update = await Registrations.ManageAsync(HttpMethod.Put, uri, token, $$"""
            {"client_id":"{{body["client_id"].Str()}}","client_name":"Chart viewer 2","redirect_uris":["https://viewer.example/cb2"],
             "grant_types":["authorization_code"],"registration_client_uri":"ignored","client_id_issued_at":1}
            """);
        var updated = await update.BodyAsync();
        update.StatusCode.ShouldBe(HttpStatusCode.OK, updated.ToJsonString());
        updated["client_name"].Str().ShouldBe("Chart viewer 2");
        updated["redirect_uris"]!.AsArray().Single()!.GetValue<string>().ShouldBe("https://viewer.example/cb2");
        updated["grant_types"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["authorization_code"]);
        // §2.2: fields left out are removed.
        updated["scope"].ShouldBeNull();
        updated["client_id_issued_at"]!.GetValue<long>().ShouldBe(body["client_id_issued_at"]!.GetValue<long>());
        updated["client_secret"].ShouldBeNull(); // still the same secret, not shown again

        var delete = await Registrations.ManageAsync(HttpMethod.Delete, uri, token);
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await Registrations.WithRegistryAsync(Server, r => r.FindAsync(body["client_id"].Str()))).ShouldBeNull();
        // §2.1: the client is gone, so its token no longer works either.
        (await Registrations.ManageAsync(HttpMethod.Get, uri, token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    public static TheoryData<string, string> WrongCredentials => new()
    {
        { "GET", "missing" }, { "GET", "wrong" }, { "GET", "other client's" }, { "GET", "unknown client" }, { "GET", "basic" },
        { "PUT", "missing" }, { "PUT", "wrong" }, { "PUT", "other client's" }, { "PUT", "unknown client" },
        { "DELETE", "missing" }, { "DELETE", "wrong" }, { "DELETE", "other client's" }, { "DELETE", "unknown client" },
    };

    [Theory]
    [MemberData(nameof(WrongCredentials))]
    public async Task Management_without_the_client_s_own_registration_token_is_401(string method, string credential)
    {
        var mine = await RegisterWebAppAsync();
        var other = await RegisterWebAppAsync("Other app");
        var uri = mine["registration_client_uri"].Str();
        string? token = credential switch
        {
            "missing" => null,
            "wrong" => ClientRegistry.NewToken(32),
            "other client's" => other["registration_access_token"].Str(),
            _ => mine["registration_access_token"].Str(),
        };
        if (credential == "unknown client") uri = uri[..uri.LastIndexOf('/')] + "/no-such-client";
        var json = method == "PUT" ? $$"""{"client_id":"{{mine["client_id"].Str()}}","redirect_uris":["https://evil.example/cb"]}""" : null;

        HttpResponseMessage response;
        if (credential == "basic")
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String("a:b"u8.ToArray()));
            response = await http.SendAsync(request);
        }
        else
        {
            response = await Registrations.ManageAsync(new HttpMethod(method), uri, token, json);
        }
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldStartWith("Bearer");
        if (credential == "missing") challenge.ShouldNotContain("error=");
        else if (credential != "basic") challenge.ShouldContain("error=\"invalid_token\"");
        // Nothing changed.
        var still = await Registrations.WithRegistryAsync(Server, r => r.FindAsync(mine["client_id"].Str()));
        still.ShouldNotBeNull();
        still.Metadata.RedirectUris.ShouldBe(["https://viewer.example/cb"]);
    }

    [Fact]
    public async Task An_update_must_name_its_client_and_any_secret_it_sends_must_be_the_current_one()
    {
        var body = await RegisterWebAppAsync();
        var uri = body["registration_client_uri"].Str();
        var token = body["registration_access_token"].Str();
        const string rest = """ "redirect_uris":["https://viewer.example/cb"] """;

        var noId = await Registrations.ManageAsync(HttpMethod.Put, uri, token, "{" + rest + "}");
        noId.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await noId.ErrorAsync()).ShouldBe("invalid_client_metadata");
        var wrongSecret = await Registrations.ManageAsync(HttpMethod.Put, uri, token,
            $$"""{"client_id":"{{body["client_id"].Str()}}","client_secret":"guess",{{rest}}}""");
        (await wrongSecret.ErrorAsync()).ShouldBe("invalid_client_metadata");
        var bad = await Registrations.ManageAsync(HttpMethod.Put, uri, token,
            $$"""{"client_id":"{{body["client_id"].Str()}}","redirect_uris":["http://viewer.example/cb"]}""");
        (await bad.ErrorAsync()).ShouldBe("invalid_redirect_uri");
        var right = await Registrations.ManageAsync(HttpMethod.Put, uri, token,
            $$"""{"client_id":"{{body["client_id"].Str()}}","client_secret":"{{body["client_secret"].Str()}}",{{rest}}}""");
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Switching_to_a_public_client_drops_the_secret_and_switching_back_issues_a_new_one()
    {
        var body = await RegisterWebAppAsync();
        var uri = body["registration_client_uri"].Str();
        var token = body["registration_access_token"].Str();
        var id = body["client_id"].Str();
        var toPublic = await (await Registrations.ManageAsync(HttpMethod.Put, uri, token,
            $$"""{"client_id":"{{id}}","redirect_uris":["https://viewer.example/cb"],"token_endpoint_auth_method":"none"}""")).BodyAsync();
        toPublic["token_endpoint_auth_method"].Str().ShouldBe("none");
        toPublic["client_secret_expires_at"].ShouldBeNull();
        (await Registrations.WithRegistryAsync(Server, r => r.FindAsync(id)))!.HasSecret.ShouldBeFalse();

        var back = await (await Registrations.ManageAsync(HttpMethod.Put, uri, token,
            $$"""{"client_id":"{{id}}","redirect_uris":["https://viewer.example/cb"],"token_endpoint_auth_method":"client_secret_post"}""")).BodyAsync();
        back["client_secret"].Str().ShouldNotBe(body["client_secret"].Str());
        back["client_secret_expires_at"]!.GetValue<long>().ShouldBe(0);
    }

    [Fact]
    public async Task Deleting_a_client_at_its_registration_uri_ends_its_tokens_at_the_fhir_api_within_a_second()
    {
        var body = await Registrations.RegisterAsync(Server, """
            {"client_name":"Doomed app","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none",
             "grant_types":["authorization_code","refresh_token"]}
            """);
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server, body["client_id"].Str(), "http://127.0.0.1:40111/cb");
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "launch/patient patient/*.rs offline_access");
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        var access = tokens["access_token"].Str();
        (await Registrations.FhirReadAsync(Server, access)).ShouldBe(HttpStatusCode.OK); // now in the validated-token cache

        var delete = await Registrations.ManageAsync(HttpMethod.Delete, body["registration_client_uri"].Str(), body["registration_access_token"].Str());
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var deleted = Stopwatch.StartNew();
        await ShouldBeRefusedWithinASecondAsync(access, deleted);
        (await SmartApp.IntrospectAsync(Server, access))["active"]!.GetValue<bool>().ShouldBeFalse();
        // The client is gone: its refresh token cannot be redeemed (RFC 6749 §5.2 invalid_client).
        var refresh = await app.RefreshAsync(tokens["refresh_token"].Str());
        (await refresh.ErrorAsync()).ShouldBe("invalid_client");
    }

    [Fact]
    public async Task Deleting_a_backend_client_through_the_registry_ends_its_tokens_within_a_second()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { GrantTypes = ["client_credentials"], Scope = "system/*.rs" });
        var response = await Registrations.ClientCredentialsAsync(Server, result.Client!.ClientId, result.ClientSecret!);
        var access = (await response.BodyAsync())["access_token"].Str();
        (await Registrations.FhirReadAsync(Server, access)).ShouldBe(HttpStatusCode.OK);

        (await Registrations.WithRegistryAsync(Server, r => r.DeleteAsync(result.Client.ClientId))).Succeeded.ShouldBeTrue();
        await ShouldBeRefusedWithinASecondAsync(access, Stopwatch.StartNew());
        (await Registrations.WithRegistryAsync(Server, r => r.DeleteAsync(result.Client.ClientId))).Error!.Code.ShouldBe("not_found");
    }

    /// <summary>The FHIR API refuses the token no later than one second after the deletion (it may sooner).</summary>
    private async Task ShouldBeRefusedWithinASecondAsync(string access, Stopwatch sinceDeletion)
    {
        while (true)
        {
            var sentAt = sinceDeletion.Elapsed;
            var status = await Registrations.FhirReadAsync(Server, access);
            if (status == HttpStatusCode.Unauthorized) break;
            status.ShouldBe(HttpStatusCode.OK);
            sentAt.ShouldBeLessThan(TimeSpan.FromSeconds(1), "the deleted client's token still worked a second after deletion");
            await Task.Delay(50);
        }
        // And it stays refused once the one-second cache has surely expired.
        var wait = TimeSpan.FromSeconds(1.1) - sinceDeletion.Elapsed;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        (await Registrations.FhirReadAsync(Server, access)).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task After_a_rotation_the_old_secret_works_for_the_grace_period_and_then_stops()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { GrantTypes = ["client_credentials"], Scope = "system/*.rs" });
        var id = result.Client!.ClientId;
        var old = result.ClientSecret!;
        var rotated = await Registrations.WithRegistryAsync(Server, r => r.RotateSecretAsync(id));
        var fresh = rotated.ClientSecret!;
        fresh.ShouldNotBe(old);

        (await Registrations.ClientCredentialsAsync(Server, id, old)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Registrations.ClientCredentialsAsync(Server, id, fresh)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // Ignis:Auth:Registration:SecretRotationGracePeriod=00:00:03
        var late = await Registrations.ClientCredentialsAsync(Server, id, old);
        late.StatusCode.ShouldBe(HttpStatusCode.Unauthorized); // RFC 6749 §5.2: invalid_client with Basic authentication
        (await late.ErrorAsync()).ShouldBe("invalid_client");
        (await Registrations.ClientCredentialsAsync(Server, id, fresh)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_rotation_without_grace_ends_the_old_secret_at_once()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { GrantTypes = ["client_credentials"], Scope = "system/*.rs" });
        var id = result.Client!.ClientId;
        var rotated = await Registrations.WithRegistryAsync(Server, r => r.RotateSecretAsync(id, TimeSpan.Zero));
        (await (await Registrations.ClientCredentialsAsync(Server, id, result.ClientSecret!)).ErrorAsync()).ShouldBe("invalid_client");
        (await Registrations.ClientCredentialsAsync(Server, id, rotated.ClientSecret!)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var publicClient = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { RedirectUris = ["https://a.example/cb"], TokenEndpointAuthMethod = "none" });
        var refused = await Registrations.WithRegistryAsync(Server, r => r.RotateSecretAsync(publicClient.Client!.ClientId));
        refused.Error!.Code.ShouldBe("invalid_request");
    }

    [Fact]
    public async Task A_disabled_client_loses_its_tokens_and_gets_none_until_enabled_again()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { GrantTypes = ["client_credentials"], Scope = "system/*.rs" });
        var id = result.Client!.ClientId;
        var access = (await (await Registrations.ClientCredentialsAsync(Server, id, result.ClientSecret!)).BodyAsync())["access_token"].Str();

        (await Registrations.WithRegistryAsync(Server, r => r.DisableAsync(id))).Client!.Status.ShouldBe(ClientStatus.Disabled);
        (await SmartApp.IntrospectAsync(Server, access))["active"]!.GetValue<bool>().ShouldBeFalse();
        var refused = await Registrations.ClientCredentialsAsync(Server, id, result.ClientSecret!);
        (await refused.ErrorAsync()).ShouldBe("unauthorized_client");

        (await Registrations.WithRegistryAsync(Server, r => r.EnableAsync(id))).Client!.Status.ShouldBe(ClientStatus.Active);
        (await Registrations.ClientCredentialsAsync(Server, id, result.ClientSecret!)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_client_that_widens_itself_to_new_system_scopes_is_held_for_approval_again()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { GrantTypes = ["client_credentials"], Scope = "system/Patient.rs" });
        var id = result.Client!.ClientId;
        var uri = $"{Server.Origin.GetLeftPart(UriPartial.Authority)}/oauth/register/{id}";
        var same = await Registrations.ManageAsync(HttpMethod.Put, uri, result.RegistrationAccessToken,
            $$"""{"client_id":"{{id}}","grant_types":["client_credentials"],"scope":"system/Patient.rs","client_name":"Renamed"}""");
        (await same.BodyAsync())["ignis_status"].ShouldBeNull();

        var wider = await Registrations.ManageAsync(HttpMethod.Put, uri, result.RegistrationAccessToken,
            $$"""{"client_id":"{{id}}","grant_types":["client_credentials"],"scope":"system/*.cruds"}""");
        (await wider.BodyAsync())["ignis_status"].Str().ShouldBe("pending_approval");
        (await (await Registrations.ClientCredentialsAsync(Server, id, result.ClientSecret!, "system/*.cruds")).ErrorAsync()).ShouldBe("unauthorized_client");
    }

    [Fact]
    public async Task The_registry_lists_clients_by_owner_and_reissues_registration_tokens()
    {
        var owner = "owner-" + Guid.NewGuid().ToString("N");
        var mine = await Registrations.WithRegistryAsync(Server, r => r.RegisterAsync(
            new ClientMetadata { RedirectUris = ["https://mine.example/cb"] }, Registrant.Developer(owner)));
        var listed = await Registrations.WithRegistryAsync(Server, async r => await r.ListAsync(owner).ToListAsync());
        listed.Select(c => c.ClientId).ShouldBe([mine.Client!.ClientId]);
        listed[0].OwnerId.ShouldBe(owner);

        var uri = $"{Server.Origin.GetLeftPart(UriPartial.Authority)}/oauth/register/{mine.Client.ClientId}";
        var reissued = await Registrations.WithRegistryAsync(Server, r => r.RotateRegistrationAccessTokenAsync(mine.Client.ClientId));
        (await Registrations.ManageAsync(HttpMethod.Get, uri, mine.RegistrationAccessToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Registrations.ManageAsync(HttpMethod.Get, uri, reissued.RegistrationAccessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
