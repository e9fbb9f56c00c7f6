using System.Security.Claims;
using Ignis.Server.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// What the token endpoint computes itself instead of through OpenIddict's helpers gives exactly what OpenIddict
/// gives: the stored hash of a reference id (tokens issued before the change still resolve) and the claim
/// destinations of the principal.
/// </summary>
public sealed class TokenHashingAndDestinationsTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task A_reference_token_stored_by_OpenIddicts_own_manager_is_found_by_the_servers_manager_and_back()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        services.GetRequiredService<IOpenIddictTokenManager>().ShouldBeOfType<IgnisTokenManager>();
        var stock = new OpenIddictTokenManager<OpenIddictEntityFrameworkCoreToken>(
            services.GetRequiredService<IOpenIddictTokenCache<OpenIddictEntityFrameworkCoreToken>>(),
            services.GetRequiredService<ILogger<OpenIddictTokenManager<OpenIddictEntityFrameworkCoreToken>>>(),
            services.GetRequiredService<IOptionsMonitor<OpenIddictCoreOptions>>(),
            services.GetRequiredService<IOpenIddictTokenStore<OpenIddictEntityFrameworkCoreToken>>());
        var ours = (IgnisTokenManager)services.GetRequiredService<IOpenIddictTokenManager>();

        var referenceA = "ref-" + Guid.NewGuid().ToString("N");
        var byStock = await stock.CreateAsync(new OpenIddictTokenDescriptor
        {
            ReferenceId = referenceA, Type = TokenTypeIdentifiers.RefreshToken, Status = Statuses.Valid, Subject = "someone",
            ExpirationDate = DateTimeOffset.UtcNow.AddHours(1),
        });
        (await ours.FindByReferenceIdAsync(referenceA))!.Id.ShouldBe(byStock.Id);

        var referenceB = "ref-" + Guid.NewGuid().ToString("N");
        var byOurs = await ours.CreateAsync(new OpenIddictTokenDescriptor
        {
            ReferenceId = referenceB, Type = TokenTypeIdentifiers.RefreshToken, Status = Statuses.Valid, Subject = "someone",
            ExpirationDate = DateTimeOffset.UtcNow.AddHours(1),
        });
        byOurs.ReferenceId.ShouldNotBe(referenceB); // stored hashed, never as the client holds it
        (await stock.FindByReferenceIdAsync(referenceB))!.Id.ShouldBe(byOurs.Id);
    }

    [Theory]
    [InlineData(SmartPrincipalFactory.AccessAndIdentityToken, new[] { Destinations.AccessToken, Destinations.IdentityToken })]
    [InlineData(SmartPrincipalFactory.IdentityTokenOnly, new[] { Destinations.IdentityToken })]
    [InlineData(SmartPrincipalFactory.AccessTokenOnly, new[] { Destinations.AccessToken })]
    public void The_destinations_the_principal_factory_writes_are_the_ones_OpenIddict_writes_and_reads(string written, string[] destinations)
    {
        var claim = new Claim("c", "v").SetDestinations(destinations);
        claim.Properties[Properties.Destinations].ShouldBe(written);
        var ours = new Claim("c", "v");
        ours.Properties[Properties.Destinations] = written;
        ours.GetDestinations().ShouldBe(destinations);
    }
}
