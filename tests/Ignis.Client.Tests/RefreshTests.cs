using System.Collections.Concurrent;
using System.Net;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests;

/// <summary>The handler against the real server: 401 → refresh → retry, single flight, persistence order, sign-in required.</summary>
public sealed class RefreshTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private static Task<SmartSession> LoginAsync(Sdk sdk, string user = "alice") =>
        sdk.Client(new FormBrowserLauncher(sdk.Server, user, $"{user}-demo-pass"),
                user == "carol" ? "openid fhirUser offline_access user/*.cruds" : "openid fhirUser offline_access launch/patient patient/*.rs")
            .LoginAsync(new LoginOptions { User = user });

    private Task RevokeAsync(string token, string hint) =>
        SmartApp.PostFormAsync(Server, "/oauth/revoke", new() { ["token"] = token, ["token_type_hint"] = hint, ["client_id"] = "demo-app" });

    [Fact]
    public async Task After_the_server_revokes_the_access_token_a_request_is_refreshed_once_and_retried()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk);
        var before = session.Tokens;
        await RevokeAsync(before.AccessToken, "access_token");
        var statuses = new ConcurrentQueue<HttpStatusCode>();
        using var http = new HttpClient(session.CreateHandler(new StatusRecorder(statuses))) { BaseAddress = new Uri(Server.FhirBase + "/") };

        var response = await http.GetAsync("Patient/alice");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.OK]);
        sdk.Backchannel.Count("refresh_token").ShouldBe(1);
        session.Tokens.AccessToken.ShouldNotBe(before.AccessToken);
        session.Tokens.RefreshToken.ShouldNotBe(before.RefreshToken);
        session.Tokens.Patient.ShouldBe("alice");
        (await sdk.Store.LoadAsync(session.Key))!.RefreshToken.ShouldBe(session.Tokens.RefreshToken);
    }

    [Fact]
    public async Task The_rotated_refresh_token_is_saved_before_the_retried_request_goes_out()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk);
        var old = session.Tokens;
        await RevokeAsync(old.AccessToken, "access_token");
        string? storedWhenRetried = null;
        var observer = new ObservingHandler(async request =>
        {
            if (request.Headers.Authorization?.Parameter != old.AccessToken)
                storedWhenRetried = (await sdk.Store.LoadAsync(session.Key))?.RefreshToken;
        });
        using var http = new HttpClient(session.CreateHandler(observer)) { BaseAddress = new Uri(Server.FhirBase + "/") };

        (await http.GetAsync("Observation?patient=alice")).StatusCode.ShouldBe(HttpStatusCode.OK);

        storedWhenRetried.ShouldNotBeNull();
        storedWhenRetried.ShouldNotBe(old.RefreshToken);
        storedWhenRetried.ShouldBe(session.Tokens.RefreshToken);
    }

    [Fact]
    public async Task A_request_with_a_body_is_sent_again_whole_after_the_refresh()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk, "carol");
        await RevokeAsync(session.Tokens.AccessToken, "access_token");
        using var http = session.CreateHttpClient();
        var body = """{"resourceType":"Patient","id":"sdk-retry","name":[{"family":"Retry"}]}""";

        var response = await http.PutAsync("Patient/sdk-retry", new StringContent(body, System.Text.Encoding.UTF8, "application/fhir+json"));

        ((int)response.StatusCode).ShouldBeOneOf(200, 201);
        (await (await http.GetAsync("Patient/sdk-retry")).Content.ReadAsStringAsync()).ShouldContain("Retry");
        sdk.Backchannel.Count("refresh_token").ShouldBe(1);
    }

    [Fact]
    public async Task When_the_server_refuses_the_refresh_token_the_handler_raises_sign_in_required_and_forgets_the_session()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk);
        await RevokeAsync(session.Tokens.RefreshToken!, "refresh_token");
        await RevokeAsync(session.Tokens.AccessToken, "access_token");
        using var http = session.CreateHttpClient();

        var error = await Should.ThrowAsync<SignInRequiredException>(() => http.GetAsync("Patient/alice"));

        error.Error.ShouldBe("invalid_grant");
        error.Message.ShouldContain("sign in again");
        (await sdk.Store.LoadAsync(session.Key)).ShouldBeNull();
    }

    [Fact]
    public async Task Sign_out_revokes_the_refresh_token_at_the_server_and_deletes_it_locally()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk);
        var tokens = session.Tokens;

        (await session.SignOutAsync()).ShouldBeTrue();

        (await sdk.Store.LoadAsync(session.Key)).ShouldBeNull();
        var refresh = await new SmartApp(Server).RefreshAsync(tokens.RefreshToken!);
        (await refresh.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        (await SmartApp.IntrospectAsync(Server, tokens.AccessToken))["active"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Firely_FhirClient_reads_and_searches_through_the_session_handler()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk);
        await RevokeAsync(session.Tokens.AccessToken, "access_token");
        using var fhir = new Hl7.Fhir.Rest.FhirClient(Server.FhirBase, new Hl7.Fhir.Rest.FhirClientSettings { PreferredFormat = Hl7.Fhir.Rest.ResourceFormat.Json }, session.CreateHandler());

        var patient = await fhir.ReadAsync<Hl7.Fhir.Model.Patient>("Patient/alice");
        var labs = await fhir.SearchAsync<Hl7.Fhir.Model.Observation>(["patient=alice", "category=laboratory"]);

        patient!.Id.ShouldBe("alice");
        labs!.Entry.Count.ShouldBeGreaterThan(0);
        sdk.Backchannel.Count("refresh_token").ShouldBe(1);
    }

    private sealed class StatusRecorder(ConcurrentQueue<HttpStatusCode> statuses) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            statuses.Enqueue(response.StatusCode);
            return response;
        }
    }
}

