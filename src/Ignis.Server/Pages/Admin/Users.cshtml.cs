using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Admin;

public sealed class UsersModel(UserAdministration admin) : PortalPageModel
{
    [BindProperty(Name = "q", SupportsGet = true)] public string? Search { get; set; }
    [BindProperty(Name = "username")] public string? NewUserName { get; set; }
    [BindProperty(Name = "password")] public string? NewPassword { get; set; }
    [BindProperty(Name = "roles")] public List<string> NewRoles { get; set; } = [];
    [BindProperty(Name = "fhirUser")] public string? NewFhirUser { get; set; }

    public List<UserRow> Users { get; private set; } = [];
    public List<string> Errors { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["deleted"] = "The user is deleted; their tokens and sessions were revoked.",
    };

    public async Task OnGetAsync() => Users = await admin.ListAsync(Search, HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostAsync()
    {
        var (id, errors) = await admin.CreateAsync(HttpContext, CurrentUser, NewUserName, NewPassword, NewRoles, NewFhirUser);
        if (id is null)
        {
            Errors = errors;
            NewPassword = null;
            await OnGetAsync();
            return Page();
        }
        return Redirect($"/admin/users/{Uri.EscapeDataString(id)}?done=created");
    }
}
