using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ignis.Server.Auth.Clients;

/// <summary>
/// Client metadata as RFC 7591 §2 (and OpenID Connect Dynamic Client Registration for application_type and
/// initiate_login_uri) names it. What a caller registers or updates; <see cref="ClientRegistry"/> validates it and
/// fills the RFC defaults. Null means "not given".
/// </summary>
public sealed record ClientMetadata
{
    /// <summary>client_name: shown to users on the consent and connected-apps pages.</summary>
    public string? ClientName { get; init; }

    /// <summary>redirect_uris: https, or for native apps http on a loopback address or a private-use scheme; no fragments.</summary>
    public IReadOnlyList<string> RedirectUris { get; init; } = [];

    /// <summary>post_logout_redirect_uris (OpenID Connect RP-initiated logout); same rules as redirect_uris.</summary>
    public IReadOnlyList<string> PostLogoutRedirectUris { get; init; } = [];

    /// <summary>grant_types; default authorization_code. password and implicit only for an administrator.</summary>
    public IReadOnlyList<string>? GrantTypes { get; init; }

    /// <summary>response_types; default code (none when authorization_code is not a grant type).</summary>
    public IReadOnlyList<string>? ResponseTypes { get; init; }

    /// <summary>token_endpoint_auth_method: none, client_secret_basic (default), client_secret_post or private_key_jwt.</summary>
    public string? TokenEndpointAuthMethod { get; init; }

    /// <summary>scope: the scopes the client may ask for, space-separated.</summary>
    public string? Scope { get; init; }

    /// <summary>jwks: the client's public keys (a JWK Set), for private_key_jwt. Not with <see cref="JwksUri"/>.</summary>
    public JsonObject? Jwks { get; init; }

    /// <summary>jwks_uri: where the client's public keys are published, for private_key_jwt. Not with <see cref="Jwks"/>.</summary>
    public string? JwksUri { get; init; }

    /// <summary>application_type (OpenID Connect): web or native; default native when every redirect is loopback or a private-use scheme.</summary>
    public string? ApplicationType { get; init; }

    public string? LogoUri { get; init; }
    public string? ClientUri { get; init; }
    public string? PolicyUri { get; init; }
    public string? TosUri { get; init; }

    /// <summary>The SMART launch URL the EHR launcher opens (launch_uri, or OpenID Connect's initiate_login_uri).</summary>
    public string? LaunchUri { get; init; }

    public IReadOnlyList<string> Contacts { get; init; } = [];
    public string? SoftwareId { get; init; }
    public string? SoftwareVersion { get; init; }

    /// <summary>RFC 8705 §2.1.2: the certificate subject (DN or one SAN) a tls_client_auth client presents.</summary>
    public Mtls.TlsClientSubject? TlsClientSubject { get; init; }

    /// <summary>RFC 8705 §3.4 tls_client_certificate_bound_access_tokens.</summary>
    public bool? TlsClientCertificateBoundAccessTokens { get; init; }
}

