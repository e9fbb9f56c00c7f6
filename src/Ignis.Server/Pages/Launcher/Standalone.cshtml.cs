using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Launcher;

public sealed class StandaloneModel(LaunchTester tester, Portal.Launcher launcher) : PortalPageModel
{
    [BindProperty(Name = "client_id", SupportsGet = true)] public string? ClientId { get; set; }
    [BindProperty(Name = "client_secret")] public string? ClientSecret { get; set; }
    [BindProperty(Name = "scope")] public string? Scope { get; set; }
    [BindProperty(Name = "sign_in_again")] public bool SignInAgain { get; set; }

    public List<LaunchableApp> Apps { get; private set; } = [];
    public string Discovery { get; private set; } = "";
    public string CallbackUrl => LaunchTester.CallbackUrl(HttpContext);
    public bool CallbackIsLoopback => Uri.TryCreate(CallbackUrl, UriKind.Absolute, out var u) && u.IsLoopback;
    public List<string> Errors { get; private set; } = [];

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        await LoadAsync();
        if (Apps.FirstOrDefault(a => a.ClientId == ClientId) is null)
        {
            Errors.Add("Choose an app.");
            return Page();
        }
        return Redirect(tester.Start(HttpContext, ClientId!, ClientSecret, Scope, SignInAgain));
    }

    private async Task LoadAsync()
    {
        Apps = await launcher.AppsAsync(HttpContext.RequestAborted);
        Discovery = tester.DiscoveryDocument(HttpContext);
    }
}
