using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// On SQLite a code exchange or refresh reads its token, grant and user on kept connections with prepared statements
/// (PreparedReads): what any other connection committed before the read is seen at once, and the user is read exactly
/// as EF Core reads it.
/// </summary>
public sealed class PreparedReadsTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;
    private const string Scope = "openid fhirUser launch/patient patient/*.rs offline_access";

    private async Task<(SmartApp App, JsonNode Tokens)> GrantAsync(string user, string password)
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, user, password, Scope);
        var response = await app.ExchangeAsync(code);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (app, await response.BodyAsync());
    }

    [Fact]
    public async Task A_grant_revoked_by_another_connection_stops_the_next_refresh_on_a_kept_connection()
    {
        var (app, first) = await GrantAsync("dave", "dave-demo-pass");
        var refreshed = await app.RefreshAsync(first["refresh_token"].Str());
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var second = await refreshed.BodyAsync();
        // On SQLite the reads of those two requests ran on kept connections, whose statements stay prepared.
        var reads = Server.Services.GetRequiredService<PreparedReads>();
        if (!Server.Services.GetRequiredService<AuthDatabase>().IsPostgres) reads.PreparedStatements.ShouldBeGreaterThan(0);
        else reads.Enabled.ShouldBeFalse();

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var dave = await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync("dave");
            (await scope.ServiceProvider.GetRequiredService<GrantRevocation>().RevokeAppAsync(dave!.Id, "demo-app")).ShouldBeGreaterThan(0);
        }

        var after = await app.RefreshAsync(second["refresh_token"].Str());
        after.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await after.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_user_disabled_after_a_refresh_cannot_refresh_again_and_can_once_enabled()
    {
        const string name = "prepared-reads-user";
        const string password = "prepared-reads-pass";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
            if (await users.FindByNameAsync(name) is null)
                (await users.CreateAsync(new IgnisUser { UserName = name, FhirUser = "Patient/dave" }, password)).Succeeded.ShouldBeTrue();
        }
        var (app, first) = await GrantAsync(name, password);
        var second = await (await app.RefreshAsync(first["refresh_token"].Str())).BodyAsync();
        second["access_token"].Str().ShouldNotBeNullOrEmpty();

        await SetActiveAsync(name, false);
        var refused = await app.RefreshAsync(second["refresh_token"].Str());
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.BodyAsync())["error"].Str().ShouldBe("invalid_grant");

        // Refused before anything was redeemed: the same refresh token works again once the user is enabled.
        await SetActiveAsync(name, true);
        (await app.RefreshAsync(second["refresh_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task SetActiveAsync(string name, bool active)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        var user = await users.FindByNameAsync(name);
        user!.Active = active;
        (await users.UpdateAsync(user)).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public async Task The_prepared_user_read_gives_every_mapped_property_as_EF_Core_reads_it()
    {
        if (Server.Services.GetRequiredService<AuthDatabase>().IsPostgres)
            Assert.Skip("Prepared reads serve SQLite only; on PostgreSQL the user is read through EF Core.");
        await using var scope = Server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        const string name = "prepared-reads-columns";
        var user = await users.FindByNameAsync(name);
        if (user is null)
        {
            user = new IgnisUser
            {
                UserName = name, Email = "columns@example.org", EmailConfirmed = true, PhoneNumber = "+1 555 0100",
                FhirUser = "Practitioner/carol", DisplayName = "Column Test", GivenName = "Col", FamilyName = "Umns",
                ScimAttributesJson = """{"title":"Dr"}""", ExternalId = "ext-1",
            };
            (await users.CreateAsync(user, "prepared-reads-pass")).Succeeded.ShouldBeTrue();
        }
        await users.SetLockoutEndDateAsync(user, new DateTimeOffset(2031, 5, 6, 7, 8, 9, 123, TimeSpan.Zero));
        await users.AccessFailedAsync(user);

        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var read = PreparedUserRead.For(db.Model);
        read.ShouldNotBeNull();
        var prepared = Server.Services.GetRequiredService<PreparedReads>().ReadOne(read.Sql, "@id", user.Id, read.Read);
        var expected = await db.Users.AsNoTracking().SingleAsync(u => u.Id == user.Id);

        prepared.ShouldNotBeNull();
        var properties = db.Model.FindEntityType(typeof(IgnisUser))!.GetProperties().ToList();
        properties.Count.ShouldBeGreaterThan(20);
        foreach (var property in properties)
            property.PropertyInfo!.GetValue(prepared).ShouldBe(property.PropertyInfo.GetValue(expected), property.Name);
        prepared.LockoutEnd.ShouldBe(new DateTimeOffset(2031, 5, 6, 7, 8, 9, 123, TimeSpan.Zero));
        prepared.AccessFailedCount.ShouldBeGreaterThan(0);

        Server.Services.GetRequiredService<PreparedReads>().ReadOne(read.Sql, "@id", "no-such-user", read.Read).ShouldBeNull();
    }
}
