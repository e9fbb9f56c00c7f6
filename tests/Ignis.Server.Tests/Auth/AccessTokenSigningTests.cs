using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>Ignis:Auth:AccessTokenSigningAlgorithm=ES256: access tokens signed with an EC key, id tokens still RS256.</summary>
public sealed class AccessTokenSigningTests
{
    [Fact]
    public async Task With_es256_access_tokens_are_signed_by_a_published_ec_key_and_id_tokens_stay_rs256()
    {
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:AccessTokenSigningAlgorithm=ES256");
        using var http = new HttpClient { BaseAddress = server.Origin };
        var keys = JsonNode.Parse(await http.GetStringAsync("/oauth/jwks"))!["keys"]!.AsArray();
        keys.Select(k => k!["alg"].Str()).ShouldBe(["RS256", "ES256"], ignoreOrder: true);
        var ecKid = keys.Single(k => k!["kty"].Str() == "EC")!["kid"].Str();

        var backend = await SmartApp.PostFormAsync(server, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" },
            ("demo-backend", "demo-backend-secret"));
        var header = SmartApp.JwtPart(backend["access_token"].Str(), 0);
        header["alg"].Str().ShouldBe("ES256");
        header["kid"].Str().ShouldBe(ecKid);
        header["typ"].Str().ShouldBe("at+jwt");
        using (var read = new HttpRequestMessage(HttpMethod.Get, "Patient/dave"))
        {
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", backend["access_token"].Str());
            (await server.Client.SendAsync(read)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var browser = new SmartBrowser(server);
        var app = new SmartApp(server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid fhirUser launch/patient patient/*.rs");
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        SmartApp.JwtPart(tokens["access_token"].Str(), 0)["alg"].Str().ShouldBe("ES256");
        SmartApp.JwtPart(tokens["id_token"].Str(), 0)["alg"].Str().ShouldBe("RS256");

        // On PostgreSQL the keys are rows of the database, not files.
        if (!OperatingSystem.IsWindows() && !TestPostgres.IsDefaultStorage)
            File.GetUnixFileMode(Path.Combine(server.DataDirectory, "keys", "signing-ec-p256.pem"))
                .ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task An_unknown_access_token_algorithm_stops_the_start_with_a_message_naming_the_key()
    {
        var e = await Should.ThrowAsync<OptionsValidationException>(() => IgnisServer.StartAsync("--Ignis:Auth:AccessTokenSigningAlgorithm=HS256"));
        e.Message.ShouldContain("Ignis:Auth:AccessTokenSigningAlgorithm");
    }

    [Fact]
    public async Task A_token_row_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_written()
    {
        await using var server = await IgnisServer.StartAsync();
        var writer = server.Services.GetRequiredService<AuthWriteBatcher>();
        var now = DateTime.UtcNow;
        var good = Enumerable.Range(0, 20).Select(i => writer.InsertTokenAsync(new TokenRow(Guid.NewGuid().ToString(), null, "s" + i, TokenTypeIdentifiers.AccessToken, now, now.AddHours(1)))).ToList();
        var orphan = writer.InsertTokenAsync(new TokenRow(Guid.NewGuid().ToString(), "no-such-application", "x", TokenTypeIdentifiers.AccessToken, now, now.AddHours(1)));
        var more = Enumerable.Range(0, 20).Select(i => writer.InsertTokenAsync(new TokenRow(Guid.NewGuid().ToString(), null, "t" + i, TokenTypeIdentifiers.AccessToken, now, now.AddHours(1)))).ToList();
        await Should.ThrowAsync<AuthWriteRefusedException>(() => orphan);
        await Task.WhenAll(good.Concat(more));
        (await writer.TryUseJtiAsync("k", DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds())).ShouldBeTrue();
    }
}
