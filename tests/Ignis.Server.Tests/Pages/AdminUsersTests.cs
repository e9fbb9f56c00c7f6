using System.Net;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using static Ignis.Server.Tests.Pages.PortalTestKit;

namespace Ignis.Server.Tests.Pages;

/// <summary>The admin user pages over HTTP: every change takes effect, and taking access away revokes tokens.</summary>
public sealed class AdminUsersTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private async Task<SmartBrowser> AdminAsync() => await SignedInAsync(Server, "admin", "admin-demo-pass");

    private static string UserIdFrom(BrowserPage page) => page.Url.AbsolutePath["/admin/users/".Length..];

    [Fact]
    public async Task An_administrator_creates_a_clinician_linked_to_a_practitioner_who_can_then_sign_in_and_launch()
    {
        using var admin = await AdminAsync();
        var name = "nurse-" + Guid.NewGuid().ToString("N")[..6];
        var page = await admin.GetAsync("/admin/users");
        page = await admin.SubmitAsync(page, "username", new Dictionary<string, string?>
        {
            ["username"] = name, ["password"] = "first-pass-123", ["roles"] = IgnisRoles.Clinician, ["fhirUser"] = "Practitioner/carol",
        });
        page.Url.AbsolutePath.ShouldStartWith("/admin/users/");
        page.Html.ShouldContain("The user is created.");
        page.Html.ShouldContain("value=\"Practitioner/carol\"");

        var list = await admin.GetAsync($"/admin/users?q={name}");
        list.Html.ShouldContain(name);
        list.Html.ShouldContain("clinician");

        using var nurse = await SignedInAsync(Server, name, "first-pass-123");
        (await nurse.GetAsync("/launcher")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("Patient/nobody-here", "There is no Patient/nobody-here on this server.")]
    [InlineData("Observation/1", "The FHIR record must look like Patient/123")]
    [InlineData("javascript:alert(1)", "The FHIR record must look like Patient/123")]
    public async Task A_fhir_record_that_does_not_exist_or_is_not_a_person_is_refused(string fhirUser, string message)
    {
        using var admin = await AdminAsync();
        var page = await admin.SubmitAsync(await admin.GetAsync("/admin/users"), "username", new Dictionary<string, string?>
        {
            ["username"] = "x-" + Guid.NewGuid().ToString("N")[..6], ["password"] = "first-pass-123", ["fhirUser"] = fhirUser,
        });
        page.Url.AbsolutePath.ShouldBe("/admin/users");
        page.Html.ShouldContain(System.Net.WebUtility.HtmlEncode(message));
    }

    [Fact]
    public async Task A_duplicate_user_name_and_a_short_password_are_refused_with_the_reasons()
    {
        using var admin = await AdminAsync();
        var page = await admin.SubmitAsync(await admin.GetAsync("/admin/users"), "username",
            new Dictionary<string, string?> { ["username"] = "alice", ["password"] = "short" });
        page.Html.ShouldContain("id=\"create-errors\"");
        page.Html.ShouldContain("at least 8 characters");
    }

    [Fact]
    public async Task Locking_a_user_revokes_their_tokens_and_sessions_and_refuses_sign_in_until_unlocked()
    {
        var (name, password) = await CreateUserAsync(Server, "lock", IgnisRoles.Patient, "Patient/dave");
        using var user = await SignedInAsync(Server, name, password);
        var token = await AppTokenAsync(Server, user, name, password, "openid patient/*.rs offline_access");
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var admin = await AdminAsync();
        var list = await admin.GetAsync($"/admin/users?q={name}");
        var link = System.Text.RegularExpressions.Regex.Match(list.Html, "href=\"(/admin/users/[^\"]+)\"").Groups[1].Value;
        var page = await admin.GetAsync(link);
        page = await AccountPagesTests.SubmitHandlerAsync(admin, page, "Lock");
        page.Html.ShouldContain("The account is locked");
        page.Html.ShouldContain("badge off");

        await Task.Delay(1100);
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await user.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");
        using var again = new SmartBrowser(Server);
        (await again.LoginAsync(await again.GetAsync("/account/login"), name, password)).Html.ShouldContain("This account is locked");

        page = await AccountPagesTests.SubmitHandlerAsync(admin, page, "Unlock");
        page.Html.ShouldContain("The account is unlocked.");
        (await again.LoginAsync(await again.GetAsync("/account/login"), name, password)).Url.AbsolutePath.ShouldBe("/account");
    }

    [Fact]
    public async Task Roles_and_the_fhir_record_are_saved_and_an_administrator_cannot_remove_their_own_admin_role()
    {
        var (name, _) = await CreateUserAsync(Server, "role", IgnisRoles.Patient);
        using var admin = await AdminAsync();
        var list = await admin.GetAsync($"/admin/users?q={name}");
        var page = await admin.GetAsync(System.Text.RegularExpressions.Regex.Match(list.Html, "href=\"(/admin/users/[^\"]+)\"").Groups[1].Value);
        page = await admin.SubmitAsync(page, "fhirUser", new Dictionary<string, string?> { ["roles"] = IgnisRoles.Developer, ["fhirUser"] = "Patient/alice" },
            uncheck: [IgnisRoles.Patient]);
        page.Html.ShouldContain("Saved.");
        page.Html.ShouldContain("value=\"developer\" checked");
        page.Html.ShouldNotContain("value=\"patient\" checked");
        page.Html.ShouldContain("value=\"Patient/alice\"");

        var adminList = await admin.GetAsync("/admin/users?q=admin");
        var self = await admin.GetAsync(System.Text.RegularExpressions.Regex.Match(adminList.Html, "href=\"(/admin/users/[^\"]+)\">admin<").Groups[1].Value);
        var refused = await admin.SubmitAsync(self, "fhirUser", new Dictionary<string, string?> { ["fhirUser"] = "" }, uncheck: [IgnisRoles.Admin]);
        refused.Html.ShouldContain("You cannot take the admin role from yourself.");
        self.Html.ShouldNotContain("Delete user");
        self.Html.ShouldNotContain("Lock account");
    }

    [Fact]
    public async Task Resetting_a_password_ends_the_users_sessions_and_the_new_password_works()
    {
        var (name, password) = await CreateUserAsync(Server, "reset", IgnisRoles.Patient);
        using var user = await SignedInAsync(Server, name, password);
        using var admin = await AdminAsync();
        var list = await admin.GetAsync($"/admin/users?q={name}");
        var page = await admin.GetAsync(System.Text.RegularExpressions.Regex.Match(list.Html, "href=\"(/admin/users/[^\"]+)\"").Groups[1].Value);
        var shortOne = await admin.SubmitAsync(page, "password", new Dictionary<string, string?> { ["password"] = "short" });
        shortOne.Html.ShouldContain("at least 8 characters");
        page = await admin.SubmitAsync(page, "password", new Dictionary<string, string?> { ["password"] = "reset-by-admin-1" });
        page.Html.ShouldContain("The password is set");

        (await user.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");
        using var again = new SmartBrowser(Server);
        (await again.LoginAsync(await again.GetAsync("/account/login"), name, "reset-by-admin-1")).Url.AbsolutePath.ShouldBe("/account");
    }

    [Fact]
    public async Task Deleting_a_user_needs_confirmation_and_revokes_every_token()
    {
        var (name, password) = await CreateUserAsync(Server, "del", IgnisRoles.Patient, "Patient/dave");
        using var user = await SignedInAsync(Server, name, password);
        var token = await AppTokenAsync(Server, user, name, password, "openid patient/*.rs");
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var admin = await AdminAsync();
        var list = await admin.GetAsync($"/admin/users?q={name}");
        var page = await admin.GetAsync(System.Text.RegularExpressions.Regex.Match(list.Html, "href=\"(/admin/users/[^\"]+)\"").Groups[1].Value);
        var unconfirmed = await AccountPagesTests.SubmitHandlerAsync(admin, page, "Delete");
        unconfirmed.Html.ShouldContain("Tick the box to confirm the deletion.");
        var deleted = await admin.SubmitAsync(page, "confirm", new Dictionary<string, string?> { ["confirm"] = "yes" });
        deleted.Url.AbsolutePath.ShouldBe("/admin/users");
        deleted.Html.ShouldContain("The user is deleted");
        (await admin.GetAsync($"/admin/users?q={name}")).Html.ShouldNotContain(name + "<");

        await Task.Delay(1100);
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await admin.GetAsync(page.Url.AbsolutePath)).Status.ShouldBe(HttpStatusCode.NotFound);
    }
}
