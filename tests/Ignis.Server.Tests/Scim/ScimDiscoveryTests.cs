using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>RFC 7644 §4 discovery: ServiceProviderConfig, ResourceTypes, Schemas (RFC 7643 §5-7).</summary>
public sealed class ScimDiscoveryTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task The_service_provider_config_says_what_is_supported()
    {
        using var scim = new ScimClient(Server, token: null);
        var config = await (await scim.GetAsync("ServiceProviderConfig")).ShouldBeScimAsync(200);
        config["schemas"]![0]!.GetValue<string>().ShouldBe("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
        config["patch"]!["supported"]!.GetValue<bool>().ShouldBeTrue();
        config["bulk"]!["supported"]!.GetValue<bool>().ShouldBeFalse();
        config["filter"]!["supported"]!.GetValue<bool>().ShouldBeTrue();
        config["filter"]!["maxResults"]!.GetValue<int>().ShouldBe(200);
        config["changePassword"]!["supported"]!.GetValue<bool>().ShouldBeTrue();
        config["sort"]!["supported"]!.GetValue<bool>().ShouldBeTrue();
        config["etag"]!["supported"]!.GetValue<bool>().ShouldBeTrue();
        config["authenticationSchemes"]![0]!["type"]!.GetValue<string>().ShouldBe("oauthbearertoken");
    }

    [Fact]
    public async Task Resource_types_list_users_with_their_extensions_and_groups()
    {
        using var scim = new ScimClient(Server, token: null);
        var list = await (await scim.GetAsync("ResourceTypes")).ShouldBeScimAsync(200);
        list["totalResults"]!.GetValue<int>().ShouldBe(2);
        var user = await (await scim.GetAsync("ResourceTypes/User")).ShouldBeScimAsync(200);
        user["endpoint"]!.GetValue<string>().ShouldBe("/Users");
        user["schema"]!.GetValue<string>().ShouldBe(ScimClient.UserUrn);
        user["schemaExtensions"]!.AsArray().Select(e => e!["schema"]!.GetValue<string>()).ShouldBe([ScimClient.EnterpriseUrn, ScimClient.IgnisUrn]);
        (await (await scim.GetAsync("ResourceTypes/Group")).ShouldBeScimAsync(200))["endpoint"]!.GetValue<string>().ShouldBe("/Groups");
        await (await scim.GetAsync("ResourceTypes?filter=" + Uri.EscapeDataString("name eq \"User\""))).ShouldBeScimErrorAsync(403);
    }

    [Fact]
    public async Task Schemas_describe_every_attribute()
    {
        using var scim = new ScimClient(Server, token: null);
        var list = await (await scim.GetAsync("Schemas")).ShouldBeScimAsync(200);
        list["Resources"]!.AsArray().Select(s => s!["id"]!.GetValue<string>())
            .ShouldBe([ScimClient.UserUrn, ScimClient.EnterpriseUrn, ScimClient.IgnisUrn, ScimClient.GroupUrn]);
        var user = await (await scim.GetAsync($"Schemas/{ScimClient.UserUrn}")).ShouldBeScimAsync(200);
        var attributes = user["attributes"]!.AsArray().ToDictionary(a => a!["name"]!.GetValue<string>(), a => a!);
        attributes["userName"]["required"]!.GetValue<bool>().ShouldBeTrue();
        attributes["userName"]["uniqueness"]!.GetValue<string>().ShouldBe("server");
        attributes["password"]["returned"]!.GetValue<string>().ShouldBe("never");
        attributes["password"]["mutability"]!.GetValue<string>().ShouldBe("writeOnly");
        attributes["groups"]["mutability"]!.GetValue<string>().ShouldBe("readOnly");
        attributes["emails"]["multiValued"]!.GetValue<bool>().ShouldBeTrue();
        attributes["emails"]["subAttributes"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ShouldBe(["value", "display", "type", "primary"]);
        var ignis = await (await scim.GetAsync($"Schemas/{ScimClient.IgnisUrn}")).ShouldBeScimAsync(200);
        ignis["attributes"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["fhirUser", "roles"]);
        ignis["attributes"]![1]!["canonicalValues"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["admin", "developer", "clinician", "patient"]);
        ignis["meta"]!["location"]!.GetValue<string>().ShouldBe($"{scim.BaseUrl}/Schemas/{ScimClient.IgnisUrn}");
    }

    [Fact]
    public async Task Every_answer_is_scim_json()
    {
        using var scim = new ScimClient(Server, token: null);
        foreach (var path in new[] { "ServiceProviderConfig", "ResourceTypes", "Schemas", "Users", "Nope" })
        {
            var response = await scim.GetAsync(path);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/scim+json", path);
            JsonNode.Parse(await response.Content.ReadAsStringAsync()).ShouldNotBeNull();
        }
    }
}
