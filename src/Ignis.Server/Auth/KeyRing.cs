using System.Data.Common;
using System.Security.Cryptography;
using Ignis.Server.Data;
using Ignis.Server.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace Ignis.Server.Auth;

/// <summary>The keys the authorization server works with at one moment.</summary>
/// <param name="Signing">The RSA key that signs id tokens (and access tokens unless ES256 is chosen).</param>
/// <param name="Published">Other RSA keys, published at /oauth/jwks and accepted: the next key of a rotation and
/// the previous ones until the tokens they signed have expired.</param>
/// <param name="Ec">The EC P-256 key when Ignis:Auth:AccessTokenSigningAlgorithm is ES256.</param>
public sealed record KeySet(
    RsaSecurityKey Signing, IReadOnlyList<RsaSecurityKey> Published, SymmetricSecurityKey Encryption, SymmetricSecurityKey InternalSigning,
    ECDsaSecurityKey? Ec);

/// <summary>
/// The server's keys, on every node the same. With SQLite they are files in the key directory (<see cref="SigningKeys"/>,
/// read at start-up). With PostgreSQL they are rows of AuthSigningKeys: the first node to start makes them, every node
/// reads them, and a rotation (<see cref="RotateAsync"/>, <c>ignis keys rotate</c>) reaches every running node without
/// a restart. A rotation adds the next key with an activation time: until then every node publishes and accepts it
/// but signs with the current one, so no node ever sees a token signed by a key it does not know; after it the old key
/// stays published and accepted until the tokens it signed have expired. Nodes re-read the keys when PostgreSQL
/// notifies them (<see cref="ClusterSignals"/>), at each activation or expiry, and every
/// <see cref="AuthOptions.KeyRefreshInterval"/> in case a notification was missed.
/// </summary>
/// <remarks>
/// OpenIddict reads keys from its options; a new key set raises the options' change tokens (server first, then
/// validation, which copies the server's keys), so the options monitors rebuild them with the new keys.
/// </remarks>
public sealed partial class KeyRing : IDisposable
{
    /// <summary>OpenIddict's default id token lifetime; retired keys outlive the tokens they signed by this and the access token lifetime.</summary>
    private static readonly TimeSpan IdentityTokenLifetime = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly AuthDatabase _database;
    private readonly IgnisOptions _ignis;
    private readonly AuthOptions _auth;
    private readonly TimeProvider _clock;
    private readonly ILogger<KeyRing> _logger;
    private readonly Lock _gate = new();
    private KeySet? _current;
    private string _fingerprint = "";
    private CancellationTokenSource _serverChanged = new();
    private CancellationTokenSource _validationChanged = new();
    private ITimer? _timer;

    public KeyRing(AuthDatabase database, IOptions<IgnisOptions> ignis, IOptions<AuthOptions> auth, TimeProvider clock, ILogger<KeyRing> logger)
    {
        _database = database;
        _ignis = ignis.Value;
        _auth = auth.Value;
        _clock = clock;
        _logger = logger;
    }

    public string KeyDirectory => Path.GetFullPath(_auth.KeyDirectory ?? Path.Combine(_ignis.DataDirectory, "keys"));

    /// <summary>The keys now (loaded, and on PostgreSQL made, on first use).</summary>
    public KeySet Current
    {
        get
        {
            if (_current is { } known) return known;
            lock (_gate)
            {
                if (_current is null) Load(notify: false);
                return _current!;
            }
        }
    }

    /// <summary>How long a key that stopped signing stays published: until every token it signed has expired.</summary>
    public TimeSpan RetiredKeyLifetime =>
        (_auth.AccessTokenLifetime > IdentityTokenLifetime ? _auth.AccessTokenLifetime : IdentityTokenLifetime) + ClockSkew;

    /// <summary>Re-reads the keys (PostgreSQL); the options are rebuilt when they changed.</summary>
    public void Reload()
    {
        if (!_database.IsPostgres) return;
        lock (_gate) Load(notify: true);
    }

    public IChangeToken ServerOptionsChanged() => new CancellationChangeToken(_serverChanged.Token);

