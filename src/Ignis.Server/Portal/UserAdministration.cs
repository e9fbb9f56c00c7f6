using System.Text.RegularExpressions;
using Ignis.Fhir.Engine;
using Ignis.Server.Audit;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Portal;

/// <summary>A user as the admin pages list them.</summary>
public sealed record UserRow(string Id, string UserName, IReadOnlyList<string> Roles, string? FhirUser, bool LockedOut, DateTimeOffset? LockedUntil, bool Active);

/// <summary>What an administrator does to users. Every change is in the security log; taking access away revokes tokens and sessions.</summary>
public sealed partial class UserAdministration(
    UserManager<IgnisUser> users, AuthDbContext db, GrantRevocation revocation, FhirService fhir, SecurityLog log, TimeProvider clock)
{
    public const int MaxListed = 200;

    /// <summary>Resource types a user's FHIR record may be (SMART fhirUser).</summary>
    public static readonly string[] FhirUserTypes = ["Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Person"];

    public async Task<List<UserRow>> ListAsync(string? search, CancellationToken ct)
    {
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var s = search.Trim().ToUpperInvariant();
            query = query.Where(u => u.NormalizedUserName!.Contains(s) || (u.FhirUser != null && u.FhirUser.Contains(search.Trim())));
        }
        var list = await query.OrderBy(u => u.NormalizedUserName).Take(MaxListed).ToListAsync(ct);
        var ids = list.Select(u => u.Id).ToList();
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ids.Contains(ur.UserId)
                           select new { ur.UserId, r.Name }).ToListAsync(ct);
        return [.. list.Select(u => ToRow(u, [.. roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order()]))];
    }

    public async Task<UserRow?> FindAsync(string id)
    {
        var user = await users.FindByIdAsync(id);
        return user is null ? null : ToRow(user, [.. (await users.GetRolesAsync(user)).Order()]);
    }

    private UserRow ToRow(IgnisUser u, IReadOnlyList<string> roles)
    {
        var locked = u.LockoutEnd is { } end && end > clock.GetUtcNow();
        return new UserRow(u.Id, u.UserName ?? u.Id, roles, u.FhirUser, locked, locked ? u.LockoutEnd : null, u.Active);
    }

    public async Task<(string? Id, List<string> Errors)> CreateAsync(HttpContext http, IgnisUser admin, string? userName, string? password,
        IEnumerable<string> roles, string? fhirUser)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(userName)) errors.Add("Enter a user name.");
        if (string.IsNullOrEmpty(password)) errors.Add("Enter a first password.");
        var wanted = roles.Distinct().ToList();
        if (wanted.Any(r => !IgnisRoles.All.Contains(r))) errors.Add("Choose roles from the list.");
        var link = await CheckFhirUserAsync(fhirUser, errors, http);
        if (errors.Count > 0) return (null, errors);

        var user = new IgnisUser { UserName = userName!.Trim(), FhirUser = link };
        var created = await users.CreateAsync(user, password!);
        if (!created.Succeeded) return (null, [.. created.Errors.Select(e => e.Description)]);
        if (wanted.Count > 0) await users.AddToRolesAsync(user, wanted);
        Record(http, SecurityEventKind.UserCreated, admin, user, $"roles: {Join(wanted)}" + (link is null ? "" : $"; fhirUser: {link}"));
        return (user.Id, []);
    }

    /// <summary>Sets the roles and the FHIR record link. An administrator cannot take the admin role from themselves.</summary>
    public async Task<List<string>> UpdateAsync(HttpContext http, IgnisUser admin, string id, IEnumerable<string> roles, string? fhirUser)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return ["This user does not exist any more."];
        var errors = new List<string>();
        var wanted = roles.Distinct().ToList();
        if (wanted.Any(r => !IgnisRoles.All.Contains(r))) errors.Add("Choose roles from the list.");
        if (user.Id == admin.Id && !wanted.Contains(IgnisRoles.Admin)) errors.Add("You cannot take the admin role from yourself.");
        var link = await CheckFhirUserAsync(fhirUser, errors, http);
        if (errors.Count > 0) return errors;

        var current = await users.GetRolesAsync(user);
        var removed = current.Except(wanted).ToList();
        var added = wanted.Except(current).ToList();
        if (removed.Count > 0) await users.RemoveFromRolesAsync(user, removed);
        if (added.Count > 0) await users.AddToRolesAsync(user, added);
        if (removed.Count + added.Count > 0)
        {
            // Role claims live in the session cookie: make the user's sessions pick up the change.
            await users.UpdateSecurityStampAsync(user);
            Record(http, SecurityEventKind.RolesChanged, admin, user, $"roles: {Join(wanted)} (added {Join(added)}; removed {Join(removed)})");
        }
        if (user.FhirUser != link)
        {
            var before = user.FhirUser;
            user.FhirUser = link;
            await users.UpdateAsync(user);
            Record(http, SecurityEventKind.UserChanged, admin, user, $"fhirUser: {before ?? "none"} -> {link ?? "none"}");
        }
        return [];
    }

    /// <summary>Locks the user out until unlocked, and ends every token and session they have.</summary>
    public async Task<bool> LockAsync(HttpContext http, IgnisUser admin, string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null || user.Id == admin.Id) return false;
        await users.SetLockoutEnabledAsync(user, true);
        await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        var count = await revocation.SignOutEverywhereAsync(user.Id, http.RequestAborted);
        Record(http, SecurityEventKind.UserChanged, admin, user, $"locked by an administrator; {count} tokens revoked, sessions ended");
        return true;
    }

    public async Task<bool> UnlockAsync(HttpContext http, IgnisUser admin, string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return false;
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        Record(http, SecurityEventKind.UserChanged, admin, user, "unlocked by an administrator");
        return true;
    }

    /// <summary>Sets a new password chosen by the administrator; the user's sessions and tokens end.</summary>
    public async Task<List<string>> ResetPasswordAsync(HttpContext http, IgnisUser admin, string id, string? password)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return ["This user does not exist any more."];
        if (string.IsNullOrEmpty(password)) return ["Enter the new password."];
        foreach (var validator in users.PasswordValidators)
        {
            var valid = await validator.ValidateAsync(users, user, password);
            if (!valid.Succeeded) return [.. valid.Errors.Select(e => e.Description)];
        }
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var result = await users.ResetPasswordAsync(user, token, password);
        if (!result.Succeeded) return [.. result.Errors.Select(e => e.Description)];
        await users.ResetAccessFailedCountAsync(user);
        var count = await revocation.SignOutEverywhereAsync(user.Id, http.RequestAborted);
        Record(http, SecurityEventKind.PasswordChanged, admin, user, $"reset by an administrator; {count} tokens revoked, sessions ended");
        return [];
    }

    /// <summary>Deletes the user after revoking every token and session they had.</summary>
    public async Task<List<string>> DeleteAsync(HttpContext http, IgnisUser admin, string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return ["This user does not exist any more."];
        if (user.Id == admin.Id) return ["You cannot delete your own account."];
        var count = await revocation.SignOutEverywhereAsync(user.Id, http.RequestAborted);
        await db.Launches.Where(l => l.UserId == user.Id).ExecuteDeleteAsync(http.RequestAborted);
        await db.Sessions.Where(s => s.UserId == user.Id).ExecuteDeleteAsync(http.RequestAborted);
        var result = await users.DeleteAsync(user);
        if (!result.Succeeded) return [.. result.Errors.Select(e => e.Description)];
        Record(http, SecurityEventKind.UserDeleted, admin, user, $"{count} tokens revoked");
        return [];
    }

    /// <summary>Null for an empty value; else the normalised "Type/id" of an existing resource, or an error.</summary>
    private async Task<string?> CheckFhirUserAsync(string? value, List<string> errors, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var m = FhirUserPattern().Match(value.Trim());
        if (!m.Success || !FhirUserTypes.Contains(m.Groups[1].Value))
        {
            errors.Add($"The FHIR record must look like Patient/123 or Practitioner/abc ({string.Join(", ", FhirUserTypes)}).");
            return null;
        }
        if (!await AuthEndpoints.ExistsAsync(fhir, http, m.Groups[1].Value, m.Groups[2].Value))
        {
            errors.Add($"There is no {m.Groups[1].Value}/{m.Groups[2].Value} on this server.");
            return null;
        }
        return $"{m.Groups[1].Value}/{m.Groups[2].Value}";
    }

    private void Record(HttpContext http, SecurityEventKind kind, IgnisUser admin, IgnisUser target, string detail) =>
        log.Record(http, new SecurityEvent(kind) { User = AccountService.Party(admin), TargetUser = AccountService.Party(target), Detail = detail });

    private static string Join(IEnumerable<string> items) => items.Any() ? string.Join(", ", items) : "none";

    [GeneratedRegex(@"^([A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})$")]
    private static partial Regex FhirUserPattern();
}
