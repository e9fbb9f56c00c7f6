using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

public sealed class LoginTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task A_wrong_password_says_so_and_does_not_sign_in()
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync("/account/login");
        page = await browser.LoginAsync(page, "alice", "wrong-password");
        page.Html.ShouldContain("Wrong user name or password.");
        page.Url.AbsolutePath.ShouldBe("/account/login");
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_for_the_right_one()
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync("/account/login");
        for (var i = 0; i < 5; i++) page = await browser.LoginAsync(page, "bob", "wrong-password");
        page = await browser.LoginAsync(page, "bob", "bob-demo-pass");
        page.Html.ShouldContain("locked");
    }

    [Fact]
    public async Task The_login_form_is_protected_against_cross_site_posts()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        var response = await http.PostAsync("/account/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "alice", ["password"] = "alice-demo-pass" }));
        ((int)response.StatusCode).ShouldBe(400);
    }
}
