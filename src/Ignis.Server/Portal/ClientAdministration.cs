using Ignis.Server.Audit;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Portal;

/// <summary>What an administrator does to clients: approve, allow a legacy grant, disable, enable, delete. Each change is logged.</summary>
public sealed class ClientAdministration(ClientRegistry registry, ClientUsage usage, AuthDbContext db, SecurityLog log)
{
    public async Task<List<AppRow>> ListAsync(CancellationToken ct)
    {
        var clients = new List<RegisteredClient>();
        await foreach (var c in registry.ListAsync(null, ct)) clients.Add(c);
        var counts = await usage.ForAsync([.. clients.Select(c => c.ClientId)], ct);
        var ownerIds = clients.Select(c => c.OwnerId).OfType<string>().Distinct().ToList();
        var owners = await db.Users.AsNoTracking().Where(u => ownerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.UserName, ct);
        return [.. clients
            .OrderBy(c => c.Status == ClientStatus.PendingApproval ? 0 : 1)
            .ThenBy(c => c.Metadata.ClientName ?? c.ClientId, StringComparer.OrdinalIgnoreCase)
            .Select(c => new AppRow(c, counts.GetValueOrDefault(c.ClientId, AppUsage.None), c.OwnerId is { } o ? owners.GetValueOrDefault(o) : null))];
    }

    public Task<AppChange> ApproveAsync(HttpContext http, IgnisUser admin, string clientId) =>
        ChangeAsync(http, admin, SecurityEventKind.ClientChanged, "approved by an administrator", registry.ApproveAsync(clientId, http.RequestAborted));

    public Task<AppChange> DisableAsync(HttpContext http, IgnisUser admin, string clientId) =>
        ChangeAsync(http, admin, SecurityEventKind.ClientChanged, "disabled by an administrator; every token revoked", registry.DisableAsync(clientId, http.RequestAborted));

    public Task<AppChange> EnableAsync(HttpContext http, IgnisUser admin, string clientId) =>
        ChangeAsync(http, admin, SecurityEventKind.ClientChanged, "enabled again by an administrator", registry.EnableAsync(clientId, http.RequestAborted));

    public Task<AppChange> SetLegacyGrantAsync(HttpContext http, IgnisUser admin, string clientId, LegacyGrant grant, bool enabled) =>
        ChangeAsync(http, admin, SecurityEventKind.ClientChanged, $"{grant.ToString().ToLowerInvariant()} grant {(enabled ? "enabled" : "disabled")} by an administrator",
            registry.SetLegacyGrantAsync(clientId, grant, enabled, http.RequestAborted));

    public Task<AppChange> DeleteAsync(HttpContext http, IgnisUser admin, string clientId) =>
        ChangeAsync(http, admin, SecurityEventKind.ClientDeleted, "deleted by an administrator; every token revoked", registry.DeleteAsync(clientId, http.RequestAborted));

    private async Task<AppChange> ChangeAsync(HttpContext http, IgnisUser admin, SecurityEventKind kind, string detail, Task<ClientResult> operation)
    {
        var result = await operation;
        if (result.Succeeded)
        {
            log.Record(http, new SecurityEvent(kind)
            {
                User = AccountService.Party(admin),
                TargetClient = new SecurityParty(result.Client!.ClientId, result.Client.Metadata.ClientName ?? result.Client.ClientId),
                Detail = detail,
            });
        }
        return AppChange.From(result);
    }
}
