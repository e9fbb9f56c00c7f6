using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>
/// Third-party SCIM libraries from npm run a provisioning cycle against the server: tests/clients/scim-client.mjs
/// builds and validates messages and resources with scimmy (including the Ignis extension read from /Schemas),
/// checks every filter against scim2-parse-filter and every PATCH against scim-patch, then deprovisions.
/// </summary>
public sealed class ScimThirdPartyClientTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Scimmy_scim2_parse_filter_and_scim_patch_agree_with_the_server_over_a_provisioning_cycle()
    {
        var folder = ClientsFolder();
        await EnsureInstalledAsync(folder);
        using var node = Start("node", folder, "scim-client.mjs", Server.Origin.ToString(), "demo-backend", "demo-backend-secret");
        node.StandardInput.Close();
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2))) await node.WaitForExitAsync(timeout.Token);
        var output = (await stdout).Trim();
        var result = output.Length > 0 ? JsonNode.Parse(output.Split('\n')[^1]) : null;
        result.ShouldNotBeNull($"node printed nothing; stderr:\n{await stderr}");
        result["failures"]!.AsArray().ShouldBeEmpty(output);
        result["checks"]!.GetValue<int>().ShouldBeGreaterThan(60);
        node.ExitCode.ShouldBe(0, await stderr);
    }

    private static string ClientsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ignis.sln")))
                return Path.Combine(dir.FullName, "tests", "clients");
        throw new InvalidOperationException($"No Ignis.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>npm ci from the committed package-lock.json when the SCIM libraries are missing (scripts/test.sh does it too).</summary>
    private static async Task EnsureInstalledAsync(string folder)
    {
        if (new[] { "scimmy", "scim2-parse-filter", "scim-patch" }.All(p => Directory.Exists(Path.Combine(folder, "node_modules", p)))) return;
        using var npm = Start("npm", folder, "ci", "--no-audit", "--no-fund", "--loglevel=error");
        npm.StandardInput.Close();
        var output = npm.StandardOutput.ReadToEndAsync();
        var errors = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await npm.WaitForExitAsync(timeout.Token);
        if (npm.ExitCode != 0)
            throw new InvalidOperationException($"npm ci in {folder} failed ({npm.ExitCode}); run scripts/test.sh:\n{await output}\n{await errors}");
    }

    private static Process Start(string program, string folder, params string[] args)
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
