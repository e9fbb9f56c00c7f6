using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;
using Ignis.Server.Scim.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Scim.Groups;

/// <summary>
/// The /Groups resources: one per Ignis role, membership = the role. The roles are fixed (the access rules
/// depend on them), so groups are not created, renamed or deleted; their members are.
/// </summary>
public sealed partial class ScimGroupService(AuthDbContext db, ScimRoles roles, GrantRevocation revocation, ILogger<ScimGroupService> logger)
{
    public async Task<(JsonObject Resource, long Version)> GetAsync(ScimRequestContext request, string id)
    {
        var role = await FindAsync(id);
        return (await ToJsonAsync(request, role, includeMembers: true), Version(role));
    }

    public async Task<JsonObject> SearchAsync(ScimRequestContext request, ScimQuery query)
    {
        var type = ScimSchemas.GroupType;
        var filter = query.BindFilter(type);
        var sort = query.BindSort(type) ?? FilterBinder.Resolve(new AttributePath(null, "displayName", null), type, null, ScimErrorType.InvalidValue);
        // Members of a role can be every user: load them only when the answer or the filter needs them.
        var mentioned = (query.Filter ?? "") + " " + (query.SortBy ?? "");
        var includeMembers = mentioned.Contains("members", StringComparison.OrdinalIgnoreCase)
            || (query.Attributes is { Count: > 0 } asked
                ? asked.Any(a => a.Contains("members", StringComparison.OrdinalIgnoreCase))
                : query.ExcludedAttributes?.Any(a => a.Equals("members", StringComparison.OrdinalIgnoreCase) || a.Equals(ScimSchemas.GroupUrn + ":members", StringComparison.OrdinalIgnoreCase)) != true);
        var ids = (await roles.AllAsync()).Keys.ToList();
        var all = new List<JsonObject>();
        foreach (var role in await db.Roles.Where(r => ids.Contains(r.Id)).ToListAsync())
            all.Add(await ToJsonAsync(request, role, includeMembers));
        var matches = filter is null ? all : all.Where(r => FilterEvaluator.Matches(filter, r)).ToList();
        matches.Sort(new ScimSortComparer(sort, query.Descending));
        return query.ListResponse(matches.Count, matches.Skip(query.StartIndex - 1).Take(query.Count)
            .Select(j => ScimJson.Project(j, type, query.Attributes, query.ExcludedAttributes)));
    }

    /// <summary>POST /Groups: a group with a role's name exists already (409, so clients look it up); others cannot be made.</summary>
    public async Task CreateAsync(JsonObject body)
    {
        var resource = ScimJson.ReadResource(body, ScimSchemas.GroupType);
        var name = (resource["displayName"] as JsonValue)?.GetValue<string>();
        if ((await roles.AllAsync()).Values.Any(r => string.Equals(r, name, StringComparison.OrdinalIgnoreCase)))
            throw ScimException.Conflict($"The group {name} exists: groups are the Ignis roles. Find it with filter=displayName eq \"{name}\" and change its members.");
        throw new ScimException(501, null, $"Groups are the fixed Ignis roles ({string.Join(", ", IgnisRoles.All)}); other groups cannot be created.");
    }

    public async Task<(JsonObject Resource, long Version)> ReplaceAsync(ScimRequestContext request, string id, JsonObject body, string? ifMatch)
    {
        var role = await FindAsync(id);
        ScimPreconditions.CheckIfMatch(ifMatch, Version(role));
        return await SaveAsync(request, role, ScimJson.ReadResource(body, ScimSchemas.GroupType));
    }

    public async Task<(JsonObject Resource, long Version)> PatchAsync(ScimRequestContext request, string id, JsonObject body, string? ifMatch)
    {
        var role = await FindAsync(id);
        ScimPreconditions.CheckIfMatch(ifMatch, Version(role));
        var resource = await ToJsonAsync(request, role, includeMembers: true);
        ScimPatch.Apply(resource, body, ScimSchemas.GroupType);
        return await SaveAsync(request, role, resource);
    }

