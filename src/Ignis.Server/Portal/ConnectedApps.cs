using System.Text.Json;
using Ignis.Server.Audit;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Portal;

/// <summary>An app the user authorized, as "My connected apps" shows it.</summary>
/// <param name="Permissions">What the app may do, in words (the consent page's descriptions).</param>
/// <param name="LastUsed">When the app last obtained a token (code exchange or refresh).</param>
public sealed record ConnectedApp(string ClientId, string Name, string? LogoUri, IReadOnlyList<ScopeText> Permissions, DateTime GrantedAt, DateTime? LastUsed);

public sealed record ScopeText(string Scope, string Text);

/// <summary>The apps a user has authorized and still hold a usable token, and taking that access back.</summary>
public sealed class ConnectedApps(AuthDbContext db, GrantRevocation revocation, SignInManager<IgnisUser> signIn, SecurityLog log, TimeProvider clock)
{
    public async Task<List<ConnectedApp>> ListAsync(string userId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var grants = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Subject == userId && a.Status == Statuses.Valid && a.Application != null)
            .Where(a => a.Tokens.Any(t => t.Status == Statuses.Valid && t.ExpirationDate > now))
            .Select(a => new
            {
                a.Application!.ClientId,
                a.Application.DisplayName,
                a.Application.Properties,
                a.Scopes,
                a.CreationDate,
                LastUsed = a.Tokens.Max(t => t.CreationDate),
            })
            .ToListAsync(ct);
        return [.. grants.GroupBy(g => g.ClientId!)
            .Select(group =>
            {
                var first = group.First();
                var scopes = group.SelectMany(g => ParseScopes(g.Scopes)).Distinct(StringComparer.Ordinal).ToList();
                return new ConnectedApp(
                    group.Key,
                    first.DisplayName ?? group.Key,
                    ReadProperty(first.Properties, ClientProperties.LogoUri),
                    [.. scopes.Select(s => new ScopeText(s, SmartScopes.Describe(s)))],
                    group.Min(g => g.CreationDate) ?? now,
                    group.Max(g => g.LastUsed));
            })
            .OrderByDescending(a => a.LastUsed ?? a.GrantedAt)];
    }

    /// <summary>Revokes what the user granted the app; its tokens stop working at /fhir within a second.</summary>
    public async Task<bool> RevokeAsync(HttpContext http, IgnisUser user, string clientId, CancellationToken ct)
    {
        var apps = await ListAsync(user.Id, ct);
        var app = apps.FirstOrDefault(a => a.ClientId == clientId);
        if (app is null) return false;
        var count = await revocation.RevokeAppAsync(user.Id, clientId, ct);
        log.Record(http, new SecurityEvent(SecurityEventKind.ConsentRevoked)
        {
            User = new SecurityParty(user.Id, user.UserName ?? user.Id),
            TargetClient = new SecurityParty(clientId, app.Name),
            Detail = $"revoked by the user on the connected apps page ({count} tokens)",
        });
        return true;
    }

    /// <summary>The lost-phone button: every token and every session of the user, this browser's included.</summary>
    public async Task<long> SignOutEverywhereAsync(HttpContext http, IgnisUser user, CancellationToken ct)
    {
        var count = await revocation.SignOutEverywhereAsync(user.Id, ct);
        await signIn.SignOutAsync();
        log.Record(http, new SecurityEvent(SecurityEventKind.SignOutEverywhere)
        {
            User = new SecurityParty(user.Id, user.UserName ?? user.Id),
            Detail = $"{count} tokens revoked, every session ended",
        });
        return count;
    }

    private static IEnumerable<string> ParseScopes(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<string[]>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    internal static string? ReadProperty(string? json, string name)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
