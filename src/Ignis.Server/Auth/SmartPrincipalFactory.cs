using System.Security.Claims;
using System.Text.Json;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>
/// Builds the principal OpenIddict turns into codes and tokens, and the SMART token response parameters.
/// The launch context travels inside the authorization code and refresh token payloads (kept in the token table) as claims; only
/// the claims the resource server and the app need reach the access and id tokens.
/// </summary>
public sealed class SmartPrincipalFactory(IOptions<AuthOptions> options)
{
    public const string PatientClaim = "patient";
    public const string EncounterClaim = "encounter";
    public const string FhirContextClaim = "fhirContext";
    public const string FhirUserClaim = "fhirUser";
    /// <summary>The browser session the grant was made in (ends online_access refresh tokens with it).</summary>
    public const string SessionClaim = "ignis_sid";
    /// <summary>
    /// What kind of user the token acts for (patient, practitioner, admin, other), and for a patient user their own
    /// Patient id: the resource server intersects the scopes with the user's rights without a database lookup.
    /// </summary>
    public const string UserKindClaim = "ignis_user";
    public const string UserPatientClaim = "ignis_patient";

    public async Task<ClaimsPrincipal> CreateAsync(HttpContext http, IgnisUser user, IReadOnlyCollection<string> scopes,
        string? patient, string? encounter, string? fhirContext = null)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(Claims.Name, user.UserName)
            .SetClaim(Claims.PreferredUsername, user.UserName)
            .SetClaim(PatientClaim, patient)
            .SetClaim(EncounterClaim, encounter)
            .SetClaim(FhirContextClaim, fhirContext)
            .SetClaim(SessionClaim, http.User.FindFirst(SessionClaim)?.Value);
        if (user.FhirUser is { Length: > 0 } fhirUser)
            identity.SetClaim(FhirUserClaim, FhirEndpoints.BaseUrl(http) + "/" + fhirUser);
        await SetUserKindAsync(http, identity, user);
        identity.SetScopes(scopes);
        identity.SetResources(FhirEndpoints.BaseUrl(http));
        ApplyLifetimes(identity);
        SetDestinations(identity);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>The user kind: from the user's own record when that decides it, otherwise from their roles (a query).</summary>
    internal static async Task SetUserKindAsync(HttpContext http, ClaimsIdentity identity, IgnisUser user)
    {
        var kind = user.PatientId is not null ? "patient"
            : user.FhirUser?.StartsWith("Practitioner/", StringComparison.Ordinal) == true ? "practitioner"
            : null;
        if (kind is null)
        {
            var roles = await http.RequestServices.GetRequiredService<UserManager<IgnisUser>>().GetRolesAsync(user);
            kind = roles.Contains(IgnisRoles.Clinician) ? "practitioner" : roles.Contains(IgnisRoles.Admin) ? "admin" : "other";
        }
        identity.SetClaim(UserKindClaim, kind).SetClaim(UserPatientClaim, user.PatientId);
    }

    /// <summary>
    /// For the code and refresh grants: the principal from the code or refresh token, with the user's current
    /// claims (a renamed user or a new fhirUser link shows up at the next refresh) and the scopes narrowed when
    /// the client asked for fewer.
    /// </summary>
    public async Task<ClaimsPrincipal> RefreshAsync(HttpContext http, ClaimsPrincipal stored, IgnisUser user, IReadOnlyCollection<string> scopes)
    {
        var identity = (ClaimsIdentity)stored.Identity!;
        identity.SetClaim(Claims.Name, user.UserName).SetClaim(Claims.PreferredUsername, user.UserName);
        identity.SetClaim(FhirUserClaim, user.FhirUser is { Length: > 0 } f ? FhirEndpoints.BaseUrl(http) + "/" + f : null);
        await SetUserKindAsync(http, identity, user);
        identity.SetScopes(scopes);
        identity.SetResources(FhirEndpoints.BaseUrl(http));
        ApplyLifetimes(identity);
        SetDestinations(identity);
        return stored;
    }

    private void ApplyLifetimes(ClaimsIdentity identity)
    {
        var o = options.Value;
        identity.SetAccessTokenLifetime(o.AccessTokenLifetime);
        identity.SetAuthorizationCodeLifetime(o.AuthorizationCodeLifetime);
        var scopes = identity.GetScopes();
        identity.SetRefreshTokenLifetime(scopes.Contains(SmartScopes.OfflineAccess) ? o.OfflineRefreshTokenLifetime : o.OnlineRefreshTokenLifetime);
    }

    /// <summary>The SMART parameters of a token response (SMART App Launch 2.2 §"Response").</summary>
    public Dictionary<string, object?> ResponseParameters(HttpContext http, ClaimsPrincipal principal)
    {
        var result = new Dictionary<string, object?>();
        if (principal.GetClaim(PatientClaim) is { } patient)
        {
            result[PatientClaim] = patient;
            result["need_patient_banner"] = options.Value.NeedPatientBanner;
        }
        if (principal.GetClaim(EncounterClaim) is { } encounter) result[EncounterClaim] = encounter;
        if (principal.GetClaim(FhirContextClaim) is { } context)
            result[FhirContextClaim] = JsonSerializer.Deserialize<JsonElement>(context);
        result["smart_style_url"] = options.Value.SmartStyleUrl ?? SmartDiscovery.Origin(http) + SmartDiscovery.StylePath;
        return result;
    }

    /// <summary>
    /// Which claims go into which token; the scopes are read once, not once per claim. Each claim gets the destinations
    /// property OpenIddict reads (<see cref="OpenIddictConstants.Properties.Destinations"/>: a compact JSON array, as
    /// OpenIddict's own <c>SetDestinations</c> writes it), from constant strings: OpenIddict serialized each claim's
    /// list with a stream and a JSON writer of its own on every code exchange and refresh.
    /// </summary>
    private static void SetDestinations(ClaimsIdentity identity)
    {
        var scopes = identity.GetScopes();
        foreach (var claim in identity.Claims)
        {
            if (Destinations(claim, scopes) is { } destinations) claim.Properties[OpenIddictConstants.Properties.Destinations] = destinations;
            else claim.Properties.Remove(OpenIddictConstants.Properties.Destinations);
        }
    }

    internal const string AccessAndIdentityToken = "[\"" + OpenIddictConstants.Destinations.AccessToken + "\",\"" + OpenIddictConstants.Destinations.IdentityToken + "\"]";
    internal const string IdentityTokenOnly = "[\"" + OpenIddictConstants.Destinations.IdentityToken + "\"]";
    internal const string AccessTokenOnly = "[\"" + OpenIddictConstants.Destinations.AccessToken + "\"]";

    /// <summary>The destinations of a claim as JSON; null: none (the claim stays in the code and refresh token payloads only).</summary>
    private static string? Destinations(Claim claim, System.Collections.Immutable.ImmutableArray<string> scopes) => claim.Type switch
    {
        Claims.Subject => AccessAndIdentityToken,
        Claims.Name or Claims.PreferredUsername when scopes.Contains(SmartScopes.Profile) => IdentityTokenOnly,
        FhirUserClaim when scopes.Contains(SmartScopes.FhirUser) => AccessAndIdentityToken,
        // The resource server binds patient/ scopes to this patient without a lookup.
        PatientClaim or EncounterClaim or UserKindClaim or UserPatientClaim => AccessTokenOnly,
        // Everything else (session id, fhirContext) stays in the code and refresh token payloads, which never leave the token table.
        _ => null,
    };
}
