using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace Ignis.Server.Pages.Launcher;

/// <summary>The simulated EHR launch for clinicians. Works without JavaScript: encounters are listed after a patient is chosen.</summary>
public sealed class LauncherModel(Portal.Launcher launcher) : PortalPageModel
{
    [BindProperty(Name = "q", SupportsGet = true)] public string? Query { get; set; }
    [BindProperty(Name = "patient", SupportsGet = true)] public string? Patient { get; set; }
    [BindProperty(Name = "encounter", SupportsGet = true)] public string? Encounter { get; set; }
    [BindProperty(Name = "client_id", SupportsGet = true)] public string? ClientId { get; set; }
    [BindProperty(Name = "launch_url", SupportsGet = true)] public string? LaunchUrl { get; set; }

    public List<PatientChoice> Patients { get; private set; } = [];
    /// <summary>Null until a patient is chosen.</summary>
    public List<EncounterChoice>? Encounters { get; private set; }
    public List<LaunchableApp> Apps { get; private set; } = [];
    public List<string> Errors { get; private set; } = [];

    public async Task OnGetAsync() => await LoadAsync();

    /// <summary>"Show this patient's encounters": back to the page with the patient chosen.</summary>
    public IActionResult OnPostEncounters()
    {
        var query = new Dictionary<string, string?> { ["q"] = Query, ["patient"] = Patient, ["client_id"] = ClientId, ["launch_url"] = LaunchUrl };
        return Redirect(QueryHelpers.AddQueryString("/launcher", query.Where(p => !string.IsNullOrEmpty(p.Value))));
    }

    public async Task<IActionResult> OnPostLaunchAsync()
    {
        var (url, errors) = await launcher.LaunchAsync(HttpContext, CurrentUser, ClientId, LaunchUrl, Patient, Encounter);
        if (url is not null) return Redirect(url);
        Errors = errors;
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        Patients = await launcher.FindPatientsAsync(HttpContext, Query);
        if (await launcher.FindPatientAsync(HttpContext, Patient) is { } chosen)
        {
            if (Patients.All(p => p.Id != chosen.Id)) Patients.Insert(0, chosen);
            Encounters = await launcher.EncountersOfAsync(HttpContext, chosen.Id);
        }
        Apps = await launcher.AppsAsync(HttpContext.RequestAborted);
    }
}
