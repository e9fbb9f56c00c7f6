using System.Text.RegularExpressions;

namespace Ignis.Server.Data;

/// <summary>
/// The auth tables' schema on SQLite without EF Core at start-up. Asking EF Core which migrations are pending, or
/// running them, builds its migrations services and the model, ~10-13 MiB of an idle server's RSS (images, loader
/// heaps, the model) that the server never needs again when its database is up to date (docs/benchmarks.md, issue 2,
/// session 7). So the applied migrations are read with plain SQL, and a new database gets EF Core's own script for
/// all the migrations (<c>AuthSchema.sqlite.sql</c>, what <c>IMigrator.GenerateScript()</c> makes: the same statements
/// and history rows <c>Migrate</c> would write; <c>AuthSchemaTests</c> fails when the migrations change and the script
/// does not). A database with some of the migrations, an upgrade, still goes through EF Core's migrator.
/// </summary>
public static partial class AuthSchema
{
    private const string ResourceName = "Ignis.Server.AuthSchema.sqlite.sql";

    /// <summary>EF Core's script for every migration, from an empty database.</summary>
    public static string SqliteScript => Script.Value;

    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(AuthSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The embedded resource " + ResourceName + " is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The migrations the script applies, in order: the ids of its history rows.</summary>
    public static IReadOnlyList<string> SqliteMigrations { get; } =
        [.. HistoryRow().Matches(SqliteScript).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("""INSERT INTO "__EFMigrationsHistory" \("MigrationId", "ProductVersion"\)\s+VALUES \('([^']+)'""")]
    private static partial Regex HistoryRow();

    /// <summary>The ids of the migrations applied to the SQLite database (none when it has no history table).</summary>
    public static async Task<HashSet<string>> AppliedAsync(AuthDatabase database, CancellationToken ct = default)
    {
        var applied = new HashSet<string>(StringComparer.Ordinal);
        if (!await database.HasMigrationHistoryAsync(ct)) return applied;
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"";
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) applied.Add(reader.GetString(0));
        return applied;
    }

    /// <summary>Runs the script on a SQLite database without any of the migrations (each migration is its own transaction).</summary>
    public static async Task CreateAsync(AuthDatabase database, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = SqliteScript;
        await command.ExecuteNonQueryAsync(ct);
    }
}
