using System.Net;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

public sealed class CapabilityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Metadata_describes_every_resource_type_with_its_search_parameters_and_interactions()
    {
        var response = await Client.GetAsync("metadata");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cs = await response.BodyAsync();
        cs["resourceType"].Str().ShouldBe("CapabilityStatement");
        cs["fhirVersion"].Str().ShouldBe("4.0.1");
        cs["kind"].Str().ShouldBe("instance");
        var rest = cs["rest"]![0]!;
        rest["interaction"]!.AsArray().Select(i => i!["code"].Str()).ShouldBe(["transaction", "batch", "search-system", "history-system"], ignoreOrder: true);
        var resources = rest["resource"]!.AsArray();
        resources.Count.ShouldBeGreaterThan(140);
        var patient = resources.Single(r => r!["type"].Str() == "Patient")!;
        patient["interaction"]!.AsArray().Select(i => i!["code"].Str())
            .ShouldBe(["read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"], ignoreOrder: true);
        var parameters = patient["searchParam"]!.AsArray().Select(p => p!["name"].Str()).ToList();
        parameters.ShouldContain("name");
        parameters.ShouldContain("_id");
        parameters.ShouldContain("_lastUpdated");
        parameters.ShouldContain("identifier");
        var observation = resources.Single(r => r!["type"].Str() == "Observation")!;
        observation["searchParam"]!.AsArray().Select(p => p!["name"].Str()).ShouldContain("code-value-quantity");
        observation["searchInclude"]!.AsArray().Select(p => p!.GetValue<string>()).ShouldContain("Observation:subject");
    }

    [Fact]
    public async Task Metadata_is_served_as_xml_when_asked()
    {
        var response = await Client.GetAsync("metadata?_format=application/fhir+xml");
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+xml");
        (await response.Content.ReadAsStringAsync()).ShouldContain("<CapabilityStatement xmlns=\"http://hl7.org/fhir\">");
    }
}
