using System.Net;
using System.Text.Json;
using Ignis.Server.Auth;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Scim;

/// <summary>
/// Who may use /scim/v2: a token with the scim scope and the SCIM audience, from a client registered (approved)
/// for scim or an active administrator. Everything else is 401/403 in SCIM error form.
/// </summary>
public sealed class ScimAccessTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Discovery_is_open_but_users_need_a_token()
    {
        using var anonymous = new ScimClient(Server, token: null);
        await (await anonymous.GetAsync("ServiceProviderConfig")).ShouldBeScimAsync(200);
        await (await anonymous.GetAsync("Schemas")).ShouldBeScimAsync(200);
        var response = await anonymous.GetAsync("Users");
        await response.ShouldBeScimErrorAsync(401);
        response.Headers.WwwAuthenticate.ToString().ShouldBe($"Bearer realm=\"{anonymous.BaseUrl}\"");
        await (await anonymous.PostAsync("Users", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"intruder"}""")).ShouldBeScimErrorAsync(401);
    }

    [Theory]
    [InlineData("Bearer not-a-token")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    [InlineData("Basic ZGVtby1iYWNrZW5kOmRlbW8tYmFja2VuZC1zZWNyZXQ=")]
    public async Task A_token_that_is_not_ours_is_401(string authorization)
    {
        using var scim = new ScimClient(Server, token: null);
        var response = await scim.GetAsync("Users", ("Authorization", authorization));
        await response.ShouldBeScimErrorAsync(401);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=");
    }

    [Fact]
    public async Task Tokens_granted_scim_name_the_scim_service_in_their_audience_and_others_do_not()
    {
        var scimToken = await ScimClient.BackendTokenAsync(Server, "system/*.cruds scim");
        var aud = SmartApp.JwtPart(scimToken, 1)["aud"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        aud.ShouldBe([Server.FhirBase, new Uri(Server.Origin, "/scim/v2").ToString()], ignoreOrder: true);
        // The same token still reads FHIR data.
        using var fhir = new HttpRequestMessage(HttpMethod.Get, "Patient/alice");
        fhir.Headers.Authorization = new("Bearer", scimToken);
        (await Server.Client.SendAsync(fhir)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var fhirToken = await ScimClient.BackendTokenAsync(Server, "system/*.cruds");
        SmartApp.JwtPart(fhirToken, 1)["aud"]!.ToJsonString().ShouldNotContain("/scim/v2");
        using var scim = new ScimClient(Server, fhirToken);
        var response = await scim.GetAsync("Users");
        await response.ShouldBeScimErrorAsync(401);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task An_administrator_with_the_scim_scope_may_manage_users()
    {
        var token = await ScimClient.UserTokenAsync(Server, "admin", "admin-demo-pass", "openid scim");
        using var scim = new ScimClient(Server, token);
        var list = await (await scim.GetAsync("Users?filter=" + Uri.EscapeDataString("userName eq \"alice\""))).ShouldBeScimAsync(200);
        list["totalResults"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task An_administrator_without_the_scim_scope_is_refused()
    {
        var token = await ScimClient.UserTokenAsync(Server, "admin", "admin-demo-pass", "openid user/*.rs");
        using var scim = new ScimClient(Server, token);
        await (await scim.GetAsync("Users")).ShouldBeScimErrorAsync(401);
    }

    [Fact]
    public async Task A_user_who_is_not_an_administrator_is_403_even_with_the_scim_scope()
    {
        var token = await ScimClient.UserTokenAsync(Server, "bob", "bob-demo-pass", "openid scim");
        using var scim = new ScimClient(Server, token);
        var response = await scim.GetAsync("Users");
        await response.ShouldBeScimErrorAsync(403);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"insufficient_scope\"");
        await (await scim.DeleteAsync("Users/anything")).ShouldBeScimErrorAsync(403);
    }

    [Fact]
    public async Task A_client_not_registered_for_scim_cannot_get_the_scope()
    {
        await RegisterClientAsync("no-scim-client", ["system/*.rs"], pending: false);
        var body = await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "scim" }, ("no-scim-client", "no-scim-secret"));
        body["error"]!.GetValue<string>().ShouldBe("invalid_scope");
    }

    [Fact]
    public async Task A_client_awaiting_approval_or_whose_scim_permission_was_withdrawn_is_403()
    {
        await RegisterClientAsync("pending-client", ["scim"], pending: true);
        var pendingGrant = await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "scim" }, ("pending-client", "no-scim-secret"));
        // Either the token endpoint already refuses a client awaiting approval, or SCIM does.
        if (pendingGrant["access_token"]?.GetValue<string>() is { } pendingToken)
        {
            using var pending = new ScimClient(Server, pendingToken);
            await (await pending.GetAsync("Users")).ShouldBeScimErrorAsync(403);
        }
        else pendingGrant["error"].ShouldNotBeNull();

        await RegisterClientAsync("withdrawn-client", ["scim"], pending: false);
        var token = (await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "scim" }, ("withdrawn-client", "no-scim-secret")))["access_token"]!.GetValue<string>();
        using var scim = new ScimClient(Server, token);
        await (await scim.GetAsync("Users")).ShouldBeScimAsync(200);
        using (var scope = Server.Services.CreateScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var application = (await applications.FindByClientIdAsync("withdrawn-client"))!;
            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, application);
            descriptor.Permissions.Remove(Permissions.Prefixes.Scope + "scim");
            await applications.UpdateAsync(application, descriptor);
        }
        await (await scim.GetAsync("Users")).ShouldBeScimErrorAsync(403);
    }

    [Fact]
    public async Task A_revoked_token_is_401()
    {
        var token = await ScimClient.BackendTokenAsync(Server);
        using var scim = new ScimClient(Server, token);
        await (await scim.GetAsync("Users")).ShouldBeScimAsync(200);
        await SmartApp.PostFormAsync(Server, "/oauth/revoke", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"));
        await (await scim.GetAsync("Users")).ShouldBeScimErrorAsync(401);
    }

    private async Task RegisterClientAsync(string clientId, string[] scopes, bool pending)
    {
        using var scope = Server.Services.CreateScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = "no-scim-secret",
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.Endpoints.Revocation, Permissions.GrantTypes.ClientCredentials },
        };
        foreach (var s in scopes) descriptor.Permissions.Add(Permissions.Prefixes.Scope + s);
        if (pending) descriptor.Properties[ClientProperties.PendingApproval] = JsonSerializer.SerializeToElement(true);
        await applications.CreateAsync(descriptor);
    }
}
