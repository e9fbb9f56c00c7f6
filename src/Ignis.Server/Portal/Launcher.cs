using System.Text.Json;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Server.Audit;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Portal;

public sealed record PatientChoice(string Id, string Text);

public sealed record EncounterChoice(string Id, string Text);

/// <summary>An app the launcher offers: it may use the authorization code grant.</summary>
public sealed record LaunchableApp(string ClientId, string Name, string? LaunchUri, bool IsPublic, IReadOnlyList<string> RedirectUris);

/// <summary>
/// The simulated EHR: finds patients and their encounters through the FHIR engine, lists the apps that can be
/// launched, and mints an EHR launch (<see cref="LaunchService"/>) bound to the clinician and the app.
/// </summary>
public sealed class Launcher(FhirService fhir, AuthDbContext db, LaunchService launches, SecurityLog log)
{
    public const int MaxResults = 50;

    public async Task<List<PatientChoice>> FindPatientsAsync(HttpContext http, string? name)
    {
        var query = new List<(string, string)> { ("_count", MaxResults.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("_sort", "family") };
        if (!string.IsNullOrWhiteSpace(name)) query.Add(("name", name.Trim()));
        return [.. (await SearchAsync<Patient>(http, "Patient", query)).Select(p => new PatientChoice(p.Id!, Describe(p)))];
    }

    public async Task<PatientChoice?> FindPatientAsync(HttpContext http, string? id)
    {
        if (string.IsNullOrEmpty(id) || !FhirService.IsValidId(id)) return null;
        var found = await SearchAsync<Patient>(http, "Patient", [("_id", id)]);
        return found.Count == 0 ? null : new PatientChoice(found[0].Id!, Describe(found[0]));
    }

    public async Task<List<EncounterChoice>> EncountersOfAsync(HttpContext http, string patient) =>
        [.. (await SearchAsync<Encounter>(http, "Encounter", [("patient", patient), ("_count", "50"), ("_sort", "-date")]))
            .Select(e => new EncounterChoice(e.Id!, $"{e.Type.FirstOrDefault()?.Text ?? e.Class?.Display ?? "Encounter"}, {e.Period?.Start ?? "date unknown"}"))];

    /// <summary>Apps that may use the authorization code grant and may get tokens (approved, not disabled), by name.</summary>
    public async Task<List<LaunchableApp>> AppsAsync(CancellationToken ct)
    {
        var rows = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .Where(a => a.Permissions != null && a.Permissions.Contains(Permissions.GrantTypes.AuthorizationCode))
            .Select(a => new { a.ClientId, a.DisplayName, a.Properties, a.ClientType, a.RedirectUris })
            .ToListAsync(ct);
        return [.. rows
            .Where(a => !ReadFlag(a.Properties, ClientProperties.PendingApproval) && !ReadFlag(a.Properties, ClientProperties.Disabled))
            .Select(a => new LaunchableApp(a.ClientId!, a.DisplayName ?? a.ClientId!, ConnectedApps.ReadProperty(a.Properties, ClientProperties.LaunchUri),
                a.ClientType == ClientTypes.Public, ParseList(a.RedirectUris)))
            .OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// Checks the choice and mints the launch; returns the URL to send the browser to
    /// (<c>launch_url?iss=...&amp;launch=...</c>) or the problems.
    /// </summary>
    public async Task<(string? Url, List<string> Errors)> LaunchAsync(HttpContext http, IgnisUser clinician,
        string? clientId, string? launchUrl, string? patient, string? encounter)
    {
        var errors = new List<string>();
        var app = (await AppsAsync(http.RequestAborted)).FirstOrDefault(a => a.ClientId == clientId);
        if (app is null) errors.Add("Choose an app.");
        var chosenPatient = await FindPatientAsync(http, patient);
        if (chosenPatient is null) errors.Add("Choose a patient.");
        if (!string.IsNullOrEmpty(encounter) && chosenPatient is not null
            && !(await EncountersOfAsync(http, chosenPatient.Id)).Any(e => e.Id == encounter))
            errors.Add("The encounter does not belong to this patient.");
        var url = string.IsNullOrWhiteSpace(launchUrl) ? app?.LaunchUri : launchUrl.Trim();
        if (app is not null && url is null) errors.Add("Enter the app's launch URL; it has none registered.");
        else if (url is not null && !IsLaunchUrl(url)) errors.Add("The launch URL must be an absolute https URL (http only on this computer), without a fragment.");
        if (errors.Count > 0) return (null, errors);

        var launch = await launches.CreateAsync(clinician.Id, app!.ClientId, chosenPatient!.Id, NullIfEmpty(encounter), null, http.RequestAborted);
        log.Record(http, new SecurityEvent(SecurityEventKind.AppLaunched)
        {
            User = AccountService.Party(clinician),
            Client = new SecurityParty(app.ClientId, app.Name),
            Patient = chosenPatient.Id,
            Detail = "EHR launch" + (string.IsNullOrEmpty(encounter) ? "" : $" with Encounter/{encounter}"),
        });
        var target = QueryHelpers.AddQueryString(url!, new Dictionary<string, string?> { ["iss"] = FhirEndpoints.BaseUrl(http), ["launch"] = launch.Id });
        return (target, []);
    }

    public static bool IsLaunchUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && string.IsNullOrEmpty(uri.Fragment)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    public static string Describe(Patient p)
    {
        var name = p.Name.FirstOrDefault();
        var text = name is null ? p.Id ?? "" : $"{string.Join(' ', name.Given)} {name.Family}".Trim();
        return p.BirthDate is { } born ? $"{text} (born {born})" : text;
    }

    private async Task<List<T>> SearchAsync<T>(HttpContext http, string type, List<(string, string)> query) where T : Resource
    {
        var response = await fhir.ExecuteAsync(new FhirRequest
        {
            Interaction = Interaction.SearchType,
            Method = "GET",
            Type = type,
            Query = [.. query.Select(q => KeyValuePair.Create(q.Item1, q.Item2))],
        }, FhirEndpoints.BaseUrl(http), http.RequestAborted);
        return response.Resource is Bundle bundle ? [.. bundle.Entry.Select(e => e.Resource).OfType<T>()] : [];
    }

    private static bool ReadFlag(string? json, string name)
    {
        if (string.IsNullOrEmpty(json)) return false;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static List<string> ParseList(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
