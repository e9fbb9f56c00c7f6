using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Scim.Users;

/// <summary>
/// The /Users resources over ASP.NET Core Identity: the same accounts the login page, the token endpoint and the
/// admin pages use. Passwords go through Identity's validators and hasher; disabling or deleting an account
/// ends every token and session of it (<see cref="GrantRevocation.SignOutEverywhereAsync"/>).
/// </summary>
public sealed partial class ScimUserService(
    AuthDbContext db,
    UserManager<IgnisUser> users,
    ScimRoles roles,
    GrantRevocation revocation,
    IOptions<ScimOptions> options,
    ILogger<ScimUserService> logger)
{
    public async Task<(JsonObject Resource, long Version)> GetAsync(ScimRequestContext request, string id)
    {
        var user = await FindAsync(id);
        return (await ToJsonAsync(request, user), user.Version);
    }

    public async Task<(JsonObject Resource, long Version)> CreateAsync(ScimRequestContext request, JsonObject body)
    {
        var resource = ScimJson.ReadResource(body, ScimSchemas.UserType);
        var user = new IgnisUser();
        var write = ScimUserMapper.Apply(resource, user, request.FhirBase);
        await SaveAsync(user, write, created: true, previousRoles: []);
        LogCreated(logger, user.Id);
        return (await ToJsonAsync(request, user), user.Version);
    }

    /// <summary>
    /// PUT (RFC 7644 §3.5.1). A body without the Ignis extension keeps the user's roles and fhirUser (clients that
    /// do not know the extension, such as a directory's full-profile PUT, must not strip them), and a body without
    /// "active" keeps the account's state.
    /// </summary>
    public async Task<(JsonObject Resource, long Version)> ReplaceAsync(ScimRequestContext request, string id, JsonObject body, string? ifMatch)
    {
        var user = await FindAsync(id);
        ScimPreconditions.CheckIfMatch(ifMatch, user.Version);
        var resource = ScimJson.ReadResource(body, ScimSchemas.UserType);
        var current = await ToJsonAsync(request, user);
        if (resource[ScimSchemas.IgnisUserUrn] is null && current[ScimSchemas.IgnisUserUrn] is { } ignis)
            resource[ScimSchemas.IgnisUserUrn] = ignis.DeepClone();
        if (resource["active"] is null) resource["active"] = user.Active;
        return await UpdateAsync(request, user, resource);
    }

    /// <summary>PATCH (RFC 7644 §3.5.2): the operations are applied to the resource, which is then saved whole or not at all.</summary>
    public async Task<(JsonObject Resource, long Version)> PatchAsync(ScimRequestContext request, string id, JsonObject body, string? ifMatch)
    {
        var user = await FindAsync(id);
        ScimPreconditions.CheckIfMatch(ifMatch, user.Version);
        var resource = await ToJsonAsync(request, user);
        ScimPatch.Apply(resource, body, ScimSchemas.UserType);
        return await UpdateAsync(request, user, resource);
    }

    public async Task DeleteAsync(string id, string? ifMatch)
    {
        var user = await FindAsync(id);
        ScimPreconditions.CheckIfMatch(ifMatch, user.Version);
        // Tokens and sessions first: once the row is gone nothing could find them by user any more.
        await revocation.SignOutEverywhereAsync(user.Id);
        var result = await users.DeleteAsync(user);
        if (!result.Succeeded) throw IdentityError(result);
        LogDeleted(logger, user.Id);
    }

    public async Task<JsonObject> SearchAsync(ScimRequestContext request, ScimQuery query)
    {
        var type = ScimSchemas.UserType;
        var filter = query.BindFilter(type);
        var sort = query.BindSort(type);
        var translation = UserFilterSql.Translate(filter, users.NormalizeName);
        var source = db.Users.AsNoTracking();
        if (translation.Predicate is not null) source = source.Where(translation.Predicate);
        var roleNames = await roles.AllAsync();

        var sortKey = UserFilterSql.SortKey(sort);
        if (translation.Exact && sortKey is not null)
        {
            var total = await source.CountAsync();
            var ordered = query.Descending ? source.OrderByDescending(sortKey).ThenByDescending(u => u.Id) : source.OrderBy(sortKey).ThenBy(u => u.Id);
            var page = query.Count == 0 ? [] : await ordered.Skip(query.StartIndex - 1).Take(query.Count).ToListAsync();
            var json = await ToJsonAsync(request, page, roleNames);
            return query.ListResponse(total, json.Select(j => ScimJson.Project(j, type, query.Attributes, query.ExcludedAttributes)));
        }

        // The database narrowed what it could; the rest of the filter, and the sort, run here over a bounded set.
        var candidates = await source.CountAsync();
        if (candidates > options.Value.MaxFilterCandidates)
            throw ScimException.BadRequest(ScimErrorType.TooMany,
                $"The filter leaves {candidates} users to examine, more than {options.Value.MaxFilterCandidates}; narrow it with userName, externalId, id, active or meta dates.");
        var all = await ToJsonAsync(request, await source.ToListAsync(), roleNames);
        var matches = filter is null ? all : all.Where(r => FilterEvaluator.Matches(filter, r)).ToList();
        var comparer = new ScimSortComparer(sort ?? FilterBinder.Resolve(new AttributePath(null, "userName", null), type, null, ScimErrorType.InvalidValue), query.Descending);
        matches.Sort(comparer);
        var selected = matches.Skip(query.StartIndex - 1).Take(query.Count);
        return query.ListResponse(matches.Count, selected.Select(j => ScimJson.Project(j, type, query.Attributes, query.ExcludedAttributes)));
    }

    private async Task<(JsonObject Resource, long Version)> UpdateAsync(ScimRequestContext request, IgnisUser user, JsonObject resource)
    {
        var previousRoles = (await roles.OfUserAsync(user.Id)).Select(r => r.Name).ToList();
        var wasActive = user.Active;
        var previousFhirUser = user.FhirUser;
        var write = ScimUserMapper.Apply(resource, user, request.FhirBase);
        await SaveAsync(user, write, created: false, previousRoles);

        // Less access must take effect now, not when the tokens expire: their claims carry the roles and fhirUser.
        var lostRole = previousRoles.Except(write.Roles).Any();
        if ((wasActive && !user.Active) || lostRole || previousFhirUser != user.FhirUser)
            await revocation.SignOutEverywhereAsync(user.Id);
        if (wasActive && !user.Active) LogDeactivated(logger, user.Id);
        return (await ToJsonAsync(request, user), user.Version);
    }

    /// <summary>One SaveChanges: the user row, the role rows and the password hash together.</summary>
    private async Task SaveAsync(IgnisUser user, UserWrite write, bool created, IReadOnlyList<string> previousRoles)
    {
        if (write.Password is { } password)
        {
            var errors = new List<IdentityError>();
            foreach (var validator in users.PasswordValidators)
            {
                var check = await validator.ValidateAsync(users, user, password);
                if (!check.Succeeded) errors.AddRange(check.Errors);
            }
            if (errors.Count > 0)
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, "The password does not meet the password policy: " + string.Join(" ", errors.Select(e => e.Description)));
            user.PasswordHash = users.PasswordHasher.HashPassword(user, password);
            // A new password ends the sessions that signed in with the old one (security stamp validation).
            user.SecurityStamp = Guid.NewGuid().ToString("N");
        }

        var ids = await roles.IdsByNameAsync();
        foreach (var name in write.Roles.Except(previousRoles))
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = ids[name] });
        foreach (var name in previousRoles.Except(write.Roles))
            db.UserRoles.Remove(await db.UserRoles.FirstAsync(r => r.UserId == user.Id && r.RoleId == ids[name]));

        var result = created ? await users.CreateAsync(user) : await users.UpdateAsync(user);
        if (!result.Succeeded) throw IdentityError(result);
    }

    private static ScimException IdentityError(IdentityResult result)
    {
        var codes = result.Errors.Select(e => e.Code).ToList();
        var detail = string.Join(" ", result.Errors.Select(e => e.Description));
        if (codes.Contains(nameof(IdentityErrorDescriber.DuplicateUserName))) return ScimException.Conflict(detail);
        if (codes.Contains(nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            return ScimException.PreconditionFailed("The user was changed by another request; read it again and retry.");
        return ScimException.BadRequest(ScimErrorType.InvalidValue, detail);
    }

    private async Task<IgnisUser> FindAsync(string id) =>
        await users.FindByIdAsync(id) ?? throw ScimException.NotFound($"User {id} not found.");

    private async Task<JsonObject> ToJsonAsync(ScimRequestContext request, IgnisUser user) =>
        ScimUserMapper.ToJson(user, await roles.OfUserAsync(user.Id), request.ScimBase);

    private async Task<List<JsonObject>> ToJsonAsync(ScimRequestContext request, List<IgnisUser> page, IReadOnlyDictionary<string, string> roleNames)
    {
        var ids = page.Select(u => u.Id).ToList();
        var memberships = (await db.UserRoles.AsNoTracking().Where(r => ids.Contains(r.UserId)).ToListAsync())
            .ToLookup(r => r.UserId, r => r.RoleId);
        return
        [
            .. page.Select(u => ScimUserMapper.ToJson(u,
                [.. memberships[u.Id].Where(roleNames.ContainsKey).Select(r => new RoleRef(r, roleNames[r])).OrderBy(r => r.Name, StringComparer.Ordinal)],
                request.ScimBase)),
        ];
    }

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "SCIM created user {UserId}")]
    private static partial void LogCreated(ILogger logger, string userId);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "SCIM deactivated user {UserId}")]
    private static partial void LogDeactivated(ILogger logger, string userId);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "SCIM deleted user {UserId}")]
    private static partial void LogDeleted(ILogger logger, string userId);
}
