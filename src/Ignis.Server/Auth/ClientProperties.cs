namespace Ignis.Server.Auth;

/// <summary>
/// Client metadata that OpenIddict's application entity has no column for. It lives in the
/// application's <c>Properties</c> JSON under these names, so registration, the portals, the CLI and
/// the token endpoint read and write one representation. Inline client keys use OpenIddict's own
/// <c>JsonWebKeySet</c>; legacy grants are OpenIddict permissions (<c>gt:password</c>, <c>gt:implicit</c>).
/// </summary>
public static class ClientProperties
{
    /// <summary>RFC 7591 <c>jwks_uri</c>: where the client's public keys are fetched (string).</summary>
    public const string JwksUri = "ignis_jwks_uri";

    /// <summary>RFC 7591 <c>token_endpoint_auth_method</c> the client registered (string).</summary>
    public const string TokenEndpointAuthMethod = "ignis_token_endpoint_auth_method";

    /// <summary>SHA-256 (base64url) of the RFC 7592 registration access token (string).</summary>
    public const string RegistrationAccessTokenHash = "ignis_registration_access_token_hash";

    /// <summary>The user id of the developer who registered the client, when one did (string).</summary>
    public const string Owner = "ignis_owner";

    /// <summary>Registration held until an admin approves it (boolean).</summary>
    public const string PendingApproval = "ignis_pending_approval";

    /// <summary>When the client was registered, unix seconds (number).</summary>
    public const string IssuedAt = "ignis_client_id_issued_at";

    /// <summary>SMART launch URL of the app, for the EHR launcher (string).</summary>
    public const string LaunchUri = "ignis_launch_uri";

    /// <summary>Logo URL of the app, shown on consent and connected-apps pages (string).</summary>
    public const string LogoUri = "ignis_logo_uri";
}
