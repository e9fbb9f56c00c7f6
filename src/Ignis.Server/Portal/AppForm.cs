using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Portal;

/// <summary>The kinds of app the developer portal registers, each with the defaults of its SMART profile.</summary>
public static class AppKinds
{
    /// <summary>A browser or native app that cannot keep a secret: PKCE, no client authentication.</summary>
    public const string Public = "public";
    /// <summary>A web app with a server that keeps a secret.</summary>
    public const string Confidential = "confidential";
    /// <summary>A SMART Backend Services client: client credentials, no user.</summary>
    public const string Backend = "backend";

    public static readonly string[] All = [Public, Confidential, Backend];

    public static string Describe(string kind) => kind switch
    {
        Public => "Public app — runs in a browser or on a device, cannot keep a secret (PKCE)",
        Confidential => "Confidential app — a web server that keeps a client secret or a key",
        Backend => "Backend service — no user, client credentials with a key (SMART Backend Services)",
        _ => kind,
    };
}

/// <summary>
/// The register/edit form of the developer portal, field by field as the page posts it, and its translation to
/// the registry's RFC 7591 metadata and back.
/// </summary>
public sealed class AppForm
{
    public string? Name { get; set; }
    public string Kind { get; set; } = AppKinds.Public;
    /// <summary>One redirect URI per line.</summary>
    public string? RedirectUris { get; set; }
    public string? LaunchUrl { get; set; }
    public string? LogoUrl { get; set; }
    /// <summary>Space-separated scopes the app may ask for.</summary>
    public string? Scopes { get; set; }
    /// <summary>A JWK Set as JSON, for key-based client authentication.</summary>
    public string? Jwks { get; set; }
    public string? JwksUri { get; set; }
    /// <summary>Whether the app may keep access with refresh tokens.</summary>
    public bool RefreshTokens { get; set; } = true;

    public static AppForm From(RegisteredClient client)
    {
        var m = client.Metadata;
        var grants = m.GrantTypes ?? [];
        var kind = grants.Contains(GrantTypes.ClientCredentials) && !grants.Contains(GrantTypes.AuthorizationCode) ? AppKinds.Backend
            : client.IsPublic ? AppKinds.Public : AppKinds.Confidential;
        return new AppForm
        {
            Name = m.ClientName,
            Kind = kind,
            RedirectUris = string.Join('\n', m.RedirectUris),
            LaunchUrl = m.LaunchUri,
            LogoUrl = m.LogoUri,
            Scopes = m.Scope,
            Jwks = m.Jwks?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }),
            JwksUri = m.JwksUri,
            RefreshTokens = grants.Contains(GrantTypes.RefreshToken),
        };
    }

    /// <summary>The metadata to register, or a problem with the form itself (the registry checks the rest).</summary>
    public ClientMetadata ToMetadata(out string? problem)
    {
        problem = null;
        if (!AppKinds.All.Contains(Kind)) problem = "Choose the kind of app.";
        JsonObject? jwks = null;
        if (!string.IsNullOrWhiteSpace(Jwks))
        {
            try
            {
                jwks = JsonNode.Parse(Jwks) as JsonObject;
            }
            catch (JsonException)
            {
            }
            if (jwks is null) problem ??= "The JWKS must be a JSON object: {\"keys\": [...]}.";
        }
        var hasKeys = jwks is not null || !string.IsNullOrWhiteSpace(JwksUri);
        var authMethod = Kind switch
        {
            AppKinds.Public => ClientMetadataValidator.AuthNone,
            _ when hasKeys => ClientMetadataValidator.AuthPrivateKeyJwt,
            _ => ClientMetadataValidator.AuthSecretBasic,
        };
        List<string> grants = Kind == AppKinds.Backend ? [GrantTypes.ClientCredentials] : [GrantTypes.AuthorizationCode];
        if (Kind != AppKinds.Backend && RefreshTokens) grants.Add(GrantTypes.RefreshToken);
        var redirects = (RedirectUris ?? "").Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new ClientMetadata
        {
            ClientName = Blank(Name),
            RedirectUris = Kind == AppKinds.Backend ? [] : redirects,
            GrantTypes = grants,
            ResponseTypes = Kind == AppKinds.Backend ? [] : [ResponseTypes.Code],
            TokenEndpointAuthMethod = authMethod,
            Scope = Blank(string.Join(' ', (Scopes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))),
            Jwks = jwks,
            JwksUri = Blank(JwksUri),
            LaunchUri = Kind == AppKinds.Backend ? null : Blank(LaunchUrl),
            LogoUri = Blank(LogoUrl),
        };
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
