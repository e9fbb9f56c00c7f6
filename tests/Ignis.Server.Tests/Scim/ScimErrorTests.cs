using System.Text;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>Every way a SCIM request can be refused answers the RFC 7644 §3.12 error body with the right status and scimType.</summary>
public sealed class ScimErrorTests(ScimErrorTests.Fixture fixture) : IClassFixture<ScimErrorTests.Fixture>
{
    /// <summary>A demo server whose in-memory filter bound is small enough to reach in a test.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public IgnisServer Server { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            Server = await IgnisServer.StartAsync("--demo", "--Ignis:Scim:MaxFilterCandidates=3", "--Ignis:Scim:MaxBodyBytes=4096");

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    private IgnisServer Server => fixture.Server;

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Theory]
    [InlineData("userName eq bjensen")]
    [InlineData("userName eq \"a\" and")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("nosuch eq \"a\"")]
    [InlineData("active gt true")]
    [InlineData("meta.created gt \"not a date\"")]
    public async Task A_bad_filter_is_400_invalidFilter(string filter)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.GetAsync($"Users?filter={Uri.EscapeDataString(filter)}")).ShouldBeScimErrorAsync(400, "invalidFilter");
        await (await scim.PostAsync("Users/.search", $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":{{System.Text.Json.JsonSerializer.Serialize(filter)}}}"""))
            .ShouldBeScimErrorAsync(400, "invalidFilter");
    }

    [Fact]
    public async Task A_filter_leaving_too_many_users_to_examine_is_400_tooMany()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        // title is not a column: every user (the five demo users at least) would be examined, more than 3.
        await (await scim.GetAsync($"Users?filter={Uri.EscapeDataString("title eq \"x\"")}")).ShouldBeScimErrorAsync(400, "tooMany");
        // The same filter narrowed by a column the database answers stays within the bound.
        var ok = await scim.GetAsync($"Users?filter={Uri.EscapeDataString("userName eq \"alice\" and title eq \"x\"")}");
        (await ok.ShouldBeScimAsync(200))["totalResults"]!.GetValue<int>().ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"op":"replace","path":"emails[type eq","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"nosuch","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"name.nosuch","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"emails[nosuch eq \"x\"].value","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"userName[type eq \"x\"]","value":"x"}""")]
    [InlineData("""{"op":"replace","path":"emails[type eq \"work\"].nosuch","value":"x"}""")]
    [InlineData("""{"op":"add","path":"urn:example:nosuch:User:x","value":"x"}""")]
    public async Task A_bad_patch_path_is_400_invalidPath(string operation)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("path"), """ "emails":[{"value":"a@example.com","type":"work"}] """);
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch(operation))).ShouldBeScimErrorAsync(400, "invalidPath");
    }

    [Theory]
    [InlineData("\"active\":\"yes\"")]
    [InlineData("\"active\":1")]
    [InlineData("\"displayName\":42")]
    [InlineData("\"name\":\"Barbara\"")]
    [InlineData("\"emails\":{\"value\":\"a@example.com\"}")]
    [InlineData("\"emails\":[{\"value\":\"a@example.com\",\"primary\":true},{\"value\":\"b@example.com\",\"primary\":true}]")]
    [InlineData("\"password\":\"short\"")]
    [InlineData("\"urn:ietf:params:scim:schemas:extension:ignis:2.0:User\":{\"roles\":[\"superuser\"]}")]
    [InlineData("\"urn:ietf:params:scim:schemas:extension:ignis:2.0:User\":{\"fhirUser\":\"http://elsewhere.example/Patient/1\"}")]
    [InlineData("\"urn:ietf:params:scim:schemas:extension:ignis:2.0:User\":{\"fhirUser\":\"Observation/1\"}")]
    public async Task A_bad_value_is_400_invalidValue(string attribute)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var response = await scim.PostAsync("Users", $$"""{"schemas":["{{ScimClient.UserUrn}}","{{ScimClient.IgnisUrn}}"],"userName":"{{Unique("badvalue")}}",{{attribute}}}""");
        await response.ShouldBeScimErrorAsync(400, "invalidValue");
    }

    [Theory]
    [InlineData("""{"userName":"x"}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x"}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:example:other"],"userName":"x"}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","favouriteColour":"blue"}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","name":{"nick":"x"}}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","userName":"y"}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":""")]
    [InlineData("""["not an object"]""")]
    public async Task A_malformed_resource_is_400_invalidSyntax(string body)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.PostAsync("Users", body)).ShouldBeScimErrorAsync(400, "invalidSyntax");
    }

    [Fact]
    public async Task A_missing_userName_is_400_invalidValue()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.PostAsync("Users", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"displayName":"No Name"}""")).ShouldBeScimErrorAsync(400, "invalidValue");
        var user = await scim.CreateUserAsync(Unique("required"), null);
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch("""{"op":"remove","path":"userName"}""")))
            .ShouldBeScimErrorAsync(400, "invalidValue");
    }

    [Theory]
    [InlineData("""{"Operations":[{"op":"add","path":"title","value":"x"}]}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"title"}]}""")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":["add"]}""")]
    public async Task A_malformed_patch_is_400_invalidSyntax(string body)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("badpatch"), null);
        await (await scim.PatchAsync($"Users/{user["id"]}", body)).ShouldBeScimErrorAsync(400, "invalidSyntax");
    }

    [Fact]
    public async Task A_taken_userName_is_409_uniqueness_whatever_its_case()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var userName = Unique("taken");
        var other = await scim.CreateUserAsync(Unique("other"), null);
        await scim.CreateUserAsync(userName, null);
        await (await scim.PostAsync("Users", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"{{userName.ToUpperInvariant()}}"}"""))
            .ShouldBeScimErrorAsync(409, "uniqueness");
        await (await scim.PatchAsync($"Users/{other["id"]}", ScimClient.Patch($$"""{"op":"replace","path":"userName","value":"{{userName}}"}""")))
            .ShouldBeScimErrorAsync(409, "uniqueness");
        await (await scim.PostAsync("Users", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"alice"}""")).ShouldBeScimErrorAsync(409, "uniqueness");
    }

    [Theory]
    [InlineData("""{"op":"replace","path":"id","value":"new-id"}""")]
    [InlineData("""{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}""")]
    [InlineData("""{"op":"add","path":"groups","value":[{"value":"x"}]}""")]
    [InlineData("""{"op":"remove","path":"meta"}""")]
    [InlineData("""{"op":"add","value":{"id":"new-id"}}""")]
    public async Task Changing_a_readOnly_attribute_is_400_mutability(string operation)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("readonly"), null);
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch(operation))).ShouldBeScimErrorAsync(400, "mutability");
    }

    [Fact]
    public async Task Renaming_a_group_or_changing_a_member_id_is_400_mutability()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var group = await ScimRfcExampleTests.GroupAsync(scim, "admin");
        await (await scim.PatchAsync($"Groups/{group["id"]}", ScimClient.Patch("""{"op":"replace","path":"displayName","value":"superusers"}""")))
            .ShouldBeScimErrorAsync(400, "mutability");
        var member = ScimRfcExampleTests.Members(group)[0];
        await (await scim.PatchAsync($"Groups/{group["id"]}", ScimClient.Patch($$"""{"op":"replace","path":"members[value eq \"{{member}}\"].value","value":"other"}""")))
            .ShouldBeScimErrorAsync(400, "mutability");
    }

    [Fact]
    public async Task Remove_without_path_and_replace_matching_nothing_are_400_noTarget()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("notarget"), """ "emails":[{"value":"a@example.com","type":"work"}] """);
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch("""{"op":"remove"}"""))).ShouldBeScimErrorAsync(400, "noTarget");
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch("""{"op":"replace","path":"emails[type eq \"home\"].value","value":"b@example.com"}""")))
            .ShouldBeScimErrorAsync(400, "noTarget");
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch("""{"op":"add","path":"emails[value co \"zzz\"].type","value":"home"}""")))
            .ShouldBeScimErrorAsync(400, "noTarget");
    }

    [Fact]
    public async Task A_failed_patch_changes_nothing()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("atomic"), "\"title\":\"Before\"");
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch(
            """{"op":"replace","path":"title","value":"After"}""",
            """{"op":"replace","path":"id","value":"x"}"""))).ShouldBeScimErrorAsync(400, "mutability");
        var after = await (await scim.GetAsync($"Users/{user["id"]}")).ShouldBeScimAsync(200);
        after["title"]!.GetValue<string>().ShouldBe("Before");
        after["meta"]!["version"]!.GetValue<string>().ShouldBe(user["meta"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_resources_and_endpoints_are_404_and_unsupported_methods_405()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.GetAsync("Users/no-such-user")).ShouldBeScimErrorAsync(404);
        await (await scim.PatchAsync("Users/no-such-user", ScimClient.Patch("""{"op":"add","path":"title","value":"x"}"""))).ShouldBeScimErrorAsync(404);
        await (await scim.GetAsync("Groups/no-such-group")).ShouldBeScimErrorAsync(404);
        await (await scim.GetAsync("Schemas/urn:example:nosuch")).ShouldBeScimErrorAsync(404);
        await (await scim.GetAsync("Widgets")).ShouldBeScimErrorAsync(404);
        await (await scim.PutAsync("Users", "{}")).ShouldBeScimErrorAsync(405);
        await (await scim.DeleteAsync("Users")).ShouldBeScimErrorAsync(405);
    }

    [Fact]
    public async Task Unsupported_operations_are_501()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.PostAsync("Bulk", "{}")).ShouldBeScimErrorAsync(501);
        await (await scim.GetAsync("Me")).ShouldBeScimErrorAsync(501);
        var group = await ScimRfcExampleTests.GroupAsync(scim, "patient");
        await (await scim.DeleteAsync($"Groups/{group["id"]}")).ShouldBeScimErrorAsync(501);
        await (await scim.PostAsync("Groups", $$"""{"schemas":["{{ScimClient.GroupUrn}}"],"displayName":"Nurses"}""")).ShouldBeScimErrorAsync(501);
        // A group named as a role exists already: 409, so that provisioning clients look it up instead.
        await (await scim.PostAsync("Groups", $$"""{"schemas":["{{ScimClient.GroupUrn}}"],"displayName":"Clinician"}""")).ShouldBeScimErrorAsync(409, "uniqueness");
    }

    [Fact]
    public async Task Bad_paging_and_sorting_parameters_are_400_invalidValue()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        await (await scim.GetAsync("Users?startIndex=first")).ShouldBeScimErrorAsync(400, "invalidValue");
        await (await scim.GetAsync("Users?count=ten")).ShouldBeScimErrorAsync(400, "invalidValue");
        await (await scim.GetAsync("Users?sortOrder=sideways")).ShouldBeScimErrorAsync(400, "invalidValue");
        await (await scim.GetAsync("Users?sortBy=nosuch")).ShouldBeScimErrorAsync(400, "invalidValue");
        await (await scim.GetAsync("Users?count=1&count=2")).ShouldBeScimErrorAsync(400, "invalidValue");
    }

    [Fact]
    public async Task A_mismatched_If_Match_is_412()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync(Unique("etag"), null);
        var stale = ("If-Match", "W/\"999\"");
        await (await scim.PutAsync($"Users/{user["id"]}", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"{{user["userName"]}}"}""", stale)).ShouldBeScimErrorAsync(412);
        await (await scim.PatchAsync($"Users/{user["id"]}", ScimClient.Patch("""{"op":"add","path":"title","value":"x"}"""), stale)).ShouldBeScimErrorAsync(412);
        await (await scim.DeleteAsync($"Users/{user["id"]}", stale)).ShouldBeScimErrorAsync(412);
        (await scim.GetAsync($"Users/{user["id"]}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_a_wrong_media_type_415()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var big = $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"big","title":"{{new string('x', 5000)}}"}""";
        await (await scim.PostAsync("Users", big)).ShouldBeScimErrorAsync(413);
        using var http = new HttpClient { BaseAddress = new Uri(Server.Origin, "/scim/v2/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", await ScimClient.BackendTokenAsync(Server));
        await (await http.PostAsync("Users", new FormUrlEncodedContent([new("userName", "x")]))).ShouldBeScimErrorAsync(415);
    }

    [Fact]
    public async Task A_body_sent_as_application_json_is_accepted()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        using var http = new HttpClient { BaseAddress = new Uri(Server.Origin, "/scim/v2/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", await ScimClient.BackendTokenAsync(Server));
        var response = await http.PostAsync("Users", new StringContent($$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"{{Unique("plainjson")}}"}""", Encoding.UTF8, "application/json"));
        await response.ShouldBeScimAsync(201);
    }
}
