using System.Data.Common;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictExceptions;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's EF Core token store, with the calls of every token request written as plain SQL on the request's
/// own connection (docs/benchmarks.md, "Issue 3"). A code exchange or refresh reads its code or refresh token by
/// reference id and writes three or four rows; through EF Core each of those paid for change tracking, command
/// building and the navigation lookups OpenIddict's store makes (the client and the grant are loaded again for
/// every new token only to take their ids). Here a row is one statement with the ids as plain columns.
/// <para>
/// The rows are the ones EF Core reads and writes (same table, columns and value formats on SQLite and
/// PostgreSQL), so the portal, pruning, revocation by grant/client/user and the migrations keep using EF Core:
/// every method not overridden here is OpenIddict's. A token entity this store materializes is not tracked by
/// the DbContext; its <c>Application</c> and <c>Authorization</c> are shells holding only the ids. An entity EF
/// Core tracks (one returned by a LINQ query of the base store) is still updated and deleted through EF Core, so
/// its tracked state never goes stale.
/// </para>
/// <para>
/// Updates keep OpenIddict's optimistic concurrency: the row changes only while its concurrency token is the one
/// read, otherwise <see cref="ConcurrencyException"/> (which makes a concurrent second redemption of a code or
/// refresh token fail, as with EF Core).
/// </para>
/// <para>
/// While OpenIddict processes a sign-in (<see cref="TokenWriteBatch"/>), writes are queued instead and committed
/// together in one short transaction at its end, before any token leaves the server: the redemption of the code
/// or refresh token, the rows of the new tokens and their payloads. The redemption keeps its concurrency check
/// there; when another request redeemed the same code or refresh token first, nothing of the batch is written
/// and the sign-in is refused. On SQLite that transaction is the writer thread's group commit
/// (<see cref="AuthWriteBatcher"/>): concurrent sign-ins share one transaction instead of queuing for SQLite's
/// write lock, and each is answered once its rows are committed.
/// </para>
/// </summary>
public sealed class TokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options,
    AuthDatabase database,
    AuthWriteBatcher writer,
    PreparedReads reads)
    : OpenIddictEntityFrameworkCoreTokenStore<OpenIddictEntityFrameworkCoreToken, OpenIddictEntityFrameworkCoreApplication, OpenIddictEntityFrameworkCoreAuthorization, string>(
        cache, context, options)
{
    private const string Columns =
        "\"Id\", \"ApplicationId\", \"AuthorizationId\", \"ConcurrencyToken\", \"CreationDate\", \"ExpirationDate\", \"Payload\", " +
        "\"Properties\", \"RedemptionDate\", \"ReferenceId\", \"Status\", \"Subject\", \"Type\"";

    private const string Insert =
        "INSERT INTO \"OpenIddictTokens\" (" + Columns + ") VALUES " +
        "(@id, @application, @authorization, @concurrency, @created, @expires, @payload, @properties, @redeemed, @reference, @status, @subject, @type)";

    private const string Update =
        "UPDATE \"OpenIddictTokens\" SET \"ApplicationId\" = @application, \"AuthorizationId\" = @authorization, " +
        "\"ConcurrencyToken\" = @concurrency, \"CreationDate\" = @created, \"ExpirationDate\" = @expires, \"Payload\" = @payload, " +
        "\"Properties\" = @properties, \"RedemptionDate\" = @redeemed, \"ReferenceId\" = @reference, \"Status\" = @status, " +
        "\"Subject\" = @subject, \"Type\" = @type WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @expected";

    private const string Delete = "DELETE FROM \"OpenIddictTokens\" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @expected";

    private const string SelectById = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"Id\" = @key";

    private const string SelectByReference = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"ReferenceId\" = @key";

    /// <summary>The tokens this store read or wrote in this scope (a request), by id: OpenIddict looks the same token up more than once.</summary>
    private readonly Dictionary<string, OpenIddictEntityFrameworkCoreToken> _seen = new(StringComparer.Ordinal);

    /// <summary>
    /// Queued writes while a sign-in is processed (null: write at once), in the order they were made; the parameters
    /// of each are bound when it is written, from the entity's values then.
    /// </summary>
    private List<BatchedStatement>? _deferred;

    /// <summary>The queued insert or update of each token entity, so that later changes to it join that write.</summary>
    private readonly Dictionary<OpenIddictEntityFrameworkCoreToken, BatchedStatement> _deferredByToken = new(ReferenceEqualityComparer.Instance);

    /// <summary>Queue writes from now on, until <see cref="FlushAsync"/>.</summary>
    public void DeferWrites() => _deferred ??= [];

    /// <summary>Queues a statement of the caller's with the token writes: it runs in their order and transaction.</summary>
    public void Defer(string sql, IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        DeferWrites();
        _deferred!.Add(new BatchedStatement(sql, command =>
        {
            foreach (var (name, value) in parameters) AuthSql.Add(command, name, value);
        }, MustChangeOneRow: false));
    }

    /// <summary>
    /// Writes the queued statements in one transaction and stops queuing. False, with nothing written, when a row
    /// to update had changed since it was read (a code or refresh token redeemed by another request meanwhile).
    /// On SQLite, unless the context has a transaction open, the statements go to the writer thread's group commit;
    /// a row the database refuses then throws <see cref="AuthWriteRefusedException"/>.
    /// </summary>
    public async Task<bool> FlushAsync(CancellationToken ct)
    {
        var writes = _deferred;
        _deferred = null;
        _deferredByToken.Clear();
        if (writes is not { Count: > 0 }) return true;
        var db = await Context.GetDbContextAsync(ct);
        var written = false;
        try
        {
            if (!database.IsPostgres && db.Database.CurrentTransaction is null)
            {
                // Not cancelled once queued: the writer may already have committed the rows.
                written = await writer.WriteStatementsAsync(writes);
                return written;
            }
            written = await AuthSql.InTransactionAsync(db, async () =>
            {
                foreach (var write in writes)
                    if (await AuthSql.ExecuteAsync(db, write.Sql, write.Bind, ct) != 1 && write.MustChangeOneRow) return false;
                return true;
            }, ct);
            return written;
        }
        finally
        {
            // What was read or queued in this request no longer matches the database.
            if (!written) _seen.Clear();
        }
    }

    public override async ValueTask CreateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (IsTracked(db, token))
        {
            await base.CreateAsync(token, cancellationToken);
            return;
        }
        token.Id ??= Guid.NewGuid().ToString();
        token.ConcurrencyToken ??= Guid.NewGuid().ToString();
        _seen[token.Id] = token;
        if (_deferred is not null)
        {
            var insert = new BatchedStatement(Insert, command => Bind(command, token, expected: null), MustChangeOneRow: false);
            _deferred.Add(insert);
            _deferredByToken[token] = insert;
            return;
        }
        await AuthSql.ExecuteAsync(db, Insert, command => Bind(command, token, expected: null), cancellationToken);
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (IsTracked(db, token))
        {
            await base.UpdateAsync(token, cancellationToken);
            return;
        }
        // A token whose insert or update is queued: that write takes the new values when it runs.
        if (_deferredByToken.ContainsKey(token)) return;
        var expected = token.ConcurrencyToken;
        var next = Guid.NewGuid().ToString();
        if (_deferred is not null)
        {
            token.ConcurrencyToken = next;
            var update = new BatchedStatement(Update, command => Bind(command, token, expected), MustChangeOneRow: true);
            _deferred.Add(update);
            _deferredByToken[token] = update;
            return;
        }
        token.ConcurrencyToken = next;
        if (await AuthSql.ExecuteAsync(db, Update, command => Bind(command, token, expected), cancellationToken) != 1)
        {
            token.ConcurrencyToken = expected;
            _seen.Remove(token.Id!);
            throw new ConcurrencyException("The token was changed or deleted by another request since it was read.");
        }
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (IsTracked(db, token))
        {
            await base.DeleteAsync(token, cancellationToken);
            return;
        }
        if (_deferredByToken.Remove(token, out var queued))
        {
            // Written together with the batch: a queued insert is simply not made; a queued update still checks the row.
            _deferred!.Remove(queued);
            _seen.Remove(token.Id!);
            if (!queued.MustChangeOneRow) return;
        }
        _seen.Remove(token.Id!);
        if (await AuthSql.ExecuteAsync(db, Delete, command =>
            {
                AuthSql.Add(command, "@id", token.Id);
                AuthSql.Add(command, "@expected", token.ConcurrencyToken);
            }, cancellationToken) != 1)
            throw new ConcurrencyException("The token was changed or deleted by another request since it was read.");
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (_seen.TryGetValue(identifier, out var known)) return known;
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (AuthSql.Tracked<OpenIddictEntityFrameworkCoreToken>(db, t => t.Id == identifier) is { } tracked) return tracked;
        return await SelectAsync(db, SelectById, identifier, cancellationToken);
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreToken?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        foreach (var known in _seen.Values)
            if (string.Equals(known.ReferenceId, identifier, StringComparison.Ordinal)) return known;
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (AuthSql.Tracked<OpenIddictEntityFrameworkCoreToken>(db, t => string.Equals(t.ReferenceId, identifier, StringComparison.Ordinal)) is { } tracked) return tracked;
        return await SelectAsync(db, SelectByReference, identifier, cancellationToken);
    }

    public override ValueTask<string?> GetApplicationIdAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken) =>
        token.Application is { } application ? new(application.Id) : base.GetApplicationIdAsync(token, cancellationToken);

    public override ValueTask<string?> GetAuthorizationIdAsync(OpenIddictEntityFrameworkCoreToken token, CancellationToken cancellationToken) =>
        token.Authorization is { } authorization ? new(authorization.Id) : base.GetAuthorizationIdAsync(token, cancellationToken);

    /// <summary>
    /// A new token takes its client's id as a shell (EF Core's store loads the client entity for it). A tracked
    /// token keeps EF Core's behaviour.
    /// </summary>
    public override async ValueTask SetApplicationIdAsync(OpenIddictEntityFrameworkCoreToken token, string? identifier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (IsTracked(db, token)) await base.SetApplicationIdAsync(token, identifier, cancellationToken);
        else token.Application = string.IsNullOrEmpty(identifier) ? null : new OpenIddictEntityFrameworkCoreApplication { Id = identifier };
    }

    public override async ValueTask SetAuthorizationIdAsync(OpenIddictEntityFrameworkCoreToken token, string? identifier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var db = await Context.GetDbContextAsync(cancellationToken);
        if (IsTracked(db, token)) await base.SetAuthorizationIdAsync(token, identifier, cancellationToken);
        else token.Authorization = string.IsNullOrEmpty(identifier) ? null : new OpenIddictEntityFrameworkCoreAuthorization { Id = identifier };
    }

    private static bool IsTracked(DbContext db, OpenIddictEntityFrameworkCoreToken token) =>
        AuthSql.Tracked<OpenIddictEntityFrameworkCoreToken>(db, t => ReferenceEquals(t, token)) is not null;

    /// <summary>
    /// A token row by id or reference id: on SQLite with a prepared statement (<see cref="PreparedReads"/>), unless the
    /// request's context has a transaction open, whose own writes the read must see.
    /// </summary>
    private async Task<OpenIddictEntityFrameworkCoreToken?> SelectAsync(DbContext db, string sql, string key, CancellationToken ct)
    {
        var token = reads.Enabled && db.Database.CurrentTransaction is null
            ? reads.ReadOne(sql, "@key", key, MapToken)
            : await AuthSql.ReadOneAsync(db, sql, "@key", key, MapToken, ct);
        if (token is not null) _seen[token.Id!] = token;
        return token;
    }

    private static OpenIddictEntityFrameworkCoreToken MapToken(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Application = reader.IsDBNull(1) ? null : new OpenIddictEntityFrameworkCoreApplication { Id = reader.GetString(1) },
        Authorization = reader.IsDBNull(2) ? null : new OpenIddictEntityFrameworkCoreAuthorization { Id = reader.GetString(2) },
        ConcurrencyToken = AuthSql.String(reader, 3),
        CreationDate = AuthSql.Date(reader, 4),
        ExpirationDate = AuthSql.Date(reader, 5),
        Payload = AuthSql.String(reader, 6),
        Properties = AuthSql.String(reader, 7),
        RedemptionDate = AuthSql.Date(reader, 8),
        ReferenceId = AuthSql.String(reader, 9),
        Status = AuthSql.String(reader, 10),
        Subject = AuthSql.String(reader, 11),
        Type = AuthSql.String(reader, 12),
    };

    private void Bind(DbCommand command, OpenIddictEntityFrameworkCoreToken token, string? expected)
    {
        AuthSql.Add(command, "@id", token.Id);
        AuthSql.Add(command, "@application", token.Application?.Id);
        AuthSql.Add(command, "@authorization", token.Authorization?.Id);
        AuthSql.Add(command, "@concurrency", token.ConcurrencyToken);
        AuthSql.Add(command, "@created", AuthSql.ToStored(token.CreationDate));
        AuthSql.Add(command, "@expires", AuthSql.ToStored(token.ExpirationDate));
        AuthSql.Add(command, "@payload", token.Payload);
        AuthSql.Add(command, "@properties", token.Properties);
        AuthSql.Add(command, "@redeemed", AuthSql.ToStored(token.RedemptionDate));
        AuthSql.Add(command, "@reference", token.ReferenceId);
        AuthSql.Add(command, "@status", token.Status);
        AuthSql.Add(command, "@subject", token.Subject);
        AuthSql.Add(command, "@type", token.Type);
        if (expected is not null) AuthSql.Add(command, "@expected", expected);
    }
}
