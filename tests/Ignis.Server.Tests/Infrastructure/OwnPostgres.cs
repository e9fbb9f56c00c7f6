using System.Diagnostics;

namespace Ignis.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (scripts/postgres.sh in a temp directory), for tests that stop and start
/// it: the shared server (<see cref="TestPostgres"/>) stays untouched. Needs PostgreSQL installed, which
/// <see cref="TestPostgres.RequirePostgresPass"/> stands for (scripts/test.sh installs it).
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    private readonly string _directory;

    private OwnPostgres(string directory, string connectionString)
    {
        _directory = directory;
        AdminConnectionString = connectionString;
    }

    public string AdminConnectionString { get; }

    /// <summary>A database on this server, with the pool settings every node gets.</summary>
    public string Database(string name) => new Npgsql.NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;

    public static async Task<OwnPostgres> StartAsync()
    {
        TestPostgres.RequirePostgresPass();
        var directory = Path.Combine(Path.GetTempPath(), "ignis-ownpg-" + Guid.NewGuid().ToString("N")[..12]);
        // Away from the shared test server (54329) and from benchmark databases below it.
        var port = 55000 + Random.Shared.Next(0, 4000);
        var output = await ScriptAsync("start", directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new OwnPostgres(directory, output.Trim().Split('\n')[^1]);
    }

    /// <summary>pg_ctl stop -m fast: the server ends its sessions (their transactions roll back) and stops.</summary>
    public Task StopAsync() => ScriptAsync("down", _directory);

    /// <summary>Starts the stopped server again on the same port.</summary>
    public Task StartAgainAsync() => ScriptAsync("up", _directory);

    private static async Task<string> ScriptAsync(params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script());
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(patience.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/postgres.sh {string.Join(' ', args)}: {await stderr}");
        return await stdout;
    }

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "postgres.sh");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("scripts/postgres.sh was not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        try { await ScriptAsync("stop", _directory); } catch (InvalidOperationException) { }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
