using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Ignis.Client;

/// <summary>
/// One signed-in session as the token store keeps it: the tokens, the launch context, and the endpoints needed to
/// refresh and revoke them without another discovery round trip.
/// </summary>
public sealed record SmartTokens
{
    /// <summary>The FHIR base URL the tokens are for (no trailing slash).</summary>
    public required string FhirBaseUrl { get; init; }

    /// <summary>The client the tokens were issued to.</summary>
    public required string ClientId { get; init; }

    /// <summary>The token endpoint that refreshes them.</summary>
    public required Uri TokenEndpoint { get; init; }

    /// <summary>The RFC 7009 revocation endpoint, when the server has one.</summary>
    public Uri? RevocationEndpoint { get; init; }

    /// <summary>The bearer access token.</summary>
    public required string AccessToken { get; init; }

    /// <summary>When the access token expires (from <c>expires_in</c>); null when the server did not say.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The refresh token, when one was issued (<c>offline_access</c> or <c>online_access</c>).</summary>
    public string? RefreshToken { get; init; }

    /// <summary>The OpenID Connect id token, when <c>openid</c> was granted.</summary>
    public string? IdToken { get; init; }

    /// <summary>The granted scopes, space-separated, as the token response said.</summary>
    public string Scope { get; init; } = "";

    /// <summary>SMART launch context: the Patient id in context.</summary>
    public string? Patient { get; init; }

    /// <summary>SMART launch context: the Encounter id in context.</summary>
    public string? Encounter { get; init; }

    /// <summary>SMART launch context: <c>fhirContext</c> (an array of objects with <c>reference</c>, <c>canonical</c>, <c>type</c>, <c>role</c>), as JSON.</summary>
    public string? FhirContext { get; init; }

    /// <summary>SMART launch context: whether the app should show a patient banner.</summary>
    public bool? NeedPatientBanner { get; init; }

    /// <summary>The claims of the validated id token (<c>sub</c>, <c>fhirUser</c>, <c>name</c>, ...), as JSON.</summary>
    public string? IdTokenClaims { get; init; }

    /// <summary>The granted scopes as a list.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Scopes => Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary><c>fhirContext</c> parsed, or an empty array.</summary>
    [JsonIgnore]
    public JsonArray FhirContextItems => FhirContext is { } f && JsonNode.Parse(f) is JsonArray a ? a : [];

    /// <summary>A claim of the id token (string or JSON text), or null.</summary>
    public string? Claim(string name)
    {
        if (IdTokenClaims is null || JsonNode.Parse(IdTokenClaims) is not JsonObject claims || claims[name] is not { } value) return null;
        return value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString();
    }

    /// <summary>The user's FHIR resource (<c>fhirUser</c> claim), e.g. <c>https://ehr.example/fhir/Patient/123</c>.</summary>
    [JsonIgnore]
    public string? FhirUser => Claim("fhirUser");

    /// <summary>The user's subject identifier at the authorization server (<c>sub</c> claim).</summary>
    [JsonIgnore]
    public string? Subject => Claim("sub");

    /// <summary>True when the access token expires within <paramref name="margin"/> of <paramref name="now"/>.</summary>
    public bool ExpiresWithin(TimeSpan margin, DateTimeOffset now) => ExpiresAt is { } at && at - margin <= now;

    /// <summary>
    /// Builds the tokens from a token endpoint response (RFC 6749 §5.1 plus SMART's context parameters). On a refresh,
    /// pass the previous tokens: values the response leaves out (refresh token, id token, context) are kept.
    /// </summary>
    public static SmartTokens FromTokenResponse(JsonElement response, SmartTokens template, DateTimeOffset now)
    {
        string? Str(string name) => response.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        var expiresIn = response.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var seconds) ? seconds : (long?)null;
        var context = response.TryGetProperty("fhirContext", out var fc) && fc.ValueKind == JsonValueKind.Array ? fc.GetRawText() : null;
        bool? banner = response.TryGetProperty("need_patient_banner", out var b) && b.ValueKind is JsonValueKind.True or JsonValueKind.False ? b.GetBoolean() : null;
        return template with
        {
            AccessToken = Str("access_token") ?? throw new SmartClientException("The token response has no access_token."),
            ExpiresAt = expiresIn is { } s ? now.AddSeconds(s) : null,
            RefreshToken = Str("refresh_token") ?? template.RefreshToken,
            IdToken = Str("id_token") ?? template.IdToken,
            Scope = Str("scope") ?? template.Scope,
            Patient = Str("patient") ?? template.Patient,
            Encounter = Str("encounter") ?? template.Encounter,
            FhirContext = context ?? template.FhirContext,
            NeedPatientBanner = banner ?? template.NeedPatientBanner,
        };
    }
}
