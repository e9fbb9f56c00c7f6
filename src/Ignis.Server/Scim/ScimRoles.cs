using Ignis.Server.Data;
using Ignis.Server.Scim.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Scim;

/// <summary>The Ignis roles, which SCIM shows as Groups; created on first use when a database has none yet.</summary>
public sealed class ScimRoles(RoleManager<IdentityRole> roleManager, AuthDbContext db)
{
    private Dictionary<string, string>? _names;

    /// <summary>Role id → name, for the Ignis roles.</summary>
    public async Task<IReadOnlyDictionary<string, string>> AllAsync()
    {
        if (_names is not null) return _names;
        var existing = await db.Roles.AsNoTracking().ToListAsync();
        foreach (var missing in IgnisRoles.All.Where(r => !existing.Any(e => e.Name == r)))
        {
            try
            {
                await roleManager.CreateAsync(new IdentityRole(missing));
            }
            catch (DbUpdateException)
            {
                // Another request created it at the same time.
            }
        }
        if (existing.Count < IgnisRoles.All.Length) existing = await db.Roles.AsNoTracking().ToListAsync();
        _names = existing.Where(r => r.Name is not null && IgnisRoles.All.Contains(r.Name)).ToDictionary(r => r.Id, r => r.Name!, StringComparer.Ordinal);
        return _names;
    }

    public async Task<Dictionary<string, string>> IdsByNameAsync() =>
        (await AllAsync()).ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public async Task<List<RoleRef>> OfUserAsync(string userId)
    {
        var names = await AllAsync();
        var ids = await db.UserRoles.AsNoTracking().Where(r => r.UserId == userId).Select(r => r.RoleId).ToListAsync();
        return [.. ids.Where(names.ContainsKey).Select(id => new RoleRef(id, names[id])).OrderBy(r => r.Name, StringComparer.Ordinal)];
    }
}

/// <summary>The base URLs of the current request.</summary>
public sealed record ScimRequestContext(string ScimBase, string FhirBase);

/// <summary>RFC 7644 §3.14 versions: weak ETags W/"n"; If-Match on writes (412), If-None-Match on reads (304).</summary>
public static class ScimPreconditions
{
    public static void CheckIfMatch(string? ifMatch, long version)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) return;
        if (!Matches(ifMatch, version))
            throw ScimException.PreconditionFailed($"If-Match {ifMatch} does not match the current version {ScimUserMapper.ETag(version)}.");
    }

    /// <summary>Weak comparison (RFC 9110 §8.8.3.2): W/"3" and "3" match version 3; * matches any.</summary>
    public static bool Matches(string header, long version)
    {
        var expected = $"\"{version}\"";
        foreach (var raw in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "*") return true;
            var tag = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
            if (tag == expected) return true;
        }
        return false;
    }
}
