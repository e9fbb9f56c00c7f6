using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>A client's key pair, made with .NET crypto in the test; signs JWS for one algorithm.</summary>
public sealed class ClientKey
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ec;

    private ClientKey(string alg, string kid, RSA? rsa, ECDsa? ec)
    {
        Alg = alg;
        Kid = kid;
        _rsa = rsa;
        _ec = ec;
    }

    public string Alg { get; }
    public string Kid { get; }

    public static ClientKey Create(string alg, string? kid = null, int rsaBits = 2048)
    {
        kid ??= alg.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        return alg switch
        {
            "RS256" or "RS384" or "RS512" => new ClientKey(alg, kid, RSA.Create(rsaBits), null),
            "ES256" => new ClientKey(alg, kid, null, ECDsa.Create(ECCurve.NamedCurves.nistP256)),
            "ES384" => new ClientKey(alg, kid, null, ECDsa.Create(ECCurve.NamedCurves.nistP384)),
            _ => throw new ArgumentException("unsupported test algorithm " + alg),
        };
    }

    /// <summary>The public JWK (RFC 7517) a client registers.</summary>
    public JsonObject PublicJwk()
    {
        if (_rsa is not null)
        {
            var p = _rsa.ExportParameters(false);
            return new JsonObject { ["kty"] = "RSA", ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg, ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        }
        var q = _ec!.ExportParameters(false);
        return new JsonObject
        {
            ["kty"] = "EC", ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg, ["crv"] = Alg == "ES256" ? "P-256" : "P-384",
            ["x"] = B64(q.Q.X!), ["y"] = B64(q.Q.Y!),
        };
    }

    /// <summary>The private key as a JWK (for third-party clients such as openid-client).</summary>
    public JsonObject PrivateJwk()
    {
        var jwk = PublicJwk();
        if (_rsa is not null)
        {
            var p = _rsa.ExportParameters(true);
            jwk["d"] = B64(p.D!); jwk["p"] = B64(p.P!); jwk["q"] = B64(p.Q!);
            jwk["dp"] = B64(p.DP!); jwk["dq"] = B64(p.DQ!); jwk["qi"] = B64(p.InverseQ!);
        }
        else jwk["d"] = B64(_ec!.ExportParameters(true).D!);
        jwk.Remove("use");
        return jwk;
    }

    public static string Jwks(params ClientKey[] keys) => new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.PublicJwk())]) }.ToJsonString();

    public byte[] Sign(byte[] data)
    {
        var hash = Alg.EndsWith("384") ? HashAlgorithmName.SHA384 : Alg.EndsWith("512") ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        return _rsa is not null
            ? _rsa.SignData(data, hash, RSASignaturePadding.Pkcs1)
            : _ec!.SignData(data, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public static string B64(byte[] bytes) => Base64UrlEncoder.Encode(bytes);
}

/// <summary>
/// An RFC 7523 client assertion as SMART Backend Services describes it, with every part adjustable so that
/// tests can break one rule at a time.
/// </summary>
public sealed class Assertion(ClientKey key, string clientId, string audience)
{
    public JsonObject Header { get; } = new() { ["alg"] = key.Alg, ["kid"] = key.Kid, ["typ"] = "JWT" };

    public JsonObject Payload { get; } = new()
    {
        ["iss"] = clientId,
        ["sub"] = clientId,
        ["aud"] = audience,
        ["exp"] = DateTimeOffset.UtcNow.AddMinutes(4).ToUnixTimeSeconds(),
        ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["jti"] = Guid.NewGuid().ToString("N"),
    };

    public Assertion With(string claim, JsonNode? value)
    {
        if (value is null) Payload.Remove(claim); else Payload[claim] = value;
        return this;
    }

    public Assertion WithHeader(string name, JsonNode? value)
    {
        if (value is null) Header.Remove(name); else Header[name] = value;
        return this;
    }

    /// <summary>Signed with the assertion's key, or with <paramref name="signer"/> (a bad signature when it is another key).</summary>
    public string Sign(ClientKey? signer = null)
    {
        var input = Part(Header) + "." + Part(Payload);
        return input + "." + ClientKey.B64((signer ?? key).Sign(Encoding.ASCII.GetBytes(input)));
    }

    /// <summary>alg "none" (RFC 7519 §6): no signature at all.</summary>
    public string Unsigned() => Part(Header) + "." + Part(Payload) + ".";

    /// <summary>HS256 with the given secret (a symmetric algorithm a client must not use here).</summary>
    public string SignHs256(byte[] secret)
    {
        var input = Part(Header) + "." + Part(Payload);
        return input + "." + ClientKey.B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    private static string Part(JsonObject json) => ClientKey.B64(Encoding.UTF8.GetBytes(json.ToJsonString()));
}

/// <summary>Registers confidential clients through OpenIddict's application manager and calls the token endpoint as they would.</summary>
public static class BackendClients
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public static string TokenEndpoint(IgnisServer server) => new Uri(server.Origin, "/oauth/token").ToString();

    public static async Task<string> RegisterAsync(IgnisServer server, string? jwks = null, string? jwksUri = null,
        string[]? scopes = null, string? method = "private_key_jwt", string? secret = null, string? clientId = null,
        Action<OpenIddictApplicationDescriptor>? configure = null)
    {
        clientId ??= "backend-" + Guid.NewGuid().ToString("N")[..10];
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            DisplayName = "test backend " + clientId,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.Endpoints.Introspection, Permissions.Endpoints.Revocation, Permissions.GrantTypes.ClientCredentials },
        };
        if (jwks is not null) descriptor.JsonWebKeySet = new JsonWebKeySet(jwks);
        if (jwksUri is not null) descriptor.Properties[ClientProperties.JwksUri] = System.Text.Json.JsonSerializer.SerializeToElement(jwksUri);
        if (method is not null) descriptor.Properties[ClientProperties.TokenEndpointAuthMethod] = System.Text.Json.JsonSerializer.SerializeToElement(method);
        foreach (var scope in scopes ?? ["system/*.rs"]) descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        configure?.Invoke(descriptor);
        await using var scope1 = server.Services.CreateAsyncScope();
        await scope1.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor);
        return clientId;
    }

    /// <summary>client_credentials with a client_assertion; returns the status and the JSON body.</summary>
    public static async Task<(int Status, JsonNode Body)> TokenAsync(IgnisServer server, string assertion, string scope = "system/*.rs",
        string? clientId = null, IDictionary<string, string>? extra = null, (string User, string Secret)? basic = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["scope"] = scope,
            ["client_assertion_type"] = AssertionType,
            ["client_assertion"] = assertion,
        };
        if (clientId is not null) form["client_id"] = clientId;
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) form[k] = v;
        return await PostAsync(server, form, basic);
    }

    /// <summary>RFC 7009 revocation, the client authenticating with an assertion.</summary>
    public static Task<(int Status, JsonNode Body)> RevokeAsync(IgnisServer server, string token, string assertion) =>
        PostAsync(server, new() { ["token"] = token, ["client_assertion_type"] = AssertionType, ["client_assertion"] = assertion }, path: "/oauth/revoke");

    public static async Task<(int Status, JsonNode Body)> PostAsync(IgnisServer server, Dictionary<string, string> form,
        (string User, string Secret)? basic = null, string path = "/oauth/token")
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (basic is { } b)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(b.User)}:{Uri.EscapeDataString(b.Secret)}")));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text.Length == 0 ? "{}" : text)!);
    }
}

