using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Ignis.Server.Auth;

/// <summary>
/// Plain SQL on an EF Core context's own connection and transaction, for the OpenIddict rows a token request reads
/// and writes (<see cref="TokenStore"/>, <see cref="AuthorizationStore"/>). Values are read and written in EF Core's
/// formats on both providers (SQLite keeps dates as text, PostgreSQL as timestamptz; both in UTC).
/// </summary>
internal static class AuthSql
{
    /// <summary>A command on the context's connection (opened for the context, which closes it), in its transaction when one is open.</summary>
    public static async Task<DbCommand> CommandAsync(DbContext db, string sql, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open) await db.Database.OpenConnectionAsync(ct);
        var command = connection.CreateCommand();
        command.CommandText = sql;
        if (db.Database.CurrentTransaction is { } transaction) command.Transaction = transaction.GetDbTransaction();
        return command;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in the context's open transaction, or in one of its own that is committed only when
    /// the work returns true (rolled back when it returns false or throws).
    /// </summary>
    public static async Task<bool> InTransactionAsync(DbContext db, Func<Task<bool>> work, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null) return await work();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await work())
        {
            await transaction.RollbackAsync(ct);
            return false;
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>The first row of <paramref name="sql"/> (one parameter, <paramref name="name"/>), mapped; null when there is none.</summary>
    public static async Task<T?> ReadOneAsync<T>(DbContext db, string sql, string name, string value, Func<DbDataReader, T> map, CancellationToken ct)
        where T : class
    {
        await using var command = await CommandAsync(db, sql, ct);
        Add(command, name, value);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? map(reader) : null;
    }

    /// <summary>A statement that changes rows; the number changed.</summary>
    public static async Task<int> ExecuteAsync(DbContext db, string sql, Action<DbCommand> bind, CancellationToken ct)
    {
        await using var command = await CommandAsync(db, sql, ct);
        bind(command);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    public static string? String(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    /// <summary>UTC, as EF Core hands the dates to OpenIddict.</summary>
    public static DateTime? Date(DbDataReader reader, int i) =>
        reader.IsDBNull(i) ? null : DateTime.SpecifyKind(reader.GetDateTime(i), DateTimeKind.Utc);

    /// <summary>EF Core writes the dates as UTC (PostgreSQL refuses other kinds for timestamptz).</summary>
    public static DateTime? ToStored(DateTime? value) => value is { } v ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : null;

    /// <summary>An entity the context tracks, found without running change detection over everything it tracks.</summary>
    public static T? Tracked<T>(DbContext db, Func<T, bool> match) where T : class
    {
        var tracker = db.ChangeTracker;
        var detect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in tracker.Entries<T>())
                if (match(entry.Entity)) return entry.Entity;
            return null;
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detect;
        }
    }
}
