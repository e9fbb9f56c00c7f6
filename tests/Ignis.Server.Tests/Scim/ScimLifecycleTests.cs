using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Scim;

/// <summary>
/// SCIM writes the accounts people sign in with: passwords follow the policy and are hashed, never returned; a
/// deactivated or deleted user cannot sign in and their tokens stop working at /fhir within a second.
/// </summary>
public sealed class ScimLifecycleTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;
    private const string Password = "correct-horse-battery";
    private const string PatientScopes = "openid fhirUser launch/patient patient/*.rs offline_access";

    private async Task<(ScimClient Scim, string Id, string UserName)> ProvisionPatientAsync()
    {
        var scim = await ScimClient.ForBackendAsync(Server);
        var userName = "p" + Guid.NewGuid().ToString("N")[..10];
        var user = await scim.CreateUserAsync($$"""
            {
              "schemas":["{{ScimClient.UserUrn}}","{{ScimClient.IgnisUrn}}"],
              "userName":"{{userName}}",
              "password":"{{Password}}",
              "emails":[{"value":"{{userName}}@example.com","type":"work","primary":true}],
              "{{ScimClient.IgnisUrn}}":{"fhirUser":"{{Server.FhirBase}}/Patient/alice","roles":["patient"]}
            }
            """);
        return (scim, user["id"]!.GetValue<string>(), userName);
    }

    private async Task<HttpStatusCode> ReadAliceAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/alice");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await Server.Client.SendAsync(request)).StatusCode;
    }

    /// <summary>The FHIR API reuses a validated token for up to a second; after that revocation must show.</summary>
    private async Task TokenDiesWithinASecondAsync(string token)
    {
        await Task.Delay(ValidatedTokenCache.Lifetime + TimeSpan.FromMilliseconds(100));
        (await ReadAliceAsync(token)).ShouldBe(HttpStatusCode.Unauthorized);
    }

    private async Task<string> LoginPageResultAsync(string userName, string password)
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync("/account/login");
        page = await browser.LoginAsync(page, userName, password);
        return page.Url.AbsolutePath == "/account/login" ? page.Html : "signed in";
    }

    [Fact]
    public async Task A_provisioned_user_signs_in_with_the_password_which_is_stored_hashed_and_never_returned()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        (await LoginPageResultAsync(userName, Password)).ShouldBe("signed in");
        var token = await ScimClient.UserTokenAsync(Server, userName, Password, PatientScopes);
        SmartApp.JwtPart(token, 1)["patient"]!.GetValue<string>().ShouldBe("alice");
        (await ReadAliceAsync(token)).ShouldBe(HttpStatusCode.OK);

        using (var scope = Server.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
            var user = (await users.FindByIdAsync(id))!;
            user.PasswordHash.ShouldNotBeNullOrEmpty();
            user.PasswordHash.ShouldNotContain(Password);
            users.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash!, Password).ShouldNotBe(PasswordVerificationResult.Failed);
            user.FhirUser.ShouldBe("Patient/alice");
            user.Email.ShouldBe($"{userName}@example.com");
        }
        var text = await (await scim.GetAsync($"Users/{id}?attributes=password,userName")).Content.ReadAsStringAsync();
        text.ShouldNotContain("password");
        text.ShouldNotContain(Password);
        var full = await (await scim.GetAsync($"Users/{id}")).ShouldBeScimAsync(200);
        full.ToJsonString().ShouldNotContain(Password);
        full[ScimClient.IgnisUrn]!["fhirUser"]!.GetValue<string>().ShouldBe("Patient/alice");
        full[ScimClient.IgnisUrn]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["patient"]);
        full["groups"]!.AsArray().Single()!["display"]!.GetValue<string>().ShouldBe("patient");
    }

    [Fact]
    public async Task A_password_changed_through_scim_replaces_the_old_one_and_must_follow_the_policy()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"replace","path":"password","value":"short"}""")))
            .ShouldBeScimErrorAsync(400, "invalidValue");
        var changed = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"replace","path":"password","value":"a-new-long-password"}""")))
            .ShouldBeScimAsync(200);
        changed["password"].ShouldBeNull();
        (await LoginPageResultAsync(userName, Password)).ShouldContain("Wrong user name or password.");
        (await LoginPageResultAsync(userName, "a-new-long-password")).ShouldBe("signed in");
    }

    [Fact]
    public async Task Deactivating_a_user_stops_sign_in_refresh_and_their_tokens_then_reactivating_restores_sign_in()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var tokens = await (await app.ExchangeAsync(await app.AuthorizeAsync(browser, userName, Password, PatientScopes))).BodyAsync();
        var access = tokens["access_token"]!.GetValue<string>();
        (await ReadAliceAsync(access)).ShouldBe(HttpStatusCode.OK);

        // Microsoft Entra ID sends the boolean as a string.
        var disabled = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"Replace","path":"active","value":"False"}""")))
            .ShouldBeScimAsync(200);
        disabled["active"]!.GetValue<bool>().ShouldBeFalse();

        await TokenDiesWithinASecondAsync(access);
        (await (await app.RefreshAsync(tokens["refresh_token"]!.GetValue<string>())).BodyAsync())["error"]!.GetValue<string>().ShouldBe("invalid_grant");
        (await LoginPageResultAsync(userName, Password)).ShouldContain("not allowed to sign in");
        // The browser session she had is over too.
        var again = await browser.GetAsync(app.AuthorizeUrl(PatientScopes));
        again.Html.ShouldContain("name=\"username\"");

        await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"replace","value":{"active":true}}"""))).ShouldBeScimAsync(200);
        (await LoginPageResultAsync(userName, Password)).ShouldBe("signed in");
    }

    [Fact]
    public async Task Deleting_a_user_ends_sign_in_and_their_tokens()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        var access = await ScimClient.UserTokenAsync(Server, userName, Password, PatientScopes);
        (await ReadAliceAsync(access)).ShouldBe(HttpStatusCode.OK);

        ((int)(await scim.DeleteAsync($"Users/{id}")).StatusCode).ShouldBe(204);

        await TokenDiesWithinASecondAsync(access);
        (await LoginPageResultAsync(userName, Password)).ShouldContain("Wrong user name or password.");
        (await SmartApp.IntrospectAsync(Server, access))["active"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Taking_a_role_away_through_the_group_ends_the_users_tokens()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        var access = await ScimClient.UserTokenAsync(Server, userName, Password, PatientScopes);
        (await ReadAliceAsync(access)).ShouldBe(HttpStatusCode.OK);
        var group = await ScimRfcExampleTests.GroupAsync(scim, "patient");
        await (await scim.PatchAsync($"Groups/{group["id"]}", ScimClient.Patch($$"""{"op":"remove","path":"members[value eq \"{{id}}\"]"}""")))
            .ShouldBeScimAsync(200);
        await TokenDiesWithinASecondAsync(access);
        var user = await (await scim.GetAsync($"Users/{id}")).ShouldBeScimAsync(200);
        user[ScimClient.IgnisUrn]!["roles"].ShouldBeNull();
        user["groups"].ShouldBeNull();
    }

    [Fact]
    public async Task Roles_set_on_the_user_show_as_group_members_and_back()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var userName = "r" + Guid.NewGuid().ToString("N")[..10];
        var user = await scim.CreateUserAsync($$"""
            {"schemas":["{{ScimClient.UserUrn}}","{{ScimClient.IgnisUrn}}"],"userName":"{{userName}}",
             "{{ScimClient.IgnisUrn}}":{"roles":["Clinician","developer"],"fhirUser":"Practitioner/carol"} }
            """);
        var id = user["id"]!.GetValue<string>();
        user[ScimClient.IgnisUrn]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["clinician", "developer"]);
        ScimRfcExampleTests.Members(await ScimRfcExampleTests.GroupAsync(scim, "clinician")).ShouldContain(id);
        ScimRfcExampleTests.Members(await ScimRfcExampleTests.GroupAsync(scim, "developer")).ShouldContain(id);

        await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(
            $$"""{"op":"remove","path":"{{ScimClient.IgnisUrn}}:roles[value eq \"developer\"]"}"""))).ShouldBeScimErrorAsync(400, "invalidPath");
        var removed = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch(
            $$"""{"op":"remove","path":"{{ScimClient.IgnisUrn}}:roles","value":["developer"]}"""))).ShouldBeScimAsync(200);
        removed[ScimClient.IgnisUrn]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["clinician"]);
        ScimRfcExampleTests.Members(await ScimRfcExampleTests.GroupAsync(scim, "developer")).ShouldNotContain(id);
    }

    [Fact]
    public async Task A_put_without_the_ignis_extension_keeps_roles_fhirUser_and_active_state()
    {
        var (scim, id, userName) = await ProvisionPatientAsync();
        using var _ = scim;
        await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"replace","path":"active","value":false}"""))).ShouldBeScimAsync(200);
        var put = await (await scim.PutAsync($"Users/{id}", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"{{userName}}","displayName":"Pat"}"""))
            .ShouldBeScimAsync(200);
        put["displayName"]!.GetValue<string>().ShouldBe("Pat");
        put["active"]!.GetValue<bool>().ShouldBeFalse();
        put[ScimClient.IgnisUrn]!["fhirUser"]!.GetValue<string>().ShouldBe("Patient/alice");
        put[ScimClient.IgnisUrn]!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["patient"]);
        put["emails"].ShouldBeNull("a PUT replaces the attributes it covers");
    }

    [Fact]
    public async Task Changes_made_outside_scim_give_the_user_and_group_a_new_version()
    {
        var (scim, id, _) = await ProvisionPatientAsync();
        using var _ = scim;
        var before = (await scim.GetAsync($"Users/{id}")).Headers.ETag!.ToString();
        var group = await ScimRfcExampleTests.GroupAsync(scim, "developer");
        var groupBefore = group["meta"]!["version"]!.GetValue<string>();
        using (var scope = Server.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
            (await users.AddToRoleAsync((await users.FindByIdAsync(id))!, IgnisRoles.Developer)).Succeeded.ShouldBeTrue();
        }
        var after = await scim.GetAsync($"Users/{id}");
        after.Headers.ETag!.ToString().ShouldNotBe(before);
        (await after.ShouldBeScimAsync(200))[ScimClient.IgnisUrn]!["roles"]!.AsArray().Select(r => r!.GetValue<string>())
            .ShouldBe(["developer", "patient"]);
        (await ScimRfcExampleTests.GroupAsync(scim, "developer"))["meta"]!["version"]!.GetValue<string>().ShouldNotBe(groupBefore);

        // A failed sign-in changes nothing SCIM shows: same version.
        var current = (await scim.GetAsync($"Users/{id}")).Headers.ETag!.ToString();
        using (var scope = Server.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
            await users.AccessFailedAsync((await users.FindByIdAsync(id))!);
        }
        (await scim.GetAsync($"Users/{id}")).Headers.ETag!.ToString().ShouldBe(current);
    }
}
