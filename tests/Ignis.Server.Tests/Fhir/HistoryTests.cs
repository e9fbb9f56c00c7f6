using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

public sealed class HistoryTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Type_history_pages_newest_first_with_next_links()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await Client.CreateAsync("""{"resourceType":"Device","status":"active"}"""));

        var page1 = await (await Client.GetAsync("Device/_history?_count=2")).BodyAsync();
        page1["type"].Str().ShouldBe("history");
        page1["total"]!.GetValue<int>().ShouldBe(5);
        var entries = page1["entry"]!.AsArray();
        entries.Count.ShouldBe(2);
        entries[0]!["resource"]!["id"].Str().ShouldBe(ids[4]);
        var seen = entries.Select(e => e!["resource"]!["id"].Str()).ToList();

        var next = Link(page1, "next");
        while (next is not null)
        {
            var page = await (await Client.GetAsync(next)).BodyAsync();
            seen.AddRange(page["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()));
            next = Link(page, "next");
        }
        seen.ShouldBe(Enumerable.Reverse(ids).ToList());
    }

    [Fact]
    public async Task System_history_since_returns_only_later_changes()
    {
        await Client.CreateAsync("""{"resourceType":"Substance","code":{"text":"before"}}""");
        await Task.Delay(20);
        var since = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffzzz");
        await Task.Delay(20);
        var after = await Client.CreateAsync("""{"resourceType":"Substance","code":{"text":"after"}}""");

        var bundle = await (await Client.GetAsync($"_history?_since={Uri.EscapeDataString(since)}")).BodyAsync();
        var ids = bundle["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()).ToList();
        ids.ShouldContain(after);
        bundle["entry"]!.AsArray().ShouldAllBe(e => e!["resource"]!["code"]!["text"].Str() == "after");
    }

    [Fact]
    public async Task History_at_returns_the_version_current_at_that_time()
    {
        var id = await Client.CreateAsync("""{"resourceType":"Basic","code":{"text":"v1"}}""");
        await Task.Delay(20);
        var at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffzzz");
        await Task.Delay(20);
        await Client.SendAsync(HttpMethod.Put, $"Basic/{id}", $$$"""{"resourceType":"Basic","id":"{{{id}}}","code":{"text":"v2"}}""");

        var bundle = await (await Client.GetAsync($"Basic/{id}/_history?_at={Uri.EscapeDataString(at)}")).BodyAsync();
        var entries = bundle["entry"]!.AsArray();
        entries.Count.ShouldBe(1);
        entries[0]!["resource"]!["code"]!["text"].Str().ShouldBe("v1");
    }

    [Fact]
    public async Task Instance_history_of_an_unknown_resource_is_404()
    {
        await (await Client.GetAsync("Patient/nope/_history")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task A_malformed_since_is_400()
    {
        await (await Client.GetAsync("_history?_since=yesterday")).ShouldBeOutcomeAsync(400);
    }

    internal static string? Link(JsonNode bundle, string relation) =>
        bundle["link"]?.AsArray().FirstOrDefault(l => l!["relation"].Str() == relation)?["url"].Str();
}
