using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Ignis.Client.Tests;

/// <summary>SMART discovery from the FHIR base: the well-known document, and the CapabilityStatement of servers without one.</summary>
public sealed class DiscoveryTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task The_well_known_smart_configuration_gives_every_endpoint_and_capability()
    {
        using var http = new HttpClient();
        var configuration = await SmartConfiguration.DiscoverAsync(Server.FhirBase + "/", http);

        configuration.FromWellKnown.ShouldBeTrue();
        configuration.FhirBaseUrl.ShouldBe(Server.FhirBase);
        configuration.AuthorizationEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/authorize"));
        configuration.TokenEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/token"));
        configuration.RevocationEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/revoke"));
        configuration.JwksUri.ShouldBe(new Uri(Server.Origin, "/oauth/jwks"));
        configuration.Capabilities.ShouldContain("launch-standalone");
        configuration.CodeChallengeMethodsSupported.ShouldBe(["S256"]);
    }

    [Fact]
    public async Task A_server_without_the_well_known_document_is_discovered_from_its_CapabilityStatement()
    {
        // A front that answers 404 for .well-known/smart-configuration, as servers older than SMART 1.0's discovery do,
        // and passes /metadata through to the real server.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var front = builder.Build();
        using var upstream = new HttpClient();
        front.MapGet("/fhir/.well-known/smart-configuration", () => Results.NotFound());
        front.MapGet("/fhir/metadata", async () => Results.Content(await upstream.GetStringAsync(Server.FhirBase + "/metadata"), "application/fhir+json"));
        await front.StartAsync();
        var frontBase = front.Urls.First() + "/fhir";

        using var http = new HttpClient();
        var configuration = await SmartConfiguration.DiscoverAsync(frontBase, http);

        configuration.FromWellKnown.ShouldBeFalse();
        configuration.FhirBaseUrl.ShouldBe(frontBase);
        configuration.AuthorizationEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/authorize"));
        configuration.TokenEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/token"));
        configuration.RevocationEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/revoke"));
        configuration.IntrospectionEndpoint.ShouldBe(new Uri(Server.Origin, "/oauth/introspect"));
        await front.StopAsync();
    }
}
