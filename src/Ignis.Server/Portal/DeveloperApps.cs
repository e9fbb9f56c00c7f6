using Ignis.Server.Audit;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;

namespace Ignis.Server.Portal;

/// <summary>A client in the portal lists, with its usage.</summary>
public sealed record AppRow(RegisteredClient Client, AppUsage Usage, string? OwnerName)
{
    public string Name => Client.Metadata.ClientName ?? Client.ClientId;
}

/// <summary>The answer of a portal change: the client, the one-time secrets it made, or what is wrong.</summary>
public sealed record AppChange(RegisteredClient? Client, string? Error, string? ClientSecret = null, string? RegistrationAccessToken = null)
{
    public bool Succeeded => Error is null;

    public static AppChange From(ClientResult result) =>
        new(result.Client, result.Error?.Description, result.ClientSecret, result.RegistrationAccessToken);
}

/// <summary>
/// The developer portal: a developer registers and manages their own apps through the client registry (the
/// same rules as RFC 7591 registration). Apps of other users are "not found", never "forbidden".
/// </summary>
public sealed class DeveloperApps(ClientRegistry registry, ClientUsage usage, SecurityLog log)
{
    public async Task<List<AppRow>> ListMineAsync(IgnisUser developer, CancellationToken ct)
    {
        var clients = new List<RegisteredClient>();
        await foreach (var c in registry.ListAsync(developer.Id, ct)) clients.Add(c);
        var counts = await usage.ForAsync([.. clients.Select(c => c.ClientId)], ct);
        return [.. clients.OrderBy(c => c.Metadata.ClientName ?? c.ClientId, StringComparer.OrdinalIgnoreCase)
            .Select(c => new AppRow(c, counts.GetValueOrDefault(c.ClientId, AppUsage.None), developer.UserName))];
    }

    /// <summary>The developer's app, or null when it does not exist or belongs to someone else.</summary>
    public async Task<AppRow?> FindMineAsync(IgnisUser developer, string clientId, CancellationToken ct)
    {
        var client = await registry.FindAsync(clientId, ct);
        if (client is null || client.OwnerId != developer.Id) return null;
        var counts = await usage.ForAsync([clientId], ct);
        return new AppRow(client, counts[clientId], developer.UserName);
    }

    public async Task<AppChange> RegisterAsync(HttpContext http, IgnisUser developer, AppForm form)
    {
        var metadata = form.ToMetadata(out var problem);
        if (problem is not null) return new AppChange(null, problem);
        var result = await registry.RegisterAsync(metadata, Registrant.Developer(developer.Id), http.RequestAborted);
        if (result.Succeeded)
            Record(http, SecurityEventKind.ClientRegistered, developer, result.Client!, $"{form.Kind} app; status {result.Client!.Status}; scopes: {result.Client.Metadata.Scope ?? "none"}");
        return AppChange.From(result);
    }

    public async Task<AppChange> UpdateAsync(HttpContext http, IgnisUser developer, string clientId, AppForm form)
    {
        if (await FindMineAsync(developer, clientId, http.RequestAborted) is null) return NotFound;
        var metadata = form.ToMetadata(out var problem);
        if (problem is not null) return new AppChange(null, problem);
        var result = await registry.UpdateAsync(clientId, metadata, Registrant.Developer(developer.Id), http.RequestAborted);
        if (result.Succeeded)
            Record(http, SecurityEventKind.ClientChanged, developer, result.Client!, $"edited by the developer; status {result.Client!.Status}");
        return AppChange.From(result);
    }

    public async Task<AppChange> RotateSecretAsync(HttpContext http, IgnisUser developer, string clientId)
    {
        if (await FindMineAsync(developer, clientId, http.RequestAborted) is null) return NotFound;
        var result = await registry.RotateSecretAsync(clientId, null, http.RequestAborted);
        if (result.Succeeded) Record(http, SecurityEventKind.ClientChanged, developer, result.Client!, "client secret rotated");
        return AppChange.From(result);
    }

    public async Task<AppChange> DeleteAsync(HttpContext http, IgnisUser developer, string clientId)
    {
        if (await FindMineAsync(developer, clientId, http.RequestAborted) is null) return NotFound;
        var result = await registry.DeleteAsync(clientId, http.RequestAborted);
        if (result.Succeeded) Record(http, SecurityEventKind.ClientDeleted, developer, result.Client!, "deleted by the developer; every token revoked");
        return AppChange.From(result);
    }

    private static AppChange NotFound { get; } = new(null, "There is no such app among yours.");

    private void Record(HttpContext http, SecurityEventKind kind, IgnisUser user, RegisteredClient client, string detail) =>
        log.Record(http, new SecurityEvent(kind)
        {
            User = AccountService.Party(user),
            TargetClient = new SecurityParty(client.ClientId, client.Metadata.ClientName ?? client.ClientId),
            Detail = detail,
        });
}
