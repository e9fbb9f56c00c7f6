using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using Ignis.Server.Fhir;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>
/// GET /fhir/.well-known/smart-configuration (SMART App Launch 2.2 §"Conformance") and the SMART security
/// section of /fhir/metadata, both read from the OpenIddict options that drive the endpoints, so discovery
/// never advertises a grant, method or scope family the server does not run.
/// </summary>
public sealed class SmartDiscovery(IOptionsMonitor<OpenIddictServerOptions> server, IOptions<AuthOptions> auth) : ICapabilityContributor
{
    public const string Path = FhirEndpoints.BasePath + "/.well-known/smart-configuration";
    public const string StylePath = "/smart-style.json";
    public const string RegistrationPath = "/oauth/register";
    public const string ManagementPath = "/account/apps";
    public const string LaunchPath = "/oauth/launch";

    /// <summary>The origin clients see (Ignis:PublicBaseUrl when set), without a trailing slash.</summary>
    public static string Origin(HttpContext http)
    {
        var fhirBase = FhirEndpoints.BaseUrl(http);
        return fhirBase[..^FhirEndpoints.BasePath.Length];
    }

    public JsonObject Document(string origin)
    {
        var o = server.CurrentValue;
        var issuer = o.Issuer?.AbsoluteUri.TrimEnd('/') ?? origin;
        var document = new JsonObject
        {
            ["issuer"] = issuer,
            ["jwks_uri"] = Absolute(origin, o.JsonWebKeySetEndpointUris),
            ["authorization_endpoint"] = Absolute(origin, o.AuthorizationEndpointUris),
            ["token_endpoint"] = Absolute(origin, o.TokenEndpointUris),
            ["introspection_endpoint"] = Absolute(origin, o.IntrospectionEndpointUris),
            ["revocation_endpoint"] = Absolute(origin, o.RevocationEndpointUris),
            ["userinfo_endpoint"] = Absolute(origin, o.UserInfoEndpointUris),
            ["registration_endpoint"] = origin + RegistrationPath,
            ["management_endpoint"] = origin + ManagementPath,
            ["grant_types_supported"] = Array(o.GrantTypes),
            ["response_types_supported"] = Array(o.ResponseTypes),
            ["token_endpoint_auth_methods_supported"] = Array(o.ClientAuthenticationMethods),
            ["scopes_supported"] = Array(o.Scopes),
            ["code_challenge_methods_supported"] = Array(o.CodeChallengeMethods),
            ["capabilities"] = Array(Capabilities(o)),
        };
        if (o.ClientAuthenticationMethods.Contains(ClientAuthenticationMethods.PrivateKeyJwt))
            document["token_endpoint_auth_signing_alg_values_supported"] = Array(["RS384", "ES384", "RS256", "ES256"]);
        // RFC 8705 §3.3: tokens of clients that authenticate with mTLS are bound to their certificate.
        if (o.UseClientCertificateBoundAccessTokens && o.ClientAuthenticationMethods.Any(Mtls.MtlsClientProperties.IsMtls))
            document["tls_client_certificate_bound_access_tokens"] = true;
        return document;
    }

    /// <summary>SMART capabilities, each derived from what is configured.</summary>
    public IEnumerable<string> Capabilities(OpenIddictServerOptions o)
    {
        var code = o.GrantTypes.Contains(GrantTypes.AuthorizationCode);
        var scopes = o.Scopes;
        var resourceScopes = scopes.Select(s => SmartScopes.TryParseResource(s, out var r) ? r : null).OfType<SmartScopes.ResourceScope>().ToList();
        if (code && scopes.Contains(SmartScopes.Launch)) yield return "launch-ehr";
        if (code) yield return "launch-standalone";
        if (code && o.AuthorizationEndpointUris.Count > 0) yield return "authorize-post";
        if (code) yield return "client-public";
        if (o.ClientAuthenticationMethods.Contains(ClientAuthenticationMethods.ClientSecretBasic)
            || o.ClientAuthenticationMethods.Contains(ClientAuthenticationMethods.ClientSecretPost))
            yield return "client-confidential-symmetric";
        if (o.ClientAuthenticationMethods.Contains(ClientAuthenticationMethods.PrivateKeyJwt)) yield return "client-confidential-asymmetric";
        if (auth.Value.NeedPatientBanner) yield return "context-passthrough-banner";
        yield return "context-passthrough-style";
        if (code && scopes.Contains(SmartScopes.Launch)) { yield return "context-ehr-patient"; yield return "context-ehr-encounter"; }
        if (code && scopes.Contains(SmartScopes.LaunchPatient)) yield return "context-standalone-patient";
        if (code && scopes.Contains(SmartScopes.LaunchEncounter)) yield return "context-standalone-encounter";
        if (o.GrantTypes.Contains(GrantTypes.RefreshToken) && scopes.Contains(SmartScopes.OfflineAccess)) yield return "permission-offline";
        if (o.GrantTypes.Contains(GrantTypes.RefreshToken) && scopes.Contains(SmartScopes.OnlineAccess)) yield return "permission-online";
        if (resourceScopes.Any(r => r.Context == "patient")) yield return "permission-patient";
        if (resourceScopes.Any(r => r.Context == "user")) yield return "permission-user";
        if (resourceScopes.Any(r => r.IsV1)) yield return "permission-v1";
        if (resourceScopes.Any(r => !r.IsV1)) yield return "permission-v2";
        if (scopes.Contains(Scopes.OpenId)) yield return "sso-openid-connect";
    }

    /// <summary>The SMART security extension and service coding on /fhir/metadata (SMART App Launch 2.2 §"Capability Statement").</summary>
    public void Contribute(CapabilityStatement statement, string baseUrl)
    {
        var o = server.CurrentValue;
        var origin = baseUrl[..^FhirEndpoints.BasePath.Length];
        var uris = new Extension { Url = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris" };
        void Add(string name, string url) => uris.Extension.Add(new Extension(name, new FhirUri(url)));
        Add("authorize", Absolute(origin, o.AuthorizationEndpointUris));
        Add("token", Absolute(origin, o.TokenEndpointUris));
        Add("register", origin + RegistrationPath);
        Add("manage", origin + ManagementPath);
        Add("introspect", Absolute(origin, o.IntrospectionEndpointUris));
        Add("revoke", Absolute(origin, o.RevocationEndpointUris));
        foreach (var rest in statement.Rest)
        {
            rest.Security = new CapabilityStatement.SecurityComponent
            {
                Cors = true,
                Service = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR",
                    "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)")],
                Extension = [uris],
                Description = "SMART App Launch 2.2; discovery at " + origin + Path,
            };
        }
    }

    private static string Absolute(string origin, IReadOnlyList<Uri> uris) =>
        uris.Count == 0 ? throw new InvalidOperationException("An OpenIddict endpoint used by discovery has no URI configured.")
            : uris[0].IsAbsoluteUri ? uris[0].AbsoluteUri : origin + "/" + uris[0].OriginalString.TrimStart('/');

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
}
