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

    /// <summary>The client may not get tokens until an administrator enables it again (boolean).</summary>
    public const string Disabled = "ignis_disabled";

    /// <summary>When the client secret stops working, unix seconds (number; absent: never).</summary>
    public const string ClientSecretExpiresAt = "ignis_client_secret_expires_at";

    /// <summary>The secret replaced by the last rotation, hashed as OpenIddict hashes secrets (string).</summary>
    public const string PreviousClientSecret = "ignis_previous_client_secret";

    /// <summary>When <see cref="PreviousClientSecret"/> stops working, unix seconds (number).</summary>
    public const string PreviousClientSecretExpiresAt = "ignis_previous_client_secret_expires_at";

    /// <summary>RFC 7591 <c>contacts</c> (array of strings).</summary>
    public const string Contacts = "ignis_contacts";

    /// <summary>RFC 7591 <c>client_uri</c>, the app's home page (string).</summary>
    public const string ClientUri = "ignis_client_uri";

    /// <summary>RFC 7591 <c>policy_uri</c> (string).</summary>
    public const string PolicyUri = "ignis_policy_uri";

    /// <summary>RFC 7591 <c>tos_uri</c> (string).</summary>
    public const string TosUri = "ignis_tos_uri";

    /// <summary>RFC 7591 <c>software_id</c> (string).</summary>
    public const string SoftwareId = "ignis_software_id";

    /// <summary>RFC 7591 <c>software_version</c> (string).</summary>
    public const string SoftwareVersion = "ignis_software_version";
}
