using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictExceptions;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's EF Core authorization (grant) store, with the grant lookup by id that every code exchange and refresh
/// makes (OpenIddict checks that the grant is still valid) as one plain SQL statement (docs/benchmarks.md,
/// "Issue 3"). A grant read that way is not tracked by the DbContext; its <c>Application</c> is a shell holding only
/// the client's id, so this store also writes and deletes such a grant itself (EF Core would take the shell for a
/// client to update). Every other grant (created at authorize, listed by the pages, revoked in bulk) stays
/// OpenIddict's EF Core code.
/// </summary>
public sealed class AuthorizationStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    PreparedReads reads)
    : OpenIddictEntityFrameworkCoreAuthorizationStore<OpenIddictEntityFrameworkCoreAuthorization, OpenIddictEntityFrameworkCoreApplication, OpenIddictEntityFrameworkCoreToken, string>(
        cache, context, options)
{
    private const string Select =
        "SELECT \"Id\", \"ApplicationId\", \"ConcurrencyToken\", \"CreationDate\", \"Properties\", \"Scopes\", \"Status\", \"Subject\", \"Type\" " +
        "FROM \"OpenIddictAuthorizations\" WHERE \"Id\" = @id";

    private const string Update =
        "UPDATE \"OpenIddictAuthorizations\" SET \"ApplicationId\" = @application, \"ConcurrencyToken\" = @concurrency, " +
        "\"CreationDate\" = @created, \"Properties\" = @properties, \"Scopes\" = @scopes, \"Status\" = @status, \"Subject\" = @subject, " +
        "\"Type\" = @type WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @expected";

    private const string Delete = "DELETE FROM \"OpenIddictAuthorizations\" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @expected";

    /// <summary>The grants this store read itself in this scope: untracked, written back by this store.</summary>
    private readonly ConditionalWeakTable<OpenIddictEntityFrameworkCoreAuthorization, object> _read = new();

    public override async ValueTask<OpenIddictEntityFrameworkCoreAuthorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (AuthSql.Tracked<OpenIddictEntityFrameworkCoreAuthorization>(db, a => a.Id == identifier) is { } tracked) return tracked;
        // On SQLite with a prepared statement (PreparedReads), unless the context has a transaction open whose writes it must see.
        var authorization = reads.Enabled && db.Database.CurrentTransaction is null
            ? reads.ReadOne(Select, "@id", identifier, MapAuthorization)
            : await AuthSql.ReadOneAsync(db, Select, "@id", identifier, MapAuthorization, cancellationToken);
        if (authorization is null) return null;
        _read.AddOrUpdate(authorization, authorization);
        return authorization;
    }

    private static OpenIddictEntityFrameworkCoreAuthorization MapAuthorization(System.Data.Common.DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Application = reader.IsDBNull(1) ? null : new OpenIddictEntityFrameworkCoreApplication { Id = reader.GetString(1) },
        ConcurrencyToken = AuthSql.String(reader, 2),
        CreationDate = AuthSql.Date(reader, 3),
        Properties = AuthSql.String(reader, 4),
        Scopes = AuthSql.String(reader, 5),
        Status = AuthSql.String(reader, 6),
        Subject = AuthSql.String(reader, 7),
        Type = AuthSql.String(reader, 8),
    };

    public override ValueTask<string?> GetApplicationIdAsync(OpenIddictEntityFrameworkCoreAuthorization authorization, CancellationToken cancellationToken) =>
        _read.TryGetValue(authorization, out _) ? new(authorization.Application?.Id) : base.GetApplicationIdAsync(authorization, cancellationToken);

    public override ValueTask SetApplicationIdAsync(OpenIddictEntityFrameworkCoreAuthorization authorization, string? identifier, CancellationToken cancellationToken)
    {
        if (!_read.TryGetValue(authorization, out _)) return base.SetApplicationIdAsync(authorization, identifier, cancellationToken);
        authorization.Application = string.IsNullOrEmpty(identifier) ? null : new OpenIddictEntityFrameworkCoreApplication { Id = identifier };
        return ValueTask.CompletedTask;
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreAuthorization authorization, CancellationToken cancellationToken)
    {
        if (!_read.TryGetValue(authorization, out _))
        {
            await base.UpdateAsync(authorization, cancellationToken);
            return;
        }
        var db = await Context.GetDbContextAsync(cancellationToken);
        var expected = authorization.ConcurrencyToken;
        authorization.ConcurrencyToken = Guid.NewGuid().ToString();
        if (await AuthSql.ExecuteAsync(db, Update, command =>
            {
                AuthSql.Add(command, "@id", authorization.Id);
                AuthSql.Add(command, "@application", authorization.Application?.Id);
                AuthSql.Add(command, "@concurrency", authorization.ConcurrencyToken);
                AuthSql.Add(command, "@created", AuthSql.ToStored(authorization.CreationDate));
                AuthSql.Add(command, "@properties", authorization.Properties);
                AuthSql.Add(command, "@scopes", authorization.Scopes);
                AuthSql.Add(command, "@status", authorization.Status);
                AuthSql.Add(command, "@subject", authorization.Subject);
                AuthSql.Add(command, "@type", authorization.Type);
                AuthSql.Add(command, "@expected", expected);
            }, cancellationToken) != 1)
        {
            authorization.ConcurrencyToken = expected;
            throw new ConcurrencyException("The authorization was changed or deleted by another request since it was read.");
        }
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreAuthorization authorization, CancellationToken cancellationToken)
    {
        if (!_read.TryGetValue(authorization, out _))
        {
            await base.DeleteAsync(authorization, cancellationToken);
            return;
        }
        // As OpenIddict's store does: the grant's tokens go with it, in the same transaction.
        var db = await Context.GetDbContextAsync(cancellationToken);
        var deleted = await AuthSql.InTransactionAsync(db, async () =>
        {
            await AuthSql.ExecuteAsync(db, "DELETE FROM \"OpenIddictTokens\" WHERE \"AuthorizationId\" = @id",
                command => AuthSql.Add(command, "@id", authorization.Id), cancellationToken);
            return await AuthSql.ExecuteAsync(db, Delete, command =>
            {
                AuthSql.Add(command, "@id", authorization.Id);
                AuthSql.Add(command, "@expected", authorization.ConcurrencyToken);
            }, cancellationToken) == 1;
        }, cancellationToken);
        if (!deleted) throw new ConcurrencyException("The authorization was changed or deleted by another request since it was read.");
    }
}
