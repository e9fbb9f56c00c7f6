using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;

namespace Ignis.Server.Pages.Authorize;

/// <summary>
/// The consent page: each requested scope in words, pre-checked; the user may untick any. The answer goes back
/// to /oauth/authorize as a protected decision, where OpenIddict issues the code or the access_denied error.
/// </summary>
public sealed class ConsentModel(UserManager<IgnisUser> users, AuthorizationTickets tickets, FhirService fhir,
    IOpenIddictApplicationManager applications) : AuthorizePageModel(users, tickets)
{
    private readonly AuthorizationTickets _tickets = tickets;

    [BindProperty(Name = "decision")] public string? Decision { get; set; }
    [BindProperty(Name = "scope")] public List<string> Scopes { get; set; } = [];

    public string AppName { get; private set; } = "";
    public string? PatientText { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is { } error) return error;
        if (Pending.NeedsPatientPicker || Pending.NeedsEncounterPicker) return BadRequest("Choose the patient first.");
        var application = await applications.FindByClientIdAsync(Pending.ClientId);
        AppName = (application is null ? null : await applications.GetLocalizedDisplayNameAsync(application)) ?? Pending.ClientId;
        if (Pending.Patient is { } patient)
        {
            var found = FhirService.IsValidId(patient) ? await SearchAsync<Patient>(fhir, HttpContext, "Patient", ("_id", patient)) : [];
            PatientText = found.Count > 0 ? Display(found[0]) : $"Patient/{patient}";
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is { } error) return error;
        if (Pending.NeedsPatientPicker || Pending.NeedsEncounterPicker) return BadRequest("Choose the patient first.");
        if (Decision is not ("allow" or "deny")) return BadRequest("Choose Allow or Deny.");

        var parameters = QueryHelpers.ParseQuery(Pending.Query);
        var decision = new ConsentDecision(
            Pending.UserId,
            AuthorizationTickets.HashRequest(parameters),
            Decision == "allow",
            [.. Pending.Scopes.Where(Scopes.Contains)],
            Pending.Patient,
            Pending.Encounter);
        var separator = Pending.Query.Length > 1 ? "&" : "?";
        return Redirect($"{Request.PathBase}{AuthEndpoints.Authorize}{Pending.Query}{separator}{AuthorizeParameters.Consent}={Uri.EscapeDataString(_tickets.Protect(decision))}");
    }
}
