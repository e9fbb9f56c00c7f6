using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;

namespace Ignis.Server.Pages.Admin;

public sealed class AdminIndexModel(AdminOverview overview) : PortalPageModel
{
    public int UserCount { get; private set; }
    public int ClientCount { get; private set; }
    public int PendingCount { get; private set; }

    public async Task OnGetAsync() => (UserCount, ClientCount, PendingCount) = await overview.CountsAsync(HttpContext.RequestAborted);
}