/// <summary>
/// A client's jwks_uri: a tiny real HTTP server (Kestrel on a loopback port) serving a key set per path, with
/// the Cache-Control the test chooses, counting how often each path was fetched.
/// </summary>
public sealed class JwksHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Body, string? CacheControl)> _documents = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _fetches = new();

    private JwksHost(WebApplication app) => _app = app;

    public Uri Origin { get; private set; } = null!;

    public static async Task<JwksHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new JwksHost(app);
        app.Run(async http =>
        {
            var path = http.Request.Path.Value ?? "";
            host._fetches.AddOrUpdate(path, 1, (_, n) => n + 1);
            if (!host._documents.TryGetValue(path, out var doc))
            {
                http.Response.StatusCode = 404;
                return;
            }
            if (doc.CacheControl is not null) http.Response.Headers.CacheControl = doc.CacheControl;
            http.Response.ContentType = "application/jwk-set+json";
            await http.Response.WriteAsync(doc.Body);
        });
        await app.StartAsync();
        host.Origin = new Uri(app.Urls.First());
        return host;
    }

    /// <summary>Serves <paramref name="jwks"/> at a new path and returns its URL.</summary>
    public string Serve(string jwks, string? cacheControl = null)
    {
        var path = "/" + Guid.NewGuid().ToString("N") + "/jwks.json";
        _documents[path] = (jwks, cacheControl);
        return new Uri(Origin, path).ToString();
    }

    public void Replace(string url, string jwks, string? cacheControl = null) => _documents[new Uri(url).AbsolutePath] = (jwks, cacheControl);

    public int Fetches(string url) => _fetches.TryGetValue(new Uri(url).AbsolutePath, out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
