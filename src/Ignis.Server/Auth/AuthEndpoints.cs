using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Fhir.Engine;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>The HTTP surface of the authorization server that is ours rather than OpenIddict's.</summary>
public static class AuthEndpoints
{
    public const string Authorize = "/oauth/authorize";
    public const string Token = "/oauth/token";
    public const string Introspect = "/oauth/introspect";
    public const string Revoke = "/oauth/revoke";
    public const string UserInfo = "/oauth/userinfo";
    public const string Logout = "/oauth/logout";
    public const string Jwks = "/oauth/jwks";

    /// <summary>The token endpoint's own step, after OpenIddict validated the request and authenticated the client.</summary>
    private static Task<IResult> TokenAsync(HttpContext http) =>
        http.GetOpenIddictServerRequest() is { } request && request.IsClientCredentialsGrantType()
            ? http.RequestServices.GetRequiredService<ClientCredentialsGrant>().HandleAsync(http, request)
            : http.RequestServices.GetRequiredService<TokenEndpoint>().HandleAsync(http);

    public static IEndpointRouteBuilder MapIgnisAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var oauth = app.MapGroup("/oauth").DisableAntiforgery();
        oauth.MapMethods("/authorize", ["GET", "POST"], (HttpContext http, AuthorizeEndpoint endpoint) => endpoint.HandleAsync(http));
        oauth.MapPost("/token", (Delegate)TokenAsync);
        oauth.MapMethods("/userinfo", ["GET", "POST"], UserInfoAsync);
        oauth.MapMethods("/logout", ["GET", "POST"], LogoutAsync);
        oauth.MapPost("/launch", LaunchAsync);
        app.MapClientRegistration();