    private async Task<(JsonObject Resource, long Version)> SaveAsync(ScimRequestContext request, IdentityRole role, JsonObject resource)
    {
        var name = (resource["displayName"] as JsonValue)?.GetValue<string>();
        if (!string.Equals(name, role.Name, StringComparison.OrdinalIgnoreCase))
            throw ScimException.BadRequest(ScimErrorType.Mutability, $"The group {role.Name} is an Ignis role and cannot be renamed.");

        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in (resource["members"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (member["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String && !string.Equals(t.GetValue<string>(), "User", StringComparison.OrdinalIgnoreCase))
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, "Only users can be members of a group (no nested groups).");
            var value = (member["value"] as JsonValue)?.GetValue<string>()
                ?? throw ScimException.BadRequest(ScimErrorType.InvalidValue, "Each member needs the user's id as \"value\".");
            wanted.Add(value);
        }
        var wantedList = wanted.ToList();
        var existingUsers = await db.Users.Where(u => wantedList.Contains(u.Id)).Select(u => u.Id).ToListAsync();
        if (wantedList.Except(existingUsers).FirstOrDefault() is { } unknown)
            throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"No user has the id {unknown}.");

        var current = await db.UserRoles.Where(r => r.RoleId == role.Id).ToListAsync();
        var removed = current.Where(r => !wanted.Contains(r.UserId)).ToList();
        db.UserRoles.RemoveRange(removed);
        foreach (var userId in wanted.Except(current.Select(r => r.UserId)))
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = role.Id });
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateConcurrencyException)
        {
            throw ScimException.PreconditionFailed("The group was changed by another request; read it again and retry.");
        }
        // Taking a role away must take effect now: the user's tokens carry what the role allowed.
        foreach (var r in removed) await revocation.SignOutEverywhereAsync(r.UserId);
        LogMembersChanged(logger, role.Name!, wanted.Count - (current.Count - removed.Count), removed.Count);
        return (await ToJsonAsync(request, role, includeMembers: true), Version(role));
    }

    private async Task<IdentityRole> FindAsync(string id)
    {
        var names = await roles.AllAsync();
        if (!names.ContainsKey(id)) throw ScimException.NotFound($"Group {id} not found.");
        return await db.Roles.FirstAsync(r => r.Id == id);
    }

    private long Version(IdentityRole role) => db.Entry(role).Property<long>(UserVersioning.RoleVersion).CurrentValue;

    private async Task<JsonObject> ToJsonAsync(ScimRequestContext request, IdentityRole role, bool includeMembers)
    {
        var json = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.GroupUrn),
            ["id"] = role.Id,
            ["displayName"] = role.Name,
        };
        if (includeMembers)
        {
            var members = await db.UserRoles.AsNoTracking().Where(r => r.RoleId == role.Id)
                .Join(db.Users, r => r.UserId, u => u.Id, (r, u) => new { u.Id, u.UserName })
                .OrderBy(u => u.UserName).ToListAsync();
            if (members.Count > 0)
                json["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject
                {
                    ["value"] = m.Id, ["$ref"] = $"{request.ScimBase}/Users/{m.Id}", ["display"] = m.UserName, ["type"] = "User",
                })]);
        }
        var entry = db.Entry(role);
        json["meta"] = new JsonObject
        {
            ["resourceType"] = "Group",
            ["created"] = ScimJson.FormatDate(entry.Property<DateTime>(UserVersioning.RoleCreated).CurrentValue),
            ["lastModified"] = ScimJson.FormatDate(entry.Property<DateTime>(UserVersioning.RoleModified).CurrentValue),
            ["location"] = $"{request.ScimBase}/Groups/{role.Id}",
            ["version"] = ScimUserMapper.ETag(Version(role)),
        };
        return json;
    }

    [LoggerMessage(EventId = 3510, Level = LogLevel.Information, Message = "SCIM changed the members of role {Role}: {Added} added, {Removed} removed")]
    private static partial void LogMembersChanged(ILogger logger, string role, int added, int removed);
}
