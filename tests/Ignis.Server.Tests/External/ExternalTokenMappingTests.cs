using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.External;

/// <summary>
/// The other two ways an external token finds its local user (ExternalBearerTokens covers MapBy=Username): a login link
/// (the same links delegated sign-in makes) and a verified email. Each test runs its own provider and server.
/// </summary>
public sealed class ExternalTokenMappingTests
{
    private const string Audience = "ignis-fhir-api";

    private static async Task<(ExternalIdp Idp, IgnisServer Server)> StartAsync(params string[] issuerSettings)
    {
        var idp = await ExternalIdp.StartAsync([], new JsonObject());
        try
        {
            var server = await IgnisServer.StartAsync([
                "--demo",
                $"--Ignis:External:Issuers:corp:Issuer={idp.Issuer}",
                $"--Ignis:External:Issuers:corp:JwksUri={idp.JwksUri}",
                $"--Ignis:External:Issuers:corp:Audiences:0={Audience}",
                "--Ignis:External:Issuers:corp:Scopes=patient/*.rs",
                .. issuerSettings.Select(s => "--Ignis:External:Issuers:corp:" + s)]);
            return (idp, server);
        }
        catch
        {
            await idp.DisposeAsync();
            throw;
        }
    }

    private static Dictionary<string, object> Claims(ExternalIdp idp, params (string Name, object Value)[] extra)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object> { ["iss"] = idp.Issuer, ["aud"] = Audience, ["iat"] = now, ["exp"] = now + 300 };
        foreach (var (name, value) in extra) claims[name] = value;
        return claims;
    }

    private static async Task<HttpResponseMessage> ReadAsync(IgnisServer server, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await server.Client.SendAsync(request);
    }

    private static async Task ArrangeAsync(IgnisServer server, string userName, Func<UserManager<IgnisUser>, IgnisUser, Task<IdentityResult>> change)
    {
        using var scope = server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        (await change(users, (await users.FindByNameAsync(userName))!)).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public async Task By_login_link_the_sub_finds_the_user_linked_to_it_and_an_unlinked_sub_is_refused()
    {
        var (idp, server) = await StartAsync("MapBy=Login", "LoginProvider=idp");
        await using var _ = idp;
        await using var __ = server;
        await ArrangeAsync(server, "alice", (users, alice) => users.AddLoginAsync(alice, new UserLoginInfo("idp", "alice-at-idp", "Test IdP")));

        var linked = await ReadAsync(server, "Patient/alice", await idp.MintAsync(Claims(idp, ("sub", "alice-at-idp"))));
        linked.StatusCode.ShouldBe(HttpStatusCode.OK, await linked.Content.ReadAsStringAsync());
        // patient/*.rs binds to the patient user's own record.
        (await ReadAsync(server, "Patient/dave", await idp.MintAsync(Claims(idp, ("sub", "alice-at-idp"), ("jti", "2"))))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var unlinked = await ReadAsync(server, "Patient/alice", await idp.MintAsync(Claims(idp, ("sub", "alice"))));
        await unlinked.ShouldBeOutcomeAsync(401);
        unlinked.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task By_email_only_a_verified_email_finds_the_user()
    {
        var (idp, server) = await StartAsync("MapBy=Email", "UserClaim=email");
        await using var _ = idp;
        await using var __ = server;
        await ArrangeAsync(server, "alice", (users, alice) => users.SetEmailAsync(alice, "alice@home.example"));

        var verified = await ReadAsync(server, "Patient/alice",
            await idp.MintAsync(Claims(idp, ("sub", "x1"), ("email", "alice@home.example"), ("email_verified", true))));
        verified.StatusCode.ShouldBe(HttpStatusCode.OK, await verified.Content.ReadAsStringAsync());

        var unverified = await ReadAsync(server, "Patient/alice",
            await idp.MintAsync(Claims(idp, ("sub", "x2"), ("email", "alice@home.example"), ("email_verified", false))));
        await unverified.ShouldBeOutcomeAsync(401);
        (await unverified.Content.ReadAsStringAsync()).ShouldContain("email is not verified");

        var unknown = await ReadAsync(server, "Patient/alice",
            await idp.MintAsync(Claims(idp, ("sub", "x3"), ("email", "someone@else.example"), ("email_verified", true))));
        await unknown.ShouldBeOutcomeAsync(401);
    }
}