    public IChangeToken ValidationOptionsChanged() => new CancellationChangeToken(_validationChanged.Token);

    private void Load(bool notify)
    {
        KeySet set;
        string fingerprint;
        DateTimeOffset? next = null;
        if (_database.IsPostgres)
        {
            var rows = ReadRows();
            if (!HasAll(rows))
            {
                CreateMissing();
                rows = ReadRows();
            }
            (set, next) = Build(rows, _clock.GetUtcNow());
        }
        else
        {
            var keys = SigningKeys.LoadOrCreate(KeyDirectory);
            var ec = _auth.AccessTokenSigningAlgorithm == SecurityAlgorithms.EcdsaSha256 ? SigningKeys.LoadOrCreateEc(KeyDirectory) : null;
            set = new KeySet(keys.Signing, keys.Retired, keys.Encryption, keys.InternalSigning, ec);
        }
        fingerprint = string.Join(' ', [set.Signing.KeyId, .. set.Published.Select(k => k.KeyId)]);
        var changed = _current is not null && fingerprint != _fingerprint;
        _current = set;
        _fingerprint = fingerprint;
        ScheduleReload(next);
        if (changed && notify)
        {
            LogKeysChanged(_logger, set.Signing.KeyId, set.Published.Count);
            Raise(ref _serverChanged);
            Raise(ref _validationChanged);
        }
    }

