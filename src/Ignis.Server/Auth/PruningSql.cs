using System.Data.Common;
using Ignis.Server.Data;

namespace Ignis.Server.Auth;

/// <summary>
/// The deletes of <see cref="TokenPruning"/> as plain SQL, with the conditions of OpenIddict's EF Core stores
/// (<c>PruneAsync</c> of the token and authorization stores, 7.8) and of <see cref="LaunchService.PruneAsync"/>. The
/// first round runs at every start; through EF Core its three LINQ deletes brought in EF Core's query pipeline, which
/// stayed resident on an idle server (docs/benchmarks.md, "Session 6: idle memory").
/// </summary>
internal static class PruningSql
{
    /// <summary>Rows per statement, as OpenIddict deletes them: a long prune never holds the write lock for long.</summary>
    public const int Batch = 1000;

    // OpenIddict: created before the threshold, and no longer usable: neither inactive nor valid (redeemed, revoked,
    // rejected), or of a grant that is no longer valid, or expired. A null status counts as neither (C# semantics, as
    // EF Core translates them).
    private const string Tokens =
        "DELETE FROM \"OpenIddictTokens\" WHERE \"Id\" IN (SELECT t.\"Id\" FROM \"OpenIddictTokens\" AS t " +
        "LEFT JOIN \"OpenIddictAuthorizations\" AS a ON a.\"Id\" = t.\"AuthorizationId\" " +
        "WHERE t.\"CreationDate\" < @threshold AND (" +
        "((t.\"Status\" <> 'inactive' OR t.\"Status\" IS NULL) AND (t.\"Status\" <> 'valid' OR t.\"Status\" IS NULL)) " +
        "OR (a.\"Id\" IS NOT NULL AND (a.\"Status\" <> 'valid' OR a.\"Status\" IS NULL)) " +
        "OR t.\"ExpirationDate\" < @now) " +
        "ORDER BY t.\"Id\" LIMIT @batch)";

    // OpenIddict: created before the threshold, not valid or ad-hoc, and without tokens left.
    private const string Authorizations =
        "DELETE FROM \"OpenIddictAuthorizations\" WHERE \"Id\" IN (SELECT a.\"Id\" FROM \"OpenIddictAuthorizations\" AS a " +
        "WHERE a.\"CreationDate\" < @threshold AND ((a.\"Status\" <> 'valid' OR a.\"Status\" IS NULL) OR a.\"Type\" = 'ad-hoc') " +
        "AND NOT EXISTS (SELECT 1 FROM \"OpenIddictTokens\" AS t WHERE t.\"AuthorizationId\" = a.\"Id\") " +
        "ORDER BY a.\"Id\" LIMIT @batch)";

    private const string Launches = "DELETE FROM \"AuthLaunches\" WHERE \"ExpiresAt\" < @threshold";

    public static Task<long> TokensAsync(AuthDatabase database, DateTime threshold, DateTime now, CancellationToken ct) =>
        InBatchesAsync(database, Tokens, threshold, now, ct);

    public static Task<long> AuthorizationsAsync(AuthDatabase database, DateTime threshold, CancellationToken ct) =>
        InBatchesAsync(database, Authorizations, threshold, null, ct);

    public static async Task<long> LaunchesAsync(AuthDatabase database, DateTime threshold, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = Launches;
        Add(command, "@threshold", threshold);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<long> InBatchesAsync(AuthDatabase database, string sql, DateTime threshold, DateTime? now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        long total = 0;
        for (var round = 0; round < 1000; round++)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            Add(command, "@threshold", threshold);
            if (now is { } n) Add(command, "@now", n);
            Add(command, "@batch", Batch);
            var deleted = await command.ExecuteNonQueryAsync(ct);
            total += deleted;
            if (deleted < Batch) break;
        }
        return total;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        // UTC, as EF Core writes the dates (PostgreSQL's timestamptz refuses other kinds).
        parameter.Value = value is DateTime d ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : value;
        command.Parameters.Add(parameter);
    }
}
