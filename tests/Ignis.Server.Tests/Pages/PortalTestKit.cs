using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Pages;

/// <summary>Users, sign-ins and tokens for the page tests, each test with users of its own.</summary>
public static class PortalTestKit
{
    /// <summary>Creates a user with a fresh name (prefix + random) and returns the name and password.</summary>
    public static async Task<(string Name, string Password)> CreateUserAsync(IgnisServer server, string prefix, string? role, string? fhirUser = null)
    {
        using var scope = server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
        var password = $"{name}-pass";
        var user = new IgnisUser { UserName = name, FhirUser = fhirUser };
        (await users.CreateAsync(user, password)).Succeeded.ShouldBeTrue();
        if (role is not null) (await users.AddToRoleAsync(user, role)).Succeeded.ShouldBeTrue();
        return (name, password);
    }

    public static async Task<SmartBrowser> SignedInAsync(IgnisServer server, string name, string password)
    {
        var browser = new SmartBrowser(server);
        await AuthorizeRequestTests.SignInAsync(browser, name, password);
        return browser;
    }

    /// <summary>A token of demo-app for the user signed in to <paramref name="browser"/>.</summary>
    public static async Task<string> AppTokenAsync(IgnisServer server, SmartBrowser browser, string name, string password, string scope)
    {
        var app = new SmartApp(server);
        var code = await app.AuthorizeAsync(browser, name, password, scope);
        var response = await app.ExchangeAsync(code);
        var body = await response.BodyAsync();
        return body["access_token"].Str();
    }

    public static async Task<string> AdminTokenAsync(IgnisServer server)
    {
        using var browser = new SmartBrowser(server);
        return await AppTokenAsync(server, browser, "admin", "admin-demo-pass", "openid user/*.rs");
    }

    public static async Task<HttpResponseMessage> FhirGetAsync(IgnisServer server, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await server.Client.SendAsync(request);
    }

    /// <summary>
    /// Polls /fhir/AuditEvent (as an administrator) until an event matching the search and <paramref name="match"/>
    /// has been written by the background writer.
    /// </summary>
    public static async Task<JsonNode> WaitForAuditEventAsync(IgnisServer server, string adminToken, string search, Func<JsonNode, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var response = await FhirGetAsync(server, "AuditEvent?_sort=-date&_count=100&" + search, adminToken);
            var bundle = await response.BodyAsync();
            ((int)response.StatusCode).ShouldBe(200, bundle.ToJsonString());
            var found = bundle["entry"]?.AsArray().Select(e => e!["resource"]!).FirstOrDefault(match);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No AuditEvent matching {search}: {bundle.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    public static string? AgentName(JsonNode audit, string roleCode) =>
        audit["agent"]?.AsArray().FirstOrDefault(a => a!["type"]?["coding"]?[0]?["code"]?.GetValue<string>() == roleCode)?["name"]?.GetValue<string>();
}
