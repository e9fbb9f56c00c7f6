using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Portal;

/// <summary>The numbers on the admin start page.</summary>
public sealed class AdminOverview(AuthDbContext db)
{
    public async Task<(int Users, int Clients, int Pending)> CountsAsync(CancellationToken ct)
    {
        var users = await db.Users.CountAsync(ct);
        var applications = db.Set<OpenIddictEntityFrameworkCoreApplication>();
        var clients = await applications.CountAsync(ct);
        // The flag is a JSON boolean in the Properties column (ClientProperties).
        var pending = await applications.CountAsync(a => a.Properties != null && a.Properties.Contains("\"" + ClientProperties.PendingApproval + "\":true"), ct);
        return (users, clients, pending);
    }
}
