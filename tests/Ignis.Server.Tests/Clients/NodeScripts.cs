using System.Diagnostics;
using System.Text;

namespace Ignis.Server.Tests.Clients;

/// <summary>Runs the Node scripts in tests/clients (third-party client libraries from npm).</summary>
public static class NodeScripts
{
    /// <summary>tests/clients, found from the test binary's folder up to the repository root.</summary>
    public static string Folder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ignis.sln")))
                return Path.Combine(dir.FullName, "tests", "clients");
        throw new InvalidOperationException($"No Ignis.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>npm ci from the committed package-lock.json when a package the test needs is missing (scripts/test.sh does it too).</summary>
    public static async Task EnsureInstalledAsync(string folder, params string[] packages)
    {
        if ((packages.Length == 0 ? ["openid-client"] : packages).All(p => Directory.Exists(Path.Combine(folder, "node_modules", p)))) return;
        using var npm = Start("npm", folder, null, "ci", "--no-audit", "--no-fund", "--loglevel=error");
        npm.StandardInput.Close();
        var output = npm.StandardOutput.ReadToEndAsync();
        var errors = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await npm.WaitForExitAsync(timeout.Token);
        if (npm.ExitCode != 0)
            throw new InvalidOperationException($"npm ci in {folder} failed ({npm.ExitCode}); run scripts/test.sh:\n{await output}\n{await errors}");
    }

    public static Process Start(string program, string folder, IDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is not installed ({e.Message}): this test needs Node.js and npm; run scripts/test.sh.", e);
        }
    }
}
