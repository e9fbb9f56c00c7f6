using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Developer;

public sealed class AppModel(DeveloperApps apps) : PortalPageModel
{
    [BindProperty(Name = "clientId", SupportsGet = true)] public string ClientId { get; set; } = "";

    public AppRow App { get; private set; } = null!;
    public AppForm Form { get; private set; } = new();
    /// <summary>A change that made one-time secrets (a rotation, or a switch to a secret), shown once.</summary>
    public AppChange? Change { get; private set; }

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["saved"] = "Saved.",
    };

    public async Task<IActionResult> OnGetAsync() => await LoadAsync(keepForm: false) ? Page() : NotFound();

    public async Task<IActionResult> OnPostSaveAsync()
    {
        Form = AppFormBinding.Read(Request.Form);
        var result = await apps.UpdateAsync(HttpContext, CurrentUser, ClientId, Form);
        if (result.Succeeded && result.ClientSecret is null) return Redirect($"/developer/apps/{Uri.EscapeDataString(ClientId)}?done=saved");
        return await ShowAsync(result, keepForm: !result.Succeeded);
    }

    public async Task<IActionResult> OnPostRotateAsync() =>
        await ShowAsync(await apps.RotateSecretAsync(HttpContext, CurrentUser, ClientId), keepForm: false);

    public async Task<IActionResult> OnPostDeleteAsync([FromForm(Name = "confirm")] string? confirm)
    {
        if (confirm != "yes") return await ShowAsync(new AppChange(null, "Tick the box to confirm the deletion."), keepForm: false);
        var result = await apps.DeleteAsync(HttpContext, CurrentUser, ClientId);
        return result.Succeeded ? Redirect("/developer/apps?done=deleted") : await ShowAsync(result, keepForm: false);
    }

    private async Task<IActionResult> ShowAsync(AppChange change, bool keepForm)
    {
        if (!await LoadAsync(keepForm)) return NotFound();
        if (change.Succeeded)
        {
            Response.Headers.CacheControl = "no-store";
            Change = change;
        }
        else
        {
            Error = change.Error;
        }
        return Page();
    }

    private async Task<bool> LoadAsync(bool keepForm)
    {
        if (await apps.FindMineAsync(CurrentUser, ClientId, HttpContext.RequestAborted) is not { } app) return false;
        App = app;
        if (!keepForm) Form = AppForm.From(app.Client);
        return true;
    }
}
