using System.Security.Claims;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>
/// /oauth/authorize in pass-through mode. OpenIddict has already checked the client, redirect_uri, response
/// type, PKCE and aud (<see cref="SmartServerHandlers"/>); this decides who the user is, which launch context
/// applies and what they consented to, sending the browser through the login, patient picker and consent
/// pages and back here until it can answer with a code (or access_denied).
/// </summary>
public sealed class AuthorizeEndpoint(
    UserManager<IgnisUser> users,
    LaunchService launches,
    AuthorizationTickets tickets,
    SmartPrincipalFactory principals,
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    TimeProvider clock,
    IOptions<AuthOptions> options)
{
    public const string LaunchParameter = "launch";

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("/oauth/authorize was reached without an OpenIddict request.");
        var parameters = (http.Request.HasFormContentType
                ? http.Request.Form.AsEnumerable()
                : http.Request.Query.AsEnumerable())
            .ToList();
        var clientId = request.ClientId!;

        // System scopes belong to backend services (client_credentials), never to a user's grant.
        var requested = SmartScopes.Filter(request.GetScopes(), options.Value.ExtraScopes)
            .Where(s => !SmartScopes.IsSystem(s)).ToList();
        if (requested.Contains(SmartScopes.Introspect) && !await MayRequestAsync(clientId, SmartScopes.Introspect))
            requested.Remove(SmartScopes.Introspect);
        // SMART requires scope; a request none of whose scopes this server knows cannot be granted anything.
        if (requested.Count == 0)
            return Reject(Errors.InvalidScope, "None of the requested scopes is supported (or no scope was sent).");

        var launchId = (string?)request[LaunchParameter];
        LaunchContext? launch = null;
        if (!string.IsNullOrEmpty(launchId))
        {
            launch = await launches.FindUsableAsync(launchId, clientId, http.RequestAborted);
            if (launch is null)
                return Reject(Errors.InvalidRequest, "The launch id is unknown, expired, already used or issued for another app.");
        }

        var session = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal!) : null;
        var consent = tickets.UnprotectDecision(parameters.LastOrDefault(p => p.Key == AuthorizeParameters.Consent).Value);
        var mustLogin = user is null
            || (consent is null && request.HasPromptValue(PromptValues.Login))
            || (request.MaxAge is { } maxAge && session.Properties?.IssuedUtc is { } issued
                && DateTimeOffset.UtcNow - issued > TimeSpan.FromSeconds(maxAge));
        if (mustLogin)
        {
            if (request.HasPromptValue(PromptValues.None))
                return Reject(Errors.LoginRequired, "The user is not signed in.");
            // prompt=login is honoured once: the login page returns here without it.
            var back = parameters.Where(p => p.Key is not (Parameters.Prompt or AuthorizeParameters.Consent)).ToList();
            var prompt = string.Join(' ', request.GetPromptValues().Remove(PromptValues.Login));
            if (prompt.Length > 0) back.Add(new(Parameters.Prompt, prompt));
            return Results.Challenge(new AuthenticationProperties { RedirectUri = http.Request.PathBase + http.Request.Path + QueryString.Create(back) },
                [IdentityConstants.ApplicationScheme]);
        }

        if (launch is not null && launch.UserId != user!.Id)
            return Reject(Errors.InvalidRequest, "The launch id was issued to another user.");

        if (consent is not null)
            return await AnswerAsync(http, user!, clientId, consent, parameters, requested, launch);

        // Work out the launch context and what the user still has to choose.
        var granted = new List<string>(requested);
        string? patient = null, encounter = null;
        var picker = false;
        var useLaunch = launch is not null && granted.Contains(SmartScopes.Launch);
        if (!useLaunch) granted.Remove(SmartScopes.Launch);
        var wantsPatient = granted.Contains(SmartScopes.LaunchPatient) || granted.Any(SmartScopes.IsPatient);
        if (useLaunch)
        {
            patient = launch!.Patient;
            encounter = launch.Encounter;
        }
        else if (user!.PatientId is { } own)
        {
            patient = own; // a patient always acts for their own record
        }
        else if (wantsPatient && await users.IsInRoleAsync(user, IgnisRoles.Clinician))
        {
            picker = true;
        }
        if (patient is null && !picker)
        {
            // No patient can be in context: patient-level scopes cannot be granted.
            granted.RemoveAll(s => s == SmartScopes.LaunchPatient || SmartScopes.IsPatient(s));
        }
        var encounterPicker = !useLaunch && granted.Contains(SmartScopes.LaunchEncounter) && (picker || patient is not null);

        // Remembered consent: the user already allowed this app these scopes (or more) and has not taken it back.
        if (!picker && !encounterPicker && !request.HasPromptValue(PromptValues.Consent)
            && await IsConsentRememberedAsync(user!.Id, clientId, granted, http.RequestAborted))
        {
            if (useLaunch && !await launches.TryConsumeAsync(launch!.Id, user.Id, http.RequestAborted))
                return Reject(Errors.InvalidRequest, "The launch id has already been used.");
            var remembered = await principals.CreateAsync(http, user, granted, patient, encounter, useLaunch ? launch!.FhirContext : null);
            return Results.SignIn(remembered, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }
        if (request.HasPromptValue(PromptValues.None))
            return Reject(Errors.ConsentRequired, "The user must approve this app interactively.");

        var pending = new PendingAuthorization(QueryString.Create(parameters.Where(p => p.Key != AuthorizeParameters.Consent)).ToString(),
            user!.Id, clientId, [.. granted], patient, encounter, picker, encounterPicker);
        var page = picker || encounterPicker ? AuthPages.PatientPicker : AuthPages.Consent;
        return Results.Redirect($"{http.Request.PathBase}{page}?request={Uri.EscapeDataString(tickets.Protect(pending))}");
    }

    private async Task<IResult> AnswerAsync(HttpContext http, IgnisUser user, string clientId, ConsentDecision consent,
        List<KeyValuePair<string, StringValues>> parameters, List<string> requested, LaunchContext? launch)
    {
        if (consent.UserId != user.Id || consent.RequestHash != AuthorizationTickets.HashRequest(parameters))
            return Reject(Errors.InvalidRequest, "The consent does not belong to this request.");
        if (!consent.Allowed)
            return Reject(Errors.AccessDenied, "The user denied the request.");

        // The consent page may only narrow what was requested.
        var granted = consent.Scopes.Where(requested.Contains).Distinct(StringComparer.Ordinal).ToList();
        if (launch is not null && granted.Contains(SmartScopes.Launch)
            && !await launches.TryConsumeAsync(launch.Id, user.Id, http.RequestAborted))
            return Reject(Errors.InvalidRequest, "The launch id has already been used.");

        await RememberConsentAsync(user.Id, granted, clientId, http.RequestAborted);

        // The EHR launch's fhirContext (SMART 2.2) goes with its patient and encounter.
        var fhirContext = launch is not null && granted.Contains(SmartScopes.Launch) ? launch.FhirContext : null;
        var principal = await principals.CreateAsync(http, user, granted, consent.Patient, consent.Encounter, fhirContext);
        return Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// A consent is remembered as a permanent OpenIddict authorization of the user for the client, holding the scopes
    /// allowed. It is not attached to tokens (each grant keeps its own ad-hoc authorization, so one app's grants on two
    /// devices do not revoke each other); revoking the app or signing out everywhere revokes it too.
    /// </summary>
    private async Task<bool> IsConsentRememberedAsync(string userId, string clientId, List<string> scopes, CancellationToken ct)
    {
        var lifetime = options.Value.ConsentLifetime;
        if (lifetime <= TimeSpan.Zero || await applications.FindByClientIdAsync(clientId, ct) is not { } application
            || await applications.HasConsentTypeAsync(application, ConsentTypes.Systematic, ct))
            return false;
        var now = clock.GetUtcNow();
        await foreach (var authorization in authorizations.FindAsync(userId, await applications.GetIdAsync(application, ct),
            Statuses.Valid, AuthorizationTypes.Permanent, [.. scopes], ct))
            if (await authorizations.GetCreationDateAsync(authorization, ct) is { } created && now - created < lifetime)
                return true;
        return false;
    }

    private async Task RememberConsentAsync(string userId, List<string> scopes, string clientId, CancellationToken ct)
    {
        if (options.Value.ConsentLifetime <= TimeSpan.Zero || await applications.FindByClientIdAsync(clientId, ct) is not { } application) return;
        var applicationId = await applications.GetIdAsync(application, ct);
        // Read first, then write: a write while the query's reader is open would have to upgrade its read snapshot,
        // which SQLite refuses at once ("database is locked") when another connection wrote in between.
        var earlier = new List<object>();
        await foreach (var authorization in authorizations.FindAsync(userId, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, null, ct))
            earlier.Add(authorization);
        foreach (var authorization in earlier) await authorizations.TryRevokeAsync(authorization, ct);
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            Subject = userId,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.Permanent,
            CreationDate = clock.GetUtcNow(),
        };
        descriptor.Scopes.UnionWith(scopes);
        await authorizations.CreateAsync(descriptor, ct);
    }

    /// <summary>Scopes outside the SMART grammar that an admin hands out per client (the OpenIddict scope permission).</summary>
    private async Task<bool> MayRequestAsync(string clientId, string scope) =>
        await applications.FindByClientIdAsync(clientId) is { } application
        && await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + scope);

    private static IResult Reject(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}

/// <summary>Paths of the pages the authorize flow sends the browser to.</summary>
public static class AuthPages
{
    public const string Login = "/account/login";
    public const string Logout = "/account/logout";
    public const string PatientPicker = "/authorize/patient";
    public const string Consent = "/authorize/consent";
    /// <summary>Where authorize and logout errors that cannot be redirected to the app are shown (re-executed, 400).</summary>
    public const string Error = "/authorize/error";
}
