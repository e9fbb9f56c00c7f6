using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Admin;

public sealed class UserModel(UserAdministration admin) : PortalPageModel
{
    [BindProperty(Name = "id", SupportsGet = true)] public string Id { get; set; } = "";

    public UserRow Target { get; private set; } = null!;
    public List<string> Errors { get; private set; } = [];
    public bool IsSelf => Target.Id == CurrentUser.Id;

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["created"] = "The user is created.",
        ["saved"] = "Saved.",
        ["locked"] = "The account is locked; its sessions and tokens were revoked.",
        ["unlocked"] = "The account is unlocked.",
        ["password"] = "The password is set; the user's sessions and tokens were revoked.",
    };

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostSaveAsync([FromForm(Name = "roles")] List<string> roles, [FromForm(Name = "fhirUser")] string? fhirUser) =>
        await AfterAsync(await admin.UpdateAsync(HttpContext, CurrentUser, Id, roles, fhirUser), "saved");

    public async Task<IActionResult> OnPostLockAsync() =>
        await AfterAsync(await admin.LockAsync(HttpContext, CurrentUser, Id) ? [] : ["This account cannot be locked."], "locked");

    public async Task<IActionResult> OnPostUnlockAsync() =>
        await AfterAsync(await admin.UnlockAsync(HttpContext, CurrentUser, Id) ? [] : ["This user does not exist any more."], "unlocked");

    public async Task<IActionResult> OnPostResetPasswordAsync([FromForm(Name = "password")] string? password) =>
        await AfterAsync(await admin.ResetPasswordAsync(HttpContext, CurrentUser, Id, password), "password");

    public async Task<IActionResult> OnPostDeleteAsync([FromForm(Name = "confirm")] string? confirm)
    {
        if (confirm != "yes") return await AfterAsync(["Tick the box to confirm the deletion."], "");
        var errors = await admin.DeleteAsync(HttpContext, CurrentUser, Id);
        return errors.Count > 0 ? await AfterAsync(errors, "") : Redirect("/admin/users?done=deleted");
    }

    private async Task<IActionResult> AfterAsync(List<string> errors, string done)
    {
        if (errors.Count == 0) return Redirect($"/admin/users/{Uri.EscapeDataString(Id)}?done={done}");
        Errors = errors;
        return await LoadAsync() ? Page() : NotFound();
    }

    private async Task<bool> LoadAsync()
    {
        if (await admin.FindAsync(Id) is not { } target) return false;
        Target = target;
        return true;
    }
}