    private static void Raise(ref CancellationTokenSource source)
    {
        var old = Interlocked.Exchange(ref source, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
    }

    private void ScheduleReload(DateTimeOffset? at)
    {
        if (!_database.IsPostgres) return;
        var due = _auth.KeyRefreshInterval;
        if (at is { } when && when - _clock.GetUtcNow() < due) due = when - _clock.GetUtcNow() + TimeSpan.FromMilliseconds(50);
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        _timer ??= _clock.CreateTimer(_ => SafeReload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void SafeReload()
    {
        try
        {
            Reload();
        }
        catch (Exception e)
        {
            LogReloadFailed(_logger, e);
            lock (_gate) ScheduleReload(null);
        }
    }

    private sealed record Row(string Id, string Kind, string Material, DateTime ActivatesAt);

    private bool HasAll(List<Row> rows) =>
        rows.Any(r => r.Kind == StoredKey.Rsa) && rows.Any(r => r.Kind == StoredKey.Aes256)
        && (_auth.AccessTokenSigningAlgorithm != SecurityAlgorithms.EcdsaSha256 || rows.Any(r => r.Kind == StoredKey.EcP256));

    private List<Row> ReadRows()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Id\", \"Kind\", \"Material\", \"ActivatesAt\" FROM \"AuthSigningKeys\"";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc)));
        return rows;
    }

    /// <summary>
    /// The first node makes the keys (under an advisory lock, so nodes starting together agree on one set). Keys
    /// already in the key directory (a server that ran on SQLite before) are taken over, so its tokens stay valid.
    /// </summary>
    private void CreateMissing()
    {
        using var turn = _database.LockAsync(ClusterLock.SigningKeys).GetAwaiter().GetResult();
        var rows = ReadRows();
        var now = _clock.GetUtcNow().UtcDateTime;
        var inserts = new List<Row>();
        if (!rows.Any(r => r.Kind == StoredKey.Rsa))
        {
            if (File.Exists(Path.Combine(KeyDirectory, "signing-rsa.pem")))
            {
                var files = SigningKeys.LoadOrCreate(KeyDirectory);
                inserts.Add(new Row(files.Signing.KeyId, StoredKey.Rsa, files.Signing.Rsa.ExportPkcs8PrivateKeyPem(), now));
                foreach (var retired in files.Retired)
                    inserts.Add(new Row(retired.KeyId, StoredKey.Rsa, retired.Rsa.ExportPkcs8PrivateKeyPem(), now - RetiredKeyLifetime + TimeSpan.FromMinutes(1)));
                if (rows.All(r => r.Kind != StoredKey.Aes256))
                    inserts.Add(new Row(StoredKey.Aes256, StoredKey.Aes256, Convert.ToBase64String(files.Encryption.Key), now));
            }
            else
            {
                using var rsa = RSA.Create(2048);
                inserts.Add(new Row(SigningKeys.KeyIdOf(rsa), StoredKey.Rsa, rsa.ExportPkcs8PrivateKeyPem(), now));
            }
        }
        if (!rows.Any(r => r.Kind == StoredKey.Aes256) && !inserts.Any(r => r.Kind == StoredKey.Aes256))
            inserts.Add(new Row(StoredKey.Aes256, StoredKey.Aes256, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), now));
        if (_auth.AccessTokenSigningAlgorithm == SecurityAlgorithms.EcdsaSha256 && !rows.Any(r => r.Kind == StoredKey.EcP256))
        {
            var ec = File.Exists(Path.Combine(KeyDirectory, "signing-ec-p256.pem"))
                ? SigningKeys.LoadOrCreateEc(KeyDirectory)
                : null;
            var fresh = ec?.ECDsa ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var key = ec ?? new ECDsaSecurityKey(fresh) { KeyId = SigningKeys.KeyIdOf(fresh) };
            inserts.Add(new Row(key.KeyId, StoredKey.EcP256, key.ECDsa.ExportPkcs8PrivateKeyPem(), now));
        }
        // The first rows of an empty key table: the statement trigger notifies the other nodes, which load the same rows.
        // (Before this commit none of them could have signed anything: they wait for this lock.)
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        foreach (var row in inserts) Insert(connection, transaction, row, now);
        transaction.Commit();
        // The earliest ActivatesAt is the one the current key must have; the retired ones imported above are older.
        LogKeysCreated(_logger, inserts.Count);
    }

    private static void Insert(DbConnection connection, DbTransaction transaction, Row row, DateTime now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO \"AuthSigningKeys\" (\"Id\", \"Kind\", \"Material\", \"CreatedAt\", \"ActivatesAt\") VALUES (@id, @kind, @material, @created, @activates)";
        Add(command, "@id", row.Id);
        Add(command, "@kind", row.Kind);
        Add(command, "@material", row.Material);
        Add(command, "@created", now);
        Add(command, "@activates", row.ActivatesAt);
        command.ExecuteNonQuery();
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    /// <summary>The key set at <paramref name="now"/>, and when it next changes by itself (an activation or an expiry).</summary>
    private (KeySet Set, DateTimeOffset? Next) Build(List<Row> rows, DateTimeOffset now)
    {
        var rsa = rows.Where(r => r.Kind == StoredKey.Rsa).OrderBy(r => r.ActivatesAt).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        var active = rsa.FindLastIndex(r => r.ActivatesAt <= now.UtcDateTime);
        if (active < 0) active = 0; // only keys of the future (a clock far behind): sign with the earliest
        DateTimeOffset? next = null;
        void Consider(DateTimeOffset at)
        {
            if (at > now && (next is null || at < next)) next = at;
        }
        var published = new List<RsaSecurityKey>();
        for (var i = 0; i < rsa.Count; i++)
        {
            if (i == active) continue;
            if (i > active)
            {
                published.Add(Rsa(rsa[i])); // the next key: known everywhere before it signs
                Consider(rsa[i].ActivatesAt);
                continue;
            }
            var until = new DateTimeOffset(rsa[i + 1].ActivatesAt, TimeSpan.Zero) + RetiredKeyLifetime;
            if (until <= now) continue;
            published.Add(Rsa(rsa[i]));
            Consider(until);
        }
        // Newest first after the signing key, as the key files are.
        published.Reverse();
        var aes = Convert.FromBase64String(rows.First(r => r.Kind == StoredKey.Aes256).Material);
        var ecRow = rows.Where(r => r.Kind == StoredKey.EcP256).OrderBy(r => r.ActivatesAt).LastOrDefault();
        ECDsaSecurityKey? ec = null;
        if (_auth.AccessTokenSigningAlgorithm == SecurityAlgorithms.EcdsaSha256 && ecRow is not null)
        {
            var e = ECDsa.Create();
            e.ImportFromPem(ecRow.Material);
            ec = new ECDsaSecurityKey(e) { KeyId = ecRow.Id };
        }
        return (new KeySet(Rsa(rsa[active]), published, new SymmetricSecurityKey(aes), SigningKeys.InternalKey(aes), ec), next);
    }

    private static RsaSecurityKey Rsa(Row row)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(row.Material);
        return new RsaSecurityKey(rsa) { KeyId = row.Id };
    }

    /// <summary>
    /// PostgreSQL: adds a new RSA signing key that starts signing after <paramref name="activateAfter"/> (every node
    /// learns of it first) and deletes keys that are no longer published. Returns the current and the new key id.
    /// </summary>
    public async Task<(string CurrentKeyId, string NewKeyId, DateTimeOffset ActivatesAt, IReadOnlyList<string> Deleted)> RotateAsync(
        TimeSpan activateAfter, CancellationToken ct)
    {
        if (!_database.IsPostgres) throw new InvalidOperationException("Keys in the database are for Ignis:Storage:Provider=postgres; with SQLite use SigningKeys.Rotate.");
        var current = Current.Signing.KeyId;
        await using (await _database.LockAsync(ClusterLock.SigningKeys, ct))
        {
            var now = _clock.GetUtcNow();
            using var rsa = RSA.Create(2048);
            var activates = now + (activateAfter < TimeSpan.Zero ? TimeSpan.Zero : activateAfter);
            var row = new Row(SigningKeys.KeyIdOf(rsa), StoredKey.Rsa, rsa.ExportPkcs8PrivateKeyPem(), activates.UtcDateTime);
            await using var connection = await _database.OpenAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            Insert(connection, transaction, row, now.UtcDateTime);
            // Keys whose successor took over longer ago than any token lives are no longer published: delete them.
            var deleted = new List<string>();
            var keys = ReadRowsIn(connection, transaction).Where(r => r.Kind == StoredKey.Rsa).OrderBy(r => r.ActivatesAt).ToList();
            for (var i = 0; i + 1 < keys.Count; i++)
            {
                if (new DateTimeOffset(keys[i + 1].ActivatesAt, TimeSpan.Zero) + RetiredKeyLifetime > now) continue;
                await using var delete = connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM \"AuthSigningKeys\" WHERE \"Id\" = @id";
                Add(delete, "@id", keys[i].Id);
                await delete.ExecuteNonQueryAsync(ct);
                deleted.Add(keys[i].Id);
            }
            await transaction.CommitAsync(ct);
            Reload();
            return (current, row.Id, activates, deleted);
        }
    }

    private static List<Row> ReadRowsIn(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT \"Id\", \"Kind\", \"Material\", \"ActivatesAt\" FROM \"AuthSigningKeys\"";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc)));
        return rows;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _serverChanged.Dispose();
        _validationChanged.Dispose();
    }

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Signing keys changed: signing with {KeyId}, {Others} other keys published")]
    private static partial void LogKeysChanged(ILogger logger, string? keyId, int others);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "Made {Count} keys in the database")]
    private static partial void LogKeysCreated(ILogger logger, int count);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Warning, Message = "Reading the signing keys failed; will retry")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}

/// <summary>Rebuilds OpenIddict's server options when the key ring changes.</summary>
public sealed class ServerKeysChangeTokenSource(KeyRing ring) : IOptionsChangeTokenSource<OpenIddictServerOptions>
{
    public string? Name => Options.DefaultName;
    public IChangeToken GetChangeToken() => ring.ServerOptionsChanged();
}

/// <summary>Rebuilds OpenIddict's validation options (which copy the server's keys) when the key ring changes.</summary>
public sealed class ValidationKeysChangeTokenSource(KeyRing ring) : IOptionsChangeTokenSource<OpenIddictValidationOptions>
{
    public string? Name => Options.DefaultName;
    public IChangeToken GetChangeToken() => ring.ValidationOptionsChanged();
}