/// <summary>Access tokens that really expire (three seconds), and twenty requests at once.</summary>
public sealed class ExpiryTests(ShortLivedTokensServerFixture fixture) : IClassFixture<ShortLivedTokensServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Twenty_concurrent_requests_after_the_server_expired_the_token_cause_exactly_one_refresh()
    {
        using var sdk = new Sdk(Server);
        var signingIn = DateTimeOffset.UtcNow;
        // The app's clock stands still, so it does not see the expiry coming: every request goes out with the token the
        // server has expired, gets 401 invalid_token, and the handler has to refresh and retry.
        var client = sdk.Client(new FormBrowserLauncher(Server, "alice", "alice-demo-pass"), refreshBeforeExpiry: TimeSpan.Zero);
        client.Options.Time = new StoppedClock(DateTimeOffset.UtcNow);
        var session = await client.LoginAsync();
        var unauthorized = 0;
        using var http = new HttpClient(session.CreateHandler(new CountingStatuses(() => Interlocked.Increment(ref unauthorized)))) { BaseAddress = new Uri(Server.FhirBase + "/") };
        await Task.Delay(TimeSpan.FromSeconds(4.5));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => http.GetAsync("Patient/alice")));

        responses.Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.OK);
        unauthorized.ShouldBeGreaterThan(0); // the expired token really was refused
        sdk.Backchannel.Count("refresh_token").ShouldBe(1);
        session.RefreshCount.ShouldBe(1);
        // The sign-in and one refresh.
        (await ServerTokens.RefreshTokensIssuedAsync(Server, "alice", signingIn)).ShouldBe(2);
    }

    [Fact]
    public async Task Twenty_concurrent_requests_shortly_before_expiry_share_one_refresh_and_none_is_refused()
    {
        using var sdk = new Sdk(Server);
        var signingIn = DateTimeOffset.UtcNow;
        var session = await sdk.Client(new FormBrowserLauncher(Server, "dave", "dave-demo-pass"), refreshBeforeExpiry: TimeSpan.FromSeconds(2)).LoginAsync();
        var unauthorized = 0;
        using var http = new HttpClient(session.CreateHandler(new CountingStatuses(() => Interlocked.Increment(ref unauthorized)))) { BaseAddress = new Uri(Server.FhirBase + "/") };
        var dueAt = session.Tokens.ExpiresAt!.Value - TimeSpan.FromSeconds(2);
        if (dueAt > DateTimeOffset.UtcNow) await Task.Delay(dueAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => http.GetAsync("Patient/dave")));

        responses.Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.OK);
        unauthorized.ShouldBe(0);
        sdk.Backchannel.Count("refresh_token").ShouldBe(1);
        (await ServerTokens.RefreshTokensIssuedAsync(Server, "dave", signingIn)).ShouldBe(2);
    }

    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class CountingStatuses(Action onUnauthorized) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized) onUnauthorized();
            return response;
        }
    }
}
