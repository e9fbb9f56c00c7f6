using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Clients;

/// <summary>
/// A third-party client library, openid-client from npm, completes a SMART standalone launch and reads data:
/// tests/clients/smart-launch.mjs does discovery, PKCE S256, the state check, the code exchange and ID token
/// validation with it; this test signs alice in and consents for it, as her browser would.
/// </summary>
public sealed class OpenIdClientLaunchTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Openid_client_discovers_the_server_completes_a_pkce_launch_as_alice_and_reads_her_patient_record()
    {
        const string scope = "openid fhirUser launch/patient patient/*.rs offline_access";
        var folder = NodeScripts.Folder();
        await NodeScripts.EnsureInstalledAsync(folder);

        var redirectUri = "http://127.0.0.1:51235/callback";
        using var node = NodeScripts.Start("node", folder, null, "smart-launch.mjs", Server.Origin.ToString(), "demo-app", redirectUri, scope);
        try
        {
            await LaunchAsync(node, redirectUri, scope);
        }
        finally
        {
            if (!node.HasExited) node.Kill();
        }
    }

    private async Task LaunchAsync(Process node, string redirectUri, string scope)
    {
        var stderr = node.StandardError.ReadToEndAsync();

        var first = await ReadJsonLineAsync(node, stderr);
        var authorizeUrl = new Uri(first["authorize_url"].Str());
        authorizeUrl.GetLeftPart(UriPartial.Path).ShouldBe(new Uri(Server.Origin, "/oauth/authorize").ToString());

        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync(authorizeUrl.ToString());
        page = await browser.LoginAsync(page, "alice", "alice-demo-pass");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        var callback = page.ExternalRedirect ?? throw new InvalidOperationException($"No redirect to the app; page {page.Url}:\n{page.Html}");
        callback.GetLeftPart(UriPartial.Path).ShouldBe(redirectUri);
        await node.StandardInput.WriteLineAsync(callback.ToString());
        node.StandardInput.Close();

        var result = await ReadJsonLineAsync(node, stderr);
        using (var exit = new CancellationTokenSource(Patience)) await node.WaitForExitAsync(exit.Token);
        node.ExitCode.ShouldBe(0, result.ToJsonString());

        var token = result["token"]!;
        token["token_type"].Str().ShouldBe("bearer", StringCompareShould.IgnoreCase);
        token["scope"].Str().Split(' ').ShouldBe(scope.Split(' '), ignoreOrder: true);
        token["patient"].Str().ShouldBe("alice");
        token["has_refresh_token"]!.GetValue<bool>().ShouldBeTrue();
        token["id_token_fhirUser"].Str().ShouldBe(Server.FhirBase + "/Patient/alice");
        result["patient"]!["status"]!.GetValue<int>().ShouldBe(200, result.ToJsonString());
        result["patient"]!["body"]!["resourceType"].Str().ShouldBe("Patient");
        result["patient"]!["body"]!["id"].Str().ShouldBe("alice");
    }

    private static async Task<JsonNode> ReadJsonLineAsync(Process node, Task<string> stderr)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var line = await node.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            await node.WaitForExitAsync(timeout.Token);
            throw new InvalidOperationException($"node exited with {node.ExitCode} before answering:\n{await stderr}");
        }
        var json = JsonNode.Parse(line) ?? throw new InvalidOperationException("node printed null");
        if (json["error"] is not null) throw new InvalidOperationException($"smart-launch.mjs failed: {line}");
        return json;
    }
}