/// <summary>The registration JSON of RFC 7591 §2 and §3.2.1, read and written field by field.</summary>
public static class ClientMetadataJson
{
    /// <summary>Reads a registration request. Unknown fields are ignored (RFC 7591 §2); a known field of the wrong type is an error.</summary>
    public static ClientMetadata Read(JsonObject json, out ClientError? error)
    {
        error = null;
        string? problem = null;
        string? Str(string name)
        {
            if (!json.TryGetPropertyValue(name, out var node) || node is null) return null;
            if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
            problem ??= $"'{name}' must be a string.";
            return null;
        }
        IReadOnlyList<string>? List(string name)
        {
            if (!json.TryGetPropertyValue(name, out var node) || node is null) return null;
            if (node is JsonArray array && array.All(v => v?.GetValueKind() == JsonValueKind.String))
                return [.. array.Select(v => v!.GetValue<string>())];
            problem ??= $"'{name}' must be an array of strings.";
            return null;
        }
        JsonObject? Obj(string name)
        {
            if (!json.TryGetPropertyValue(name, out var node) || node is null) return null;
            if (node is JsonObject o) return (JsonObject)o.DeepClone();
            problem ??= $"'{name}' must be a JSON object.";
            return null;
        }

        var launch = Str("launch_uri");
        var initiate = Str("initiate_login_uri");
        if (launch is not null && initiate is not null && launch != initiate)
            problem ??= "'launch_uri' and 'initiate_login_uri' name the same thing; send one.";
        var metadata = new ClientMetadata
        {
            ClientName = Str("client_name"),
            RedirectUris = List("redirect_uris") ?? [],
            PostLogoutRedirectUris = List("post_logout_redirect_uris") ?? [],
            GrantTypes = List("grant_types"),
            ResponseTypes = List("response_types"),
            TokenEndpointAuthMethod = Str("token_endpoint_auth_method"),
            Scope = Str("scope"),
            Jwks = Obj("jwks"),
            JwksUri = Str("jwks_uri"),
            ApplicationType = Str("application_type"),
            LogoUri = Str("logo_uri"),
            ClientUri = Str("client_uri"),
            PolicyUri = Str("policy_uri"),
            TosUri = Str("tos_uri"),
            LaunchUri = launch ?? initiate,
            Contacts = List("contacts") ?? [],
            SoftwareId = Str("software_id"),
            SoftwareVersion = Str("software_version"),
            TlsClientSubject = Mtls.MtlsClientMetadata.ReadSubject(json, ref problem),
            TlsClientCertificateBoundAccessTokens = Mtls.MtlsClientMetadata.ReadBoundAccessTokens(json, ref problem),
        };
        if (problem is not null) error = ClientError.InvalidMetadata(problem);
        return metadata;
    }

    /// <summary>The client information response (RFC 7591 §3.2.1, RFC 7592 §3) without the one-time secrets.</summary>
    public static JsonObject Write(RegisteredClient client, string registrationClientUri)
    {
        var m = client.Metadata;
        var json = new JsonObject
        {
            ["client_id"] = client.ClientId,
            ["client_id_issued_at"] = client.ClientIdIssuedAt.ToUnixTimeSeconds(),
        };
        if (client.HasSecret) json["client_secret_expires_at"] = client.ClientSecretExpiresAt?.ToUnixTimeSeconds() ?? 0;
        json["registration_client_uri"] = registrationClientUri;
        Add(json, "client_name", m.ClientName);
        json["redirect_uris"] = Array(m.RedirectUris);
        if (m.PostLogoutRedirectUris.Count > 0) json["post_logout_redirect_uris"] = Array(m.PostLogoutRedirectUris);
        json["grant_types"] = Array(m.GrantTypes ?? []);
        json["response_types"] = Array(m.ResponseTypes ?? []);
        json["token_endpoint_auth_method"] = m.TokenEndpointAuthMethod;
        Add(json, "scope", m.Scope);
        if (m.Jwks is not null) json["jwks"] = m.Jwks.DeepClone();
        Add(json, "jwks_uri", m.JwksUri);
        Add(json, "application_type", m.ApplicationType);
        Add(json, "logo_uri", m.LogoUri);
        Add(json, "client_uri", m.ClientUri);
        Add(json, "policy_uri", m.PolicyUri);
        Add(json, "tos_uri", m.TosUri);
        Add(json, "launch_uri", m.LaunchUri);
        Add(json, "initiate_login_uri", m.LaunchUri);
        if (m.Contacts.Count > 0) json["contacts"] = Array(m.Contacts);
        Add(json, "software_id", m.SoftwareId);
        Add(json, "software_version", m.SoftwareVersion);
        Mtls.MtlsClientMetadata.Write(json, m);
        if (client.Status != ClientStatus.Active) json["ignis_status"] = client.Status == ClientStatus.PendingApproval ? "pending_approval" : "disabled";
        return json;
    }

    private static void Add(JsonObject json, string name, string? value)
    {
        if (value is not null) json[name] = value;
    }

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
}
