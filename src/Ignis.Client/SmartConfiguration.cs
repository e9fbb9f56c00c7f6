using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ignis.Client;

/// <summary>
/// What a FHIR server says about its authorization server: the SMART configuration document
/// (<c>[base]/.well-known/smart-configuration</c>, SMART App Launch 2.2 §"Conformance"), or, for servers that
/// predate it, the <c>oauth-uris</c> extension of the CapabilityStatement (<c>[base]/metadata</c>).
/// </summary>
public sealed record SmartConfiguration
{
    /// <summary>The FHIR base URL this configuration was read for (no trailing slash); also the <c>aud</c> of authorize requests.</summary>
    public required string FhirBaseUrl { get; init; }

    /// <summary>The authorization endpoint.</summary>
    public required Uri AuthorizationEndpoint { get; init; }

    /// <summary>The token endpoint.</summary>
    public required Uri TokenEndpoint { get; init; }

    /// <summary>The OpenID Connect issuer, when the server publishes one.</summary>
    public string? Issuer { get; init; }

    /// <summary>The server's signing keys (id tokens), when published.</summary>
    public Uri? JwksUri { get; init; }

    /// <summary>RFC 7009 revocation endpoint, when published.</summary>
    public Uri? RevocationEndpoint { get; init; }

    /// <summary>RFC 7662 introspection endpoint, when published.</summary>
    public Uri? IntrospectionEndpoint { get; init; }

    /// <summary>RFC 7591 registration endpoint, when published.</summary>
    public Uri? RegistrationEndpoint { get; init; }

    /// <summary>The page where users manage the apps they authorized, when published.</summary>
    public Uri? ManagementEndpoint { get; init; }

    /// <summary>SMART capabilities (<c>launch-standalone</c>, <c>client-public</c>, <c>permission-v2</c>, ...); empty when read from metadata.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>Scopes the server advertises.</summary>
    public IReadOnlyList<string> ScopesSupported { get; init; } = [];

    /// <summary>PKCE methods the server advertises; SMART 2.x servers list <c>S256</c>.</summary>
    public IReadOnlyList<string> CodeChallengeMethodsSupported { get; init; } = [];

    /// <summary>Client assertion algorithms accepted at the token endpoint (<c>RS384</c>, <c>ES384</c>, ...).</summary>
    public IReadOnlyList<string> TokenEndpointAuthSigningAlgValuesSupported { get; init; } = [];

    /// <summary>True when read from <c>.well-known/smart-configuration</c>; false when from the CapabilityStatement.</summary>
    public bool FromWellKnown { get; init; }

    /// <summary>
    /// Reads the SMART configuration of the FHIR server at <paramref name="fhirBaseUrl"/>: first
    /// <c>.well-known/smart-configuration</c>, then the CapabilityStatement's <c>oauth-uris</c>.
    /// </summary>
    /// <exception cref="SmartDiscoveryException">Neither source names an authorization and a token endpoint.</exception>
    public static async Task<SmartConfiguration> DiscoverAsync(string fhirBaseUrl, HttpClient http, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        var fhirBase = NormalizeBase(fhirBaseUrl);
        string? wellKnownProblem;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, fhirBase + "/.well-known/smart-configuration");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                if (json is JsonObject document && FromDocument(fhirBase, document) is { } configuration) return configuration;
                wellKnownProblem = "its .well-known/smart-configuration has no authorization_endpoint and token_endpoint";
            }
            else wellKnownProblem = $".well-known/smart-configuration answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            wellKnownProblem = ".well-known/smart-configuration could not be read (" + e.Message + ")";
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, fhirBase + "/metadata");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new SmartDiscoveryException($"{fhirBase} is not a SMART server: {wellKnownProblem}, and /metadata answered {(int)response.StatusCode}.");
            var statement = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)) as JsonObject;
            return FromCapabilityStatement(fhirBase, statement)
                ?? throw new SmartDiscoveryException($"{fhirBase} is not a SMART server: {wellKnownProblem}, and its CapabilityStatement has no oauth-uris extension.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            throw new SmartDiscoveryException($"{fhirBase} could not be reached: {e.Message}", e);
        }
    }

    /// <summary>Trims a trailing slash (and any query) so the base compares and concatenates predictably.</summary>
    public static string NormalizeBase(string fhirBaseUrl)
    {
        if (!Uri.TryCreate(fhirBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new ArgumentException($"'{fhirBaseUrl}' is not an http(s) URL of a FHIR server.", nameof(fhirBaseUrl));
        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    internal static SmartConfiguration? FromDocument(string fhirBase, JsonObject d)
    {
        var authorize = Url(d["authorization_endpoint"]);
        var token = Url(d["token_endpoint"]);
        if (authorize is null || token is null) return null;
        return new SmartConfiguration
        {
            FhirBaseUrl = fhirBase,
            AuthorizationEndpoint = authorize,
            TokenEndpoint = token,
            Issuer = d["issuer"] is JsonValue issuer && issuer.TryGetValue<string>(out var i) ? i : null,
            JwksUri = Url(d["jwks_uri"]),
            RevocationEndpoint = Url(d["revocation_endpoint"]),
            IntrospectionEndpoint = Url(d["introspection_endpoint"]),
            RegistrationEndpoint = Url(d["registration_endpoint"]),
            ManagementEndpoint = Url(d["management_endpoint"]),
            Capabilities = Strings(d["capabilities"]),
            ScopesSupported = Strings(d["scopes_supported"]),
            CodeChallengeMethodsSupported = Strings(d["code_challenge_methods_supported"]),
            TokenEndpointAuthSigningAlgValuesSupported = Strings(d["token_endpoint_auth_signing_alg_values_supported"]),
            FromWellKnown = true,
        };
    }

    internal const string OAuthUrisExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

    internal static SmartConfiguration? FromCapabilityStatement(string fhirBase, JsonObject? statement)
    {
        if (statement?["rest"] is not JsonArray rest) return null;
        foreach (var entry in rest)
        {
            if (entry?["security"]?["extension"] is not JsonArray extensions) continue;
            foreach (var extension in extensions)
            {
                if (extension?["url"]?.GetValue<string>() != OAuthUrisExtension || extension["extension"] is not JsonArray uris) continue;
                Uri? Find(string name) => uris.Where(u => u?["url"]?.GetValue<string>() == name).Select(u => Url(u!["valueUri"])).FirstOrDefault();
                var authorize = Find("authorize");
                var token = Find("token");
                if (authorize is null || token is null) continue;
                return new SmartConfiguration
                {
                    FhirBaseUrl = fhirBase,
                    AuthorizationEndpoint = authorize,
                    TokenEndpoint = token,
                    RevocationEndpoint = Find("revoke"),
                    IntrospectionEndpoint = Find("introspect"),
                    RegistrationEndpoint = Find("register"),
                    ManagementEndpoint = Find("manage"),
                };
            }
        }
        return null;
    }

    private static Uri? Url(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var s) && Uri.TryCreate(s, UriKind.Absolute, out var uri) ? uri : null;

    private static string[] Strings(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>()] : [];
}
