using System.Text.Json.Nodes;
using Ignis.Server.Tests.Clients;
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
        var folder = NodeScripts.Folder();
        await NodeScripts.EnsureInstalledAsync(folder, "scimmy", "scim2-parse-filter", "scim-patch");
        using var node = NodeScripts.Start("node", folder, null, "scim-client.mjs", Server.Origin.ToString(), "demo-backend", "demo-backend-secret");
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
}
