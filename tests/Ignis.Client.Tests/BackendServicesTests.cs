using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Ignis.Server.Auth.Clients;

namespace Ignis.Client.Tests;

/// <summary>SMART Backend Services: client credentials with a private_key_jwt assertion, against the real server.</summary>
public sealed class BackendServicesTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    /// <summary>Registers a backend client holding <paramref name="key"/>'s public JWK through the server's client registry, as an administrator would; returns its id.</summary>
    internal static async Task<string> RegisterAsync(IgnisServer server, ClientAssertionKey key, params string[] scopes)
    {
        using var scope = server.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<ClientRegistry>().RegisterAsync(new ClientMetadata
        {
            ClientName = "SDK test backend",
            GrantTypes = ["client_credentials"],
            TokenEndpointAuthMethod = "private_key_jwt",
            Jwks = new JsonObject { ["keys"] = new JsonArray(key.PublicJwk()) },
            Scope = string.Join(' ', scopes),
        }, new Registrant(RegistrantKind.Administrator));
        result.Succeeded.ShouldBeTrue(result.Error?.Description);
        return result.Client!.ClientId;
    }

    private BackendServicesClient Client(string clientId, ClientAssertionKey key, CountingHandler counter, string scope = "system/*.rs") => new(new BackendServicesOptions
    {
        FhirBaseUrl = Server.FhirBase,
        ClientId = clientId,
        Key = key,
        Scope = scope,
        BackchannelHandler = counter,
    });

    [Fact]
    public async Task The_client_assertion_follows_SMART_Backend_Services()
    {
        using var rsa = RSA.Create(2048);
        var key = ClientAssertionKey.FromPem(rsa.ExportPkcs8PrivateKeyPem(), "key-1");
        using var backend = new BackendServicesClient(new BackendServicesOptions { FhirBaseUrl = Server.FhirBase, ClientId = "svc", Key = key });
        var endpoint = await backend.GetTokenEndpointAsync();
        endpoint.AbsoluteUri.ShouldBe(new Uri(Server.Origin, "/oauth/token").AbsoluteUri);

        var first = backend.CreateClientAssertion(endpoint);
        var second = backend.CreateClientAssertion(endpoint);

        var result = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(first, new Microsoft.IdentityModel.Tokens.TokenValidationParameters
        {
            ValidIssuer = "svc", ValidAudience = endpoint.AbsoluteUri,
            IssuerSigningKey = new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa.ExportParameters(false)),
        });
        result.IsValid.ShouldBeTrue(result.Exception?.Message);
        var jwt = (Microsoft.IdentityModel.JsonWebTokens.JsonWebToken)result.SecurityToken;
        jwt.Alg.ShouldBe("RS384");
        jwt.Typ.ShouldBe("JWT");
        jwt.Kid.ShouldBe("key-1");
        jwt.Subject.ShouldBe("svc");
        (jwt.ValidTo - DateTime.UtcNow).ShouldBeLessThanOrEqualTo(TimeSpan.FromMinutes(5));
        jwt.Id.ShouldNotBeNullOrEmpty();
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(second).Id.ShouldNotBe(jwt.Id);
    }

    [Fact]
    public async Task An_RS384_key_from_PEM_gets_a_token_that_reads_any_patient_and_the_token_is_reused()
    {
        using var rsa = RSA.Create(2048);
        var key = ClientAssertionKey.FromPem(rsa.ExportPkcs8PrivateKeyPem());
        key.Algorithm.ShouldBe("RS384");
        var clientId = await RegisterAsync(Server, key, "system/*.rs");
        var counter = new CountingHandler(new SocketsHttpHandler());
        using var backend = Client(clientId, key, counter);
        using var http = backend.CreateHttpClient();

        (await http.GetAsync("Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await http.GetAsync("Patient/dave")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => http.GetAsync("Observation?patient=alice")));

        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.OK);
        counter.Count("client_credentials").ShouldBe(1);
        var token = await backend.GetTokenAsync();
        token.Scope.ShouldBe("system/*.rs");
        token.ExpiresAt!.Value.ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(50));
    }

    [Fact]
    public async Task An_ES384_key_from_a_JWK_gets_a_token()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var p = ec.ExportParameters(true);
        string B64(byte[] b) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(b);
        var jwk = new JsonObject { ["kty"] = "EC", ["crv"] = "P-384", ["kid"] = "sdk-ec-1", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!), ["d"] = B64(p.D!) };
        var key = ClientAssertionKey.FromJwk(jwk.ToJsonString());
        key.Algorithm.ShouldBe("ES384");
        key.KeyId.ShouldBe("sdk-ec-1");
        var clientId = await RegisterAsync(Server, key, "system/Patient.rs");
        using var backend = Client(clientId, key, new CountingHandler(new SocketsHttpHandler()), "system/Patient.rs");
        using var http = backend.CreateHttpClient();

        (await http.GetAsync("Patient/dave")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await http.GetAsync("Observation?patient=dave")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_assertion_signed_with_a_key_the_server_does_not_hold_is_refused_as_invalid_client()
    {
        using var registered = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var clientId = await RegisterAsync(Server, ClientAssertionKey.FromPem(registered.ExportPkcs8PrivateKeyPem(), "k1"), "system/*.rs");
        using var backend = Client(clientId, ClientAssertionKey.FromPem(other.ExportPkcs8PrivateKeyPem(), "k1"), new CountingHandler(new SocketsHttpHandler()));

        var error = await Should.ThrowAsync<SmartAuthorizationException>(() => backend.GetTokenAsync());
        error.Error.ShouldBe("invalid_client");
    }
}

/// <summary>Backend tokens that really expire: replaced shortly before expiry, not before.</summary>
public sealed class BackendExpiryTests(ShortLivedTokensServerFixture fixture) : IClassFixture<ShortLivedTokensServerFixture>
{
    [Fact]
    public async Task The_cached_token_is_replaced_shortly_before_it_expires()
    {
        using var rsa = RSA.Create(2048);
        var key = ClientAssertionKey.FromPem(rsa.ExportPkcs8PrivateKeyPem());
        var clientId = await BackendServicesTests.RegisterAsync(fixture.Server, key, "system/*.rs");
        var counter = new CountingHandler(new SocketsHttpHandler());
        using var backend = new BackendServicesClient(new BackendServicesOptions
        {
            FhirBaseUrl = fixture.Server.FhirBase, ClientId = clientId, Key = key, BackchannelHandler = counter,
            RefreshBeforeExpiry = TimeSpan.FromSeconds(1.5),
        });
        using var http = backend.CreateHttpClient();

        var first = await backend.GetTokenAsync();
        (await backend.GetTokenAsync()).ShouldBeSameAs(first);
        counter.Count("client_credentials").ShouldBe(1);

        var due = first.ExpiresAt!.Value - TimeSpan.FromSeconds(1.3) - DateTimeOffset.UtcNow;
        if (due > TimeSpan.Zero) await Task.Delay(due);
        (await http.GetAsync("Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Replaced before the request went out (a third request only when a loaded machine let the new 3-second token
        // expire in transit, after which the 401 path refreshes again).
        counter.Count("client_credentials").ShouldBeInRange(2, 3);
        (await backend.GetTokenAsync()).AccessToken.ShouldNotBe(first.AccessToken);
    }
}
