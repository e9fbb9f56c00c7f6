using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Auth;

/// <summary>A consent is remembered: the same scopes again skip the consent page, unless prompt=consent or the grant was revoked.</summary>
public sealed class RememberedConsentTests : IAsyncLifetime
{
    private const string Scope = "openid launch/patient patient/*.rs";
    private IgnisServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await IgnisServer.StartAsync("--demo");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static Dictionary<string, string?> Prompt(string? prompt) => new() { ["prompt"] = prompt };

    /// <summary>Signs dave in and consents once to <see cref="Scope"/>.</summary>
    private async Task<SmartBrowser> ConsentedBrowserAsync()
    {
        var browser = new SmartBrowser(_server);
        await AuthorizeRequestTests.SignInAsync(browser, "dave", "dave-demo-pass");
        var app = new SmartApp(_server);
        var code = await app.AuthorizeAsync(browser, "dave", "dave-demo-pass", Scope, Prompt(null));
        (await app.ExchangeAsync(code)).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        return browser;
    }

    [Fact]
    public async Task The_same_scopes_again_skip_the_consent_page_and_get_the_same_grant()
    {
        using var browser = await ConsentedBrowserAsync();
        var app = new SmartApp(_server);
        var page = await browser.GetAsync(app.AuthorizeUrl(Scope, Prompt(null)));
        page.ExternalRedirect.ShouldNotBeNull();
        page.RedirectQuery["state"].ShouldBe(app.State);
        var body = await (await app.ExchangeAsync(page.RedirectQuery["code"])).BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(Scope.Split(' '), ignoreOrder: true);
        body["patient"].Str().ShouldBe("dave");

        // Fewer scopes are covered too; prompt=none works without the page.
        var fewer = await browser.GetAsync(new SmartApp(_server).AuthorizeUrl("openid launch/patient", Prompt("none")));
        fewer.RedirectQuery.ShouldContainKey("code");
    }

    [Fact]
    public async Task Prompt_consent_or_a_wider_request_shows_the_consent_page_again()
    {
        using var browser = await ConsentedBrowserAsync();
        var forced = await browser.GetAsync(new SmartApp(_server).AuthorizeUrl(Scope, Prompt("consent")));
        forced.Url.AbsolutePath.ShouldBe("/authorize/consent");
        var wider = await browser.GetAsync(new SmartApp(_server).AuthorizeUrl(Scope + " offline_access", Prompt(null)));
        wider.Url.AbsolutePath.ShouldBe("/authorize/consent");
        var silent = await browser.GetAsync(new SmartApp(_server).AuthorizeUrl(Scope + " offline_access", Prompt("none")));
        silent.RedirectQuery["error"].ShouldBe("consent_required");
    }

    [Fact]
    public async Task Revoking_the_app_forgets_the_consent()
    {
        using var browser = await ConsentedBrowserAsync();
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var dave = await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync("dave");
            await scope.ServiceProvider.GetRequiredService<GrantRevocation>().RevokeAppAsync(dave!.Id, "demo-app");
        }
        var page = await browser.GetAsync(new SmartApp(_server).AuthorizeUrl(Scope, Prompt(null)));
        page.Url.AbsolutePath.ShouldBe("/authorize/consent");
    }

    [Fact]
    public async Task A_consent_is_not_remembered_for_another_user()
    {
        using var dave = await ConsentedBrowserAsync();
        using var alice = new SmartBrowser(_server);
        await AuthorizeRequestTests.SignInAsync(alice, "alice", "alice-demo-pass");
        var page = await alice.GetAsync(new SmartApp(_server).AuthorizeUrl(Scope, Prompt(null)));
        page.Url.AbsolutePath.ShouldBe("/authorize/consent");
    }
}
