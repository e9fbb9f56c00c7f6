using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Authorize;

/// <summary>
/// Standalone launch with launch/patient by a clinician: pick the patient (and, with launch/encounter, an
/// encounter of that patient). Patients are listed through the FHIR engine as a system-level search.
/// </summary>
public sealed class PatientModel(UserManager<IgnisUser> users, AuthorizationTickets tickets, FhirService fhir)
    : AuthorizePageModel(users, tickets)
{
    [BindProperty(Name = "q", SupportsGet = true)] public string? Query { get; set; }
    [BindProperty(Name = "patient")] public string? PatientId { get; set; }
    [BindProperty(Name = "encounter")] public string? EncounterId { get; set; }

    public bool ChoosingEncounter => !Pending.NeedsPatientPicker && Pending.NeedsEncounterPicker;
    public List<(string Id, string Text)> Patients { get; } = [];
    public List<(string Id, string Text)> Encounters { get; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is { } error) return error;
        return await ShowAsync();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is { } error) return error;
        var pending = Pending;
        if (pending.NeedsPatientPicker)
        {
            if (string.IsNullOrEmpty(PatientId) || !await AuthEndpoints.ExistsAsync(fhir, HttpContext, "Patient", PatientId))
                return await ShowAsync();
            pending = pending with { Patient = PatientId, NeedsPatientPicker = false };
        }
        else if (pending.NeedsEncounterPicker)
        {
            if (!string.IsNullOrEmpty(EncounterId))
            {
                if (!FhirService.IsValidId(EncounterId)
                    || (await SearchAsync<Encounter>(fhir, HttpContext, "Encounter", ("_id", EncounterId), ("patient", pending.Patient ?? ""))).Count == 0)
                    return await ShowAsync();
                pending = pending with { Encounter = EncounterId };
            }
            pending = pending with { NeedsEncounterPicker = false };
        }

        var next = pending.NeedsEncounterPicker ? AuthPages.PatientPicker : AuthPages.Consent;
        return Redirect($"{Request.PathBase}{next}?request={Uri.EscapeDataString(Protect(pending))}");
    }

    private async Task<IActionResult> ShowAsync()
    {
        if (Pending.NeedsPatientPicker)
        {
            var query = new List<(string, string)> { ("_count", "50"), ("_sort", "family") };
            if (!string.IsNullOrWhiteSpace(Query)) query.Add(("name", Query.Trim()));
            foreach (var p in await SearchAsync<Patient>(fhir, HttpContext, "Patient", [.. query]))
                Patients.Add((p.Id!, Display(p)));
        }
        else if (Pending.NeedsEncounterPicker && Pending.Patient is { } patient)
        {
            foreach (var e in await SearchAsync<Encounter>(fhir, HttpContext, "Encounter", ("patient", patient), ("_count", "50"), ("_sort", "-date")))
                Encounters.Add((e.Id!, $"{e.Type.FirstOrDefault()?.Text ?? e.Class?.Display ?? "Encounter"}, {e.Period?.Start ?? "date unknown"}"));
        }
        return Page();
    }
}
