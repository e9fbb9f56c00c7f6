using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>The request/response examples of RFC 7644 (§3.3 create, §3.4.1 get, §3.4.2 list, §3.5.1 PUT, §3.5.2 PATCH, §3.6 delete).</summary>
public sealed class ScimRfcExampleTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task Create_answers_201_with_location_etag_and_the_stored_resource()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var userName = Unique("bjensen");
        var response = await scim.PostAsync("Users", $$"""
            {
              "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
              "userName":"{{userName}}",
              "externalId":"bjensen",
              "name":{ "formatted":"Ms. Barbara J Jensen III", "familyName":"Jensen", "givenName":"Barbara" }
            }
            """);
        var body = await response.ShouldBeScimAsync(201);
        var id = body["id"]!.GetValue<string>();
        id.ShouldNotBeNullOrEmpty();
        body["schemas"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe([ScimClient.UserUrn]);
        body["userName"]!.GetValue<string>().ShouldBe(userName);
        body["externalId"]!.GetValue<string>().ShouldBe("bjensen");
        body["name"]!["formatted"]!.GetValue<string>().ShouldBe("Ms. Barbara J Jensen III");
        body["name"]!["familyName"]!.GetValue<string>().ShouldBe("Jensen");
        body["name"]!["givenName"]!.GetValue<string>().ShouldBe("Barbara");
        body["active"]!.GetValue<bool>().ShouldBeTrue();
        var meta = body["meta"]!;
        meta["resourceType"]!.GetValue<string>().ShouldBe("User");
        meta["location"]!.GetValue<string>().ShouldBe($"{scim.BaseUrl}/Users/{id}");
        response.Headers.Location!.ToString().ShouldBe(meta["location"]!.GetValue<string>());
        response.Headers.ETag!.ToString().ShouldBe(meta["version"]!.GetValue<string>());
        meta["version"]!.GetValue<string>().ShouldStartWith("W/\"");
        DateTimeOffset.Parse(meta["created"]!.GetValue<string>()).ShouldBe(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        meta["lastModified"]!.GetValue<string>().ShouldBe(meta["created"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_returns_the_resource_with_its_etag()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("get"), "\"displayName\":\"Babs\"");
        var id = created["id"]!.GetValue<string>();
        var response = await scim.GetAsync($"Users/{id}");
        var body = await response.ShouldBeScimAsync(200);
        JsonNode.DeepEquals(body, created).ShouldBeTrue(body.ToJsonString());
        response.Headers.ETag!.ToString().ShouldBe(created["meta"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_with_a_filter_is_a_ListResponse_of_the_matches()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var userName = Unique("listed");
        await scim.CreateUserAsync(userName, null);
        var response = await scim.GetAsync($"Users?filter={Uri.EscapeDataString($"userName eq \"{userName.ToUpperInvariant()}\"")}");
        var body = await response.ShouldBeScimAsync(200);
        body["schemas"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
        body["totalResults"]!.GetValue<int>().ShouldBe(1);
        body["itemsPerPage"]!.GetValue<int>().ShouldBe(1);
        body["startIndex"]!.GetValue<int>().ShouldBe(1);
        body["Resources"]!.AsArray().Single()!["userName"]!.GetValue<string>().ShouldBe(userName);
    }

    [Fact]
    public async Task Put_replaces_the_user_and_gives_a_new_version()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var userName = Unique("put");
        var created = await scim.CreateUserAsync(userName, "\"nickName\":\"Babs\",\"title\":\"Tour Guide\"");
        var id = created["id"]!.GetValue<string>();
        var version = created["meta"]!["version"]!.GetValue<string>();
        var response = await scim.PutAsync($"Users/{id}", $$"""
            {
              "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
              "id":"{{id}}",
              "userName":"{{userName}}",
              "externalId":"bjensen",
              "name":{ "formatted":"Ms. Barbara J Jensen III", "familyName":"Jensen", "givenName":"Barbara", "middleName":"Jane" },
              "roles":[],
              "emails":[ { "value":"bjensen@example.com" }, { "value":"babs@jensen.org" } ]
            }
            """, ("If-Match", version));
        var body = await response.ShouldBeScimAsync(200);
        body["name"]!["middleName"]!.GetValue<string>().ShouldBe("Jane");
        body["emails"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()).ShouldBe(["bjensen@example.com", "babs@jensen.org"]);
        body["nickName"].ShouldBeNull("PUT replaces: attributes left out are gone");
        body["title"].ShouldBeNull();
        body["roles"].ShouldBeNull();
        var newVersion = body["meta"]!["version"]!.GetValue<string>();
        newVersion.ShouldNotBe(version);
        response.Headers.ETag!.ToString().ShouldBe(newVersion);
    }

    [Fact]
    public async Task Patch_adds_attributes_without_a_path()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("addnopath"), """ "emails":[{"value":"bjensen@example.com","type":"work"}] """);
        var response = await scim.PatchAsync($"Users/{created["id"]}", ScimClient.Patch("""
            {"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}
            """));
        var body = await response.ShouldBeScimAsync(200);
        body["nickName"]!.GetValue<string>().ShouldBe("Babs");
        body["emails"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()).ShouldBe(["bjensen@example.com", "babs@jensen.org"]);
    }

    [Fact]
    public async Task Patch_removes_values_matched_by_a_complex_filter()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("rmfilter"), """
            "emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@jensen.org","type":"home"},{"value":"b@other.org","type":"work"}]
            """);
        var response = await scim.PatchAsync($"Users/{created["id"]}", ScimClient.Patch("""
            {"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}
            """));
        var body = await response.ShouldBeScimAsync(200);
        body["emails"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()).ShouldBe(["babs@jensen.org", "b@other.org"]);
    }

    [Fact]
    public async Task Patch_replaces_a_work_address_and_then_its_street()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("address"), """
            "addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"},{"type":"home","streetAddress":"456 Hollywood Blvd"}]
            """);
        var id = created["id"]!.GetValue<string>();
        var replaced = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""
            {"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US","primary":true}}
            """))).ShouldBeScimAsync(200);
        var work = replaced["addresses"]!.AsArray().Single(a => a!["type"]!.GetValue<string>() == "work")!;
        work["streetAddress"]!.GetValue<string>().ShouldBe("911 Universal City Plaza");
        work["postalCode"]!.GetValue<string>().ShouldBe("91608");
        work["primary"]!.GetValue<bool>().ShouldBeTrue();

        var street = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""
            {"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}
            """))).ShouldBeScimAsync(200);
        var addresses = street["addresses"]!.AsArray();
        addresses.Single(a => a!["type"]!.GetValue<string>() == "work")!["streetAddress"]!.GetValue<string>().ShouldBe("1010 Broadway Ave");
        addresses.Single(a => a!["type"]!.GetValue<string>() == "home")!["streetAddress"]!.GetValue<string>().ShouldBe("456 Hollywood Blvd");
    }

    [Fact]
    public async Task Patch_replaces_several_attributes_without_a_path()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("replnopath"), """
            "nickName":"Barbie","emails":[{"value":"old@example.com","type":"home"}],"name":{"givenName":"Barbara","familyName":"Jensen"}
            """);
        var body = await (await scim.PatchAsync($"Users/{created["id"]}", ScimClient.Patch("""
            {"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickName":"Babs","name":{"givenName":"Babs"}}}
            """))).ShouldBeScimAsync(200);
        body["nickName"]!.GetValue<string>().ShouldBe("Babs");
        body["emails"]!.AsArray().Single()!["value"]!.GetValue<string>().ShouldBe("bjensen@example.com");
        body["name"]!["givenName"]!.GetValue<string>().ShouldBe("Babs");
        body["name"]!["familyName"]!.GetValue<string>().ShouldBe("Jensen", "replace of a complex attribute keeps the sub-attributes it does not name");
    }

    [Fact]
    public async Task Patch_sets_a_value_selected_by_filter_and_sub_attribute()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var created = await scim.CreateUserAsync(Unique("valpath"), """ "emails":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"home"}] """);
        var id = created["id"]!.GetValue<string>();
        var body = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""
            {"op":"replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}
            """))).ShouldBeScimAsync(200);
        body["emails"]!.AsArray().Select(e => e!["value"]!.GetValue<string>()).ShouldBe(["new@example.com", "b@example.com"]);

        // Microsoft Entra ID adds a value through a filter that matches nothing yet: it becomes a new element.
        var added = await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""
            {"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}
            """))).ShouldBeScimAsync(200);
        var phone = added["phoneNumbers"]!.AsArray().Single()!;
        phone["type"]!.GetValue<string>().ShouldBe("mobile");
        phone["value"]!.GetValue<string>().ShouldBe("+1 555 0100");
    }

    [Fact]
    public async Task Patch_of_group_members_adds_removes_one_replaces_and_removes_all()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var group = await GroupAsync(scim, "developer");
        var gid = group["id"]!.GetValue<string>();
        var babs = (await scim.CreateUserAsync(Unique("babs"), null))["id"]!.GetValue<string>();
        var james = (await scim.CreateUserAsync(Unique("james"), null))["id"]!.GetValue<string>();
        var before = group["members"]?.AsArray().Select(m => m!["value"]!.GetValue<string>()).ToList() ?? [];

        var added = await (await scim.PatchAsync($"Groups/{gid}", ScimClient.Patch($$"""
            {"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"{{scim.BaseUrl}}/Users/{{babs}}","value":"{{babs}}"}]}
            """))).ShouldBeScimAsync(200);
        Members(added).ShouldBe([.. before, babs], ignoreOrder: true);

        var swapped = await (await scim.PatchAsync($"Groups/{gid}", ScimClient.Patch(
            $$"""{"op":"remove","path":"members[value eq \"{{babs}}\"]"}""",
            $$"""{"op":"add","path":"members","value":[{"display":"James Smith","$ref":"{{scim.BaseUrl}}/Users/{{james}}","value":"{{james}}"}]}"""))).ShouldBeScimAsync(200);
        Members(swapped).ShouldBe([.. before, james], ignoreOrder: true);

        var replaced = await (await scim.PatchAsync($"Groups/{gid}", ScimClient.Patch(
            $$"""{"op":"replace","path":"members","value":[{"value":"{{babs}}"},{"value":"{{james}}"}]}"""))).ShouldBeScimAsync(200);
        Members(replaced).ShouldBe([babs, james], ignoreOrder: true);

        var emptied = await (await scim.PatchAsync($"Groups/{gid}", ScimClient.Patch("""{"op":"remove","path":"members"}"""))).ShouldBeScimAsync(200);
        emptied["members"].ShouldBeNull();

        // Put the demo members back for the other tests of this class.
        await (await scim.PatchAsync($"Groups/{gid}", ScimClient.Patch(
            $$"""{"op":"add","path":"members","value":[{{string.Join(",", before.Select(b => $$"""{"value":"{{b}}"}"""))}}]}"""))).ShouldBeScimAsync(200);
    }

    [Fact]
    public async Task Delete_answers_204_and_the_user_is_gone()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var id = (await scim.CreateUserAsync(Unique("deleted"), null))["id"]!.GetValue<string>();
        var response = await scim.DeleteAsync($"Users/{id}");
        ((int)response.StatusCode).ShouldBe(204);
        (await response.Content.ReadAsStringAsync()).ShouldBeEmpty();
        await (await scim.GetAsync($"Users/{id}")).ShouldBeScimErrorAsync(404);
        await (await scim.DeleteAsync($"Users/{id}")).ShouldBeScimErrorAsync(404);
    }

    internal static List<string> Members(JsonObject group) =>
        group["members"]?.AsArray().Select(m => m!["value"]!.GetValue<string>()).ToList() ?? [];

    internal static async Task<JsonObject> GroupAsync(ScimClient scim, string name)
    {
        var list = await (await scim.GetAsync($"Groups?filter={Uri.EscapeDataString($"displayName eq \"{name}\"")}")).ShouldBeScimAsync(200);
        return list["Resources"]!.AsArray().Single()!.AsObject();
    }
}
