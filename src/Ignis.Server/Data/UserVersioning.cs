using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Ignis.Server.Data;

/// <summary>
/// Keeps <see cref="IgnisUser.Created"/>, <see cref="IgnisUser.Modified"/> and <see cref="IgnisUser.Version"/> (and
/// the same three shadow columns of roles) true whoever changes a user: SCIM, the admin pages, the seeding. A
/// change of a property the user's SCIM representation shows, or of the user's roles, is a new version;
/// bookkeeping (failed sign-ins, lockout, security and concurrency stamps) is not.
/// </summary>
public sealed class UserVersioning(TimeProvider clock) : SaveChangesInterceptor
{
    public const string RoleCreated = "ScimCreated";
    public const string RoleModified = "ScimModified";
    public const string RoleVersion = "ScimVersion";

    private static readonly HashSet<string> Bookkeeping =
    [
        nameof(IgnisUser.ConcurrencyStamp), nameof(IgnisUser.SecurityStamp), nameof(IgnisUser.AccessFailedCount),
        nameof(IgnisUser.LockoutEnd), nameof(IgnisUser.LockoutEnabled), nameof(IgnisUser.NormalizedUserName),
        nameof(IgnisUser.NormalizedEmail), nameof(IgnisUser.EmailConfirmed), nameof(IgnisUser.PhoneNumberConfirmed),
        nameof(IgnisUser.TwoFactorEnabled), nameof(IgnisUser.Version), nameof(IgnisUser.Modified), nameof(IgnisUser.Created),
    ];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context) Stamp(context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context) Stamp(context);
        return ValueTask.FromResult(result);
    }

    private static bool TracksUsersOrRoles(ChangeTracker tracker)
    {
        var detect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            return tracker.Entries().Any(e => e.Entity is IgnisUser or IdentityUserRole<string> or IdentityRole);
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detect;
        }
    }

    private void Stamp(DbContext context)
    {
        // Most saves (token, authorization and session rows: several per token request) track no user or role at all:
        // they skip change detection here (SaveChanges detects once more anyway; detecting the token rows three times
        // per save was 2 % of a code exchange's CPU).
        if (!TracksUsersOrRoles(context.ChangeTracker)) return;
        context.ChangeTracker.DetectChanges();
        if (!context.ChangeTracker.Entries().Any(e => e.State is not (EntityState.Unchanged or EntityState.Detached)
                && e.Entity is IgnisUser or IdentityUserRole<string> or IdentityRole))
            return;
        var now = clock.GetUtcNow().UtcDateTime;
        // Whole microseconds: PostgreSQL keeps no finer time, and a user read back must show the dates it was given.
        now = new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
        var touchedUsers = new HashSet<string>(StringComparer.Ordinal);
        var touchedRoles = new HashSet<string>(StringComparer.Ordinal);

        foreach (var entry in context.ChangeTracker.Entries<IdentityUserRole<string>>().ToList())
        {
            if (entry.State is not (EntityState.Added or EntityState.Deleted)) continue;
            touchedUsers.Add(entry.Entity.UserId);
            touchedRoles.Add(entry.Entity.RoleId);
        }
        foreach (var entry in context.ChangeTracker.Entries<IgnisUser>().ToList())
        {
            var user = entry.Entity;
            switch (entry.State)
            {
                case EntityState.Added:
                    if (user.Created == default) user.Created = now;
                    user.Modified = now;
                    user.Version = Math.Max(user.Version, 1);
                    touchedUsers.Remove(user.Id);
                    break;
                case EntityState.Modified when touchedUsers.Remove(user.Id) || Changed(entry):
                    Bump(user, now);
                    break;
                case EntityState.Deleted:
                    touchedUsers.Remove(user.Id);
                    // The database deletes the user's role rows; the roles' member lists change with it.
                    foreach (var roleId in context.Set<IdentityUserRole<string>>().AsNoTracking()
                                 .Where(r => r.UserId == user.Id).Select(r => r.RoleId).ToList())
                        touchedRoles.Add(roleId);
                    break;
            }
        }
        foreach (var id in touchedUsers)
            if (context.Set<IgnisUser>().Find(id) is { } user && context.Entry(user).State != EntityState.Deleted) Bump(user, now);

        foreach (var entry in context.ChangeTracker.Entries<IdentityRole>().ToList())
        {
            if (entry.State == EntityState.Added)
            {
                entry.Property<DateTime>(RoleCreated).CurrentValue = now;
                entry.Property<DateTime>(RoleModified).CurrentValue = now;
                entry.Property<long>(RoleVersion).CurrentValue = 1;
                touchedRoles.Remove(entry.Entity.Id);
            }
        }
        foreach (var id in touchedRoles)
        {
            if (context.Set<IdentityRole>().Find(id) is not { } role) continue;
            var entry = context.Entry(role);
            if (entry.State == EntityState.Deleted) continue;
            entry.Property<DateTime>(RoleModified).CurrentValue = now;
            entry.Property<long>(RoleVersion).CurrentValue = entry.Property<long>(RoleVersion).CurrentValue + 1;
        }
    }

    private static bool Changed(EntityEntry<IgnisUser> entry) =>
        entry.Properties.Any(p => p.IsModified && !Bookkeeping.Contains(p.Metadata.Name) && !Equals(p.OriginalValue, p.CurrentValue));

    private static void Bump(IgnisUser user, DateTime now)
    {
        user.Version++;
        user.Modified = now;
    }
}
