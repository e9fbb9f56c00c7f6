using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Primitives;

namespace Ignis.Server.Auth;

/// <summary>
/// The state the login, patient picker and consent pages carry between the authorize request and its answer,
/// protected with ASP.NET Core Data Protection (encrypted, authenticated, time-limited) so pages cannot be
/// fed a context the user did not choose.
/// </summary>
/// <remarks>
/// A <see cref="PendingAuthorization"/> takes the validated authorize request to the picker and consent pages.
/// A <see cref="ConsentDecision"/> takes the user's answer back to /oauth/authorize, where OpenIddict issues
/// the code or the access_denied error; it is bound to the user and to a hash of the exact request, so it
/// cannot be replayed onto another request.
/// </remarks>
public sealed class AuthorizationTickets(IDataProtectionProvider provider)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _pending = provider.CreateProtector("Ignis.Auth.Pending").ToTimeLimitedDataProtector();
    private readonly ITimeLimitedDataProtector _decision = provider.CreateProtector("Ignis.Auth.Consent").ToTimeLimitedDataProtector();

    public string Protect(PendingAuthorization pending) =>
        _pending.Protect(JsonSerializer.Serialize(pending), Lifetime);

    public PendingAuthorization? UnprotectPending(string? value) => Unprotect<PendingAuthorization>(_pending, value);

    public string Protect(ConsentDecision decision) =>
        _decision.Protect(JsonSerializer.Serialize(decision), Lifetime);

    public ConsentDecision? UnprotectDecision(string? value) => Unprotect<ConsentDecision>(_decision, value);

    private static T? Unprotect<T>(ITimeLimitedDataProtector protector, string? value) where T : class
    {
        if (string.IsNullOrEmpty(value) || value.Length > 16_384) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(protector.Unprotect(value));
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A digest of the authorize request's parameters (order-independent), minus our own.</summary>
    public static string HashRequest(IEnumerable<KeyValuePair<string, StringValues>> parameters)
    {
        var text = new StringBuilder();
        foreach (var (key, values) in parameters.Where(p => p.Key != AuthorizeParameters.Consent).OrderBy(p => p.Key, StringComparer.Ordinal))
            foreach (var v in values)
                text.Append(key).Append('\0').Append(v).Append('\0');
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

/// <summary>Names of the parameters Ignis adds to an authorize request on its way back from the consent page.</summary>
public static class AuthorizeParameters
{
    public const string Consent = "ignis_consent";
}

/// <summary>A validated authorize request waiting for the user's choices.</summary>
/// <param name="Query">The authorize request's parameters as a query string ("?client_id=...").</param>
/// <param name="NeedsPatientPicker">The user must pick the patient before consenting.</param>
/// <param name="NeedsEncounterPicker">The user may pick an encounter (launch/encounter was requested).</param>
public sealed record PendingAuthorization(
    string Query, string UserId, string ClientId, string[] Scopes,
    string? Patient, string? Encounter, bool NeedsPatientPicker, bool NeedsEncounterPicker);

/// <summary>The user's answer on the consent page.</summary>
public sealed record ConsentDecision(string UserId, string RequestHash, bool Allowed, string[] Scopes, string? Patient, string? Encounter);
