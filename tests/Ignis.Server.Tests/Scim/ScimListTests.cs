using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>List and search (RFC 7644 §3.4.2, §3.4.3): filters answered by the database and in memory, sorting, paging, attribute selection.</summary>
public sealed class ScimListTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    /// <summary>Five users under a fresh prefix, so each test sees only its own.</summary>
    private static async Task<(string Prefix, List<JsonObject> Users)> SeedAsync(ScimClient scim)
    {
        var prefix = "l" + Random.Shared.Next(10_000_000, 99_999_999);
        var users = new List<JsonObject>
        {
            await scim.CreateUserAsync($$"""
                {
                  "schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                  "userName":"{{prefix}}.carla",
                  "title":"Nurse","externalId":"E-3","active":true,"name":{"givenName":"Carla","familyName":"Zimmer"},
                  "emails":[{"value":"carla@example.com","type":"work","primary":true},{"value":"carla@home.org","type":"home"}],
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Cardiology","employeeNumber":"300"}
                }
                """),
            await scim.CreateUserAsync($"{prefix}.Adam", """
                "title":"Surgeon","externalId":"E-1","name":{"givenName":"Adam","familyName":"Young"},
                "emails":[{"value":"adam@example.org","type":"work"}]
                """),
            await scim.CreateUserAsync($"{prefix}.bea", """
                "externalId":"E-2","active":false,"name":{"givenName":"Bea","familyName":"Xu"},
                "emails":[{"value":"bea@example.com","type":"home"}]
                """),
            await scim.CreateUserAsync($"{prefix}.dan_x", """
                "title":"nurse","name":{"givenName":"Dan","familyName":"Walker"}
                """),
            await scim.CreateUserAsync($"{prefix}.eve+", """
                "title":"Pharmacist","externalId":"e-5","emails":[{"value":"eve@EXAMPLE.com","type":"work"}]
                """),
        };
        return (prefix, users);
    }

    private static async Task<JsonObject> ListAsync(ScimClient scim, string query) =>
        await (await scim.GetAsync("Users?" + query)).ShouldBeScimAsync(200);

    private static List<string> Names(JsonObject list, string prefix) =>
        [.. list["Resources"]!.AsArray().Select(r => r!["userName"]!.GetValue<string>()[(prefix.Length + 1)..])];

    private static string F(string prefix, string filter) =>
        "filter=" + Uri.EscapeDataString($"userName sw \"{prefix}.\" and ({filter})");

    [Theory]
    [InlineData("externalId eq \"E-1\"", "Adam")]
    [InlineData("externalId eq \"e-1\"", "")]
    [InlineData("externalId ne \"E-1\"", "bea,carla,dan_x,eve+")]
    [InlineData("externalId pr", "Adam,bea,carla,eve+")]
    [InlineData("active eq false", "bea")]
    [InlineData("active ne false", "Adam,carla,dan_x,eve+")]
    [InlineData("userName ew \".ADAM\"", "Adam")]
    [InlineData("userName co \"_\"", "dan_x")]
    [InlineData("userName co \"+\"", "eve+")]
    [InlineData("not (userName co \"a\")", "eve+")]
    [InlineData("title eq \"nurse\"", "carla,dan_x")]
    [InlineData("title co \"ur\"", "Adam,carla,dan_x")]
    [InlineData("title sw \"P\" or title ew \"eon\"", "Adam,eve+")]
    [InlineData("title pr and not (title eq \"Nurse\")", "Adam,eve+")]
    [InlineData("name.familyName gt \"X\"", "Adam,bea,carla")]
    [InlineData("name.familyName le \"Xu\"", "bea,dan_x")]
    [InlineData("emails co \"example.com\"", "bea,carla,eve+")]
    [InlineData("emails.value ew \".org\"", "Adam,carla")]
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"]", "carla,eve+")]
    [InlineData("emails[type eq \"work\"] and not (emails[primary eq true])", "Adam,eve+")]
    [InlineData("emails pr", "Adam,bea,carla,eve+")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"cardiology\"", "carla")]
    [InlineData("schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", "carla")]
    [InlineData("(title eq \"Surgeon\" or externalId eq \"E-2\") and active eq true", "Adam")]
    public async Task Filters_select_the_matching_users(string filter, string expected)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var (prefix, _) = await SeedAsync(scim);
        var list = await ListAsync(scim, F(prefix, filter) + "&sortBy=userName");
        string.Join(",", Names(list, prefix)).ShouldBe(expected, filter);
        list["totalResults"]!.GetValue<int>().ShouldBe(expected.Length == 0 ? 0 : expected.Split(',').Length);
    }

    [Fact]
    public async Task Filters_on_dates_compare_instants()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        var (prefix, users) = await SeedAsync(scim);
        var adam = users[1]["meta"]!["created"]!.GetValue<string>();
        Names(await ListAsync(scim, F(prefix, $"meta.created gt \"{before}\"") + "&sortBy=userName"), prefix).Count.ShouldBe(5);
        Names(await ListAsync(scim, F(prefix, $"meta.created lt \"{before}\"")), prefix).ShouldBeEmpty();
        Names(await ListAsync(scim, F(prefix, $"meta.created eq \"{adam}\"")), prefix).ShouldBe(["Adam"]);
        Names(await ListAsync(scim, F(prefix, $"meta.lastModified ge \"{adam}\" and meta.lastModified le \"{adam}\"")), prefix).ShouldBe(["Adam"]);
    }

    [Theory]
    [InlineData("userName", "ascending", "Adam,bea,carla,dan_x,eve+")]
    [InlineData("userName", "descending", "eve+,dan_x,carla,bea,Adam")]
    [InlineData("name.familyName", "ascending", "dan_x,bea,Adam,carla,eve+")]
    [InlineData("name.familyName", "descending", "eve+,carla,Adam,bea,dan_x")]
    [InlineData("title", "ascending", "carla,dan_x,eve+,Adam,bea")]
    [InlineData("emails", "ascending", "Adam,bea,carla,eve+,dan_x")]
    [InlineData("externalId", "ascending", "Adam,bea,carla,eve+,dan_x")]
    [InlineData("meta.created", "ascending", "carla,Adam,bea,dan_x,eve+")]
    [InlineData("meta.created", "descending", "eve+,dan_x,bea,Adam,carla")]
    public async Task SortBy_orders_by_type_with_missing_values_last_when_ascending(string sortBy, string order, string expected)
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var (prefix, _) = await SeedAsync(scim);
        var list = await ListAsync(scim, $"filter={Uri.EscapeDataString($"userName sw \"{prefix}.\"")}&sortBy={sortBy}&sortOrder={order}");
        var names = Names(list, prefix);
        if (sortBy == "title")
        {
            // "Nurse" and "nurse" are equal ignoring case; their order between themselves is by id.
            names.Take(2).ShouldBe(["carla", "dan_x"], ignoreOrder: true);
            names.Skip(2).ShouldBe(["eve+", "Adam", "bea"]);
            return;
        }
        names.ShouldBe(expected.Split(','));
    }

    [Fact]
    public async Task StartIndex_and_count_page_through_the_matches()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var (prefix, _) = await SeedAsync(scim);
        var filter = $"filter={Uri.EscapeDataString($"userName sw \"{prefix}.\"")}&sortBy=userName";
        var pages = new List<string>();
        for (var start = 1; start <= 5; start += 2)
        {
            var page = await ListAsync(scim, $"{filter}&startIndex={start}&count=2");
            page["totalResults"]!.GetValue<int>().ShouldBe(5);
            page["startIndex"]!.GetValue<int>().ShouldBe(start);
            page["itemsPerPage"]!.GetValue<int>().ShouldBe(start == 5 ? 1 : 2);
            pages.AddRange(Names(page, prefix));
        }
        pages.ShouldBe(["Adam", "bea", "carla", "dan_x", "eve+"]);

        var none = await ListAsync(scim, $"{filter}&count=0");
        none["totalResults"]!.GetValue<int>().ShouldBe(5);
        none["Resources"]!.AsArray().ShouldBeEmpty();
        (await ListAsync(scim, $"{filter}&startIndex=10"))["Resources"]!.AsArray().ShouldBeEmpty();
        // RFC 7644 §3.4.2.4: startIndex below 1 is 1, a negative count is 0.
        Names(await ListAsync(scim, $"{filter}&startIndex=-4&count=1"), prefix).ShouldBe(["Adam"]);
        (await ListAsync(scim, $"{filter}&count=-1"))["Resources"]!.AsArray().ShouldBeEmpty();
        // The in-memory path pages the same way.
        Names(await ListAsync(scim, F(prefix, "title pr or title eq \"x\"") + "&sortBy=userName&startIndex=2&count=2"), prefix).ShouldBe(["carla", "dan_x"]);
    }

    [Fact]
    public async Task Count_is_capped_at_the_server_maximum()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var list = await ListAsync(scim, "count=100000");
        list["itemsPerPage"]!.GetValue<int>().ShouldBeLessThanOrEqualTo(200);
    }

    [Fact]
    public async Task Attributes_and_excludedAttributes_select_what_is_returned()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var (prefix, users) = await SeedAsync(scim);
        var id = users[0]["id"]!.GetValue<string>();

        var some = await (await scim.GetAsync($"Users/{id}?attributes=userName,name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")).ShouldBeScimAsync(200);
        some.Select(p => p.Key).ShouldBe(["schemas", "id", "userName", "name", "emails", ScimClient.EnterpriseUrn], ignoreOrder: true);
        some["name"]!.AsObject().Select(p => p.Key).ShouldBe(["givenName"]);
        some["emails"]!.AsArray().Select(e => e!.AsObject().Select(p => p.Key).Single()).ShouldBe(["value", "value"]);
        some[ScimClient.EnterpriseUrn]!.AsObject().Select(p => p.Key).ShouldBe(["department"]);

        var without = await (await scim.GetAsync($"Users/{id}?excludedAttributes=emails,name.familyName,meta,id")).ShouldBeScimAsync(200);
        without["emails"].ShouldBeNull();
        without["meta"].ShouldBeNull();
        without["name"]!["familyName"].ShouldBeNull();
        without["name"]!["givenName"]!.GetValue<string>().ShouldBe("Carla");
        without["id"]!.GetValue<string>().ShouldBe(id, "id is always returned");

        var listed = await ListAsync(scim, F(prefix, "externalId eq \"E-1\"") + "&attributes=displayName");
        listed["Resources"]!.AsArray().Single()!.AsObject().Select(p => p.Key).ShouldBe(["schemas", "id"], ignoreOrder: true);
    }

    [Fact]
    public async Task Post_search_takes_the_query_in_the_body()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var (prefix, _) = await SeedAsync(scim);
        var response = await scim.PostAsync("Users/.search", $$"""
            {
              "schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
              "attributes":["userName","title"],
              "filter":"userName sw \"{{prefix}}.\" and title pr",
              "sortBy":"title",
              "sortOrder":"descending",
              "startIndex":1,
              "count":2
            }
            """);
        var list = await response.ShouldBeScimAsync(200);
        list["totalResults"]!.GetValue<int>().ShouldBe(4);
        Names(list, prefix).ShouldBe(["Adam", "eve+"]);
        list["Resources"]![0]!.AsObject().Select(p => p.Key).ShouldBe(["schemas", "id", "userName", "title"], ignoreOrder: true);
        await (await scim.PostAsync("Users/.search", """{"filter":"title pr"}""")).ShouldBeScimErrorAsync(400, "invalidSyntax");
    }

    [Fact]
    public async Task Groups_list_filter_and_exclude_members()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var all = await (await scim.GetAsync("Groups?sortBy=displayName")).ShouldBeScimAsync(200);
        all["Resources"]!.AsArray().Select(g => g!["displayName"]!.GetValue<string>()).ShouldBe(["admin", "clinician", "developer", "patient"]);
        var alice = (await ListAsync(scim, "filter=" + Uri.EscapeDataString("userName eq \"alice\"")))["Resources"]![0]!["id"]!.GetValue<string>();

        var hers = await (await scim.GetAsync("Groups?filter=" + Uri.EscapeDataString($"members[value eq \"{alice}\"]"))).ShouldBeScimAsync(200);
        hers["Resources"]!.AsArray().Select(g => g!["displayName"]!.GetValue<string>()).ShouldBe(["patient"]);

        var slim = await (await scim.GetAsync("Groups?excludedAttributes=members")).ShouldBeScimAsync(200);
        slim["Resources"]!.AsArray().ShouldAllBe(g => g!["members"] == null);
        slim["Resources"]!.AsArray().ShouldAllBe(g => g!["meta"]!["version"] != null);
    }
}