        app.MapGet(SmartDiscovery.Path, (HttpContext http, SmartDiscovery discovery) =>
            Results.Json(discovery.Document(SmartDiscovery.Origin(http)), contentType: "application/json"));
        app.MapGet(SmartDiscovery.StylePath, () => Results.Json(SmartStyle, contentType: "application/json"));
        return app;
    }

    /// <summary>OpenID Connect Core §5.3; the access token was validated by OpenIddict.</summary>
    private static async Task<IResult> UserInfoAsync(HttpContext http, UserManager<IgnisUser> users)
    {
        var principal = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var user = principal is null ? null : await users.FindByIdAsync(principal.GetClaim(Claims.Subject) ?? "");
        if (principal is null || user is null)
            return Results.Challenge(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The access token does not belong to an existing user.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

        var claims = new Dictionary<string, object?> { [Claims.Subject] = user.Id };
        if (principal.HasScope(SmartScopes.Profile))
        {
            claims[Claims.Name] = user.UserName;
            claims[Claims.PreferredUsername] = user.UserName;
        }
        if (principal.HasScope(SmartScopes.FhirUser) && user.FhirUser is { Length: > 0 } f)
            claims[SmartPrincipalFactory.FhirUserClaim] = FhirEndpoints.BaseUrl(http) + "/" + f;
        return Results.Json(claims);
    }

    /// <summary>OpenID Connect RP-initiated logout: ends the browser session, then OpenIddict redirects to post_logout_redirect_uri.</summary>
    private static async Task<IResult> LogoutAsync(HttpContext http, SignInManager<IgnisUser> signIn, AuthDbContext db, TimeProvider clock)
    {
        await EndSessionAsync(http, signIn, db, clock);
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    public static async Task EndSessionAsync(HttpContext http, SignInManager<IgnisUser> signIn, AuthDbContext db, TimeProvider clock)
    {
        var session = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Principal?.FindFirst(SmartPrincipalFactory.SessionClaim)?.Value is { } sid)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await db.Sessions.Where(s => s.Id == sid && s.EndedAt == null).ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now));
        }
        await signIn.SignOutAsync();
    }

    /// <summary>
    /// Mints an EHR launch id for the signed-in clinician (the /launcher page and EHR integrations call it).
    /// JSON only: a cross-site form cannot send it without a CORS preflight, and the session cookie is SameSite.
    /// </summary>
    private static async Task<IResult> LaunchAsync(HttpContext http, UserManager<IgnisUser> users, LaunchService launches,
        FhirService fhir, IOpenIddictApplicationManager applications, IOptions<AuthOptions> options)
    {
        var session = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal!) : null;
        if (user is null) return Results.Problem(statusCode: 401, title: "Sign in first.");
        if (!await users.IsInRoleAsync(user, IgnisRoles.Clinician)) return Results.Problem(statusCode: 403, title: "Only clinicians can launch apps.");
        if (http.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return Results.Problem(statusCode: 415, title: "Send the launch request as application/json.");

        LaunchRequest? body;
        try
        {
            body = await http.Request.ReadFromJsonAsync<LaunchRequest>(http.RequestAborted);
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body is null || string.IsNullOrEmpty(body.Patient))
            return Results.Problem(statusCode: 400, title: "patient is required.");
        if (!await ExistsAsync(fhir, http, "Patient", body.Patient))
            return Results.Problem(statusCode: 400, title: "No such Patient.");
        if (body.Encounter is { Length: > 0 } && !await ExistsAsync(fhir, http, "Encounter", body.Encounter))
            return Results.Problem(statusCode: 400, title: "No such Encounter.");
        if (body.ClientId is { Length: > 0 } && await applications.FindByClientIdAsync(body.ClientId) is null)
            return Results.Problem(statusCode: 400, title: "No such client.");
        string? fhirContext = null;
        if (body.FhirContext is { Count: > 0 } context)
        {
            if (!context.All(IsFhirContextItem))
                return Results.Problem(statusCode: 400, title: "fhirContext must be an array of SMART 2.2 context objects, each with a reference, canonical or identifier.");
            fhirContext = context.ToJsonString();
        }

        var launch = await launches.CreateAsync(user.Id, NullIfEmpty(body.ClientId), body.Patient, NullIfEmpty(body.Encounter), fhirContext, http.RequestAborted);
        return Results.Json(new { launch = launch.Id, expires_in = (int)options.Value.LaunchLifetime.TotalSeconds, iss = FhirEndpoints.BaseUrl(http) },
            statusCode: 201);
    }

    /// <summary>
    /// SMART App Launch 2.2 §"fhirContext": an object with a relative reference ("Observation/123"), a canonical or
    /// an identifier, and optionally the resource type and a role (an absolute URI).
    /// </summary>
    private static bool IsFhirContextItem(JsonNode? item)
    {
        if (item is not JsonObject o) return false;
        static bool IsString(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0;
        var hasTarget = (o["reference"] is { } r && IsString(r) && r.GetValue<string>().Split('/') is [{ Length: > 0 }, { Length: > 0 }])
            || (o["canonical"] is { } c && IsString(c))
            || o["identifier"] is JsonObject;
        return hasTarget
            && (o["type"] is null || IsString(o["type"]))
            && (o["role"] is null || (IsString(o["role"]) && Uri.IsWellFormedUriString(o["role"]!.GetValue<string>(), UriKind.Absolute)));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    internal static async Task<bool> ExistsAsync(FhirService fhir, HttpContext http, string type, string id)
    {
        if (!FhirService.IsValidId(id)) return false;
        var response = await fhir.ExecuteAsync(new FhirRequest { Interaction = Interaction.Read, Method = "GET", Type = type, Id = id },
            FhirEndpoints.BaseUrl(http), http.RequestAborted);
        return response.Status == 200;
    }

    private sealed record LaunchRequest(
        [property: System.Text.Json.Serialization.JsonPropertyName("patient")] string? Patient,
        [property: System.Text.Json.Serialization.JsonPropertyName("encounter")] string? Encounter,
        [property: System.Text.Json.Serialization.JsonPropertyName("client_id")] string? ClientId,
        [property: System.Text.Json.Serialization.JsonPropertyName("fhirContext")] JsonArray? FhirContext);

    /// <summary>SMART styling for embedded apps (context-passthrough-style).</summary>
    private static readonly object SmartStyle = new Dictionary<string, object>
    {
        ["color_background"] = "#f6f7f9",
        ["color_error"] = "#b00020",
        ["color_highlight"] = "#6b3fa0",
        ["color_modal_backdrop"] = "",
        ["color_success"] = "#1b7f3b",
        ["color_text"] = "#1d1d1f",
        ["dim_border_radius"] = "6px",
        ["dim_font_size"] = "16px",
        ["dim_spacing_size"] = "16px",
        ["font_family_body"] = "system-ui, sans-serif",
        ["font_family_heading"] = "system-ui, sans-serif",
    };
}
