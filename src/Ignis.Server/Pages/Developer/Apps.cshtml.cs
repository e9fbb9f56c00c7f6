using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;

namespace Ignis.Server.Pages.Developer;

public sealed class AppsModel(DeveloperApps apps) : PortalPageModel
{
    public List<AppRow> Apps { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["deleted"] = "The app is deleted; every token it held was revoked.",
    };

    public async Task OnGetAsync() => Apps = await apps.ListMineAsync(CurrentUser, HttpContext.RequestAborted);
}
