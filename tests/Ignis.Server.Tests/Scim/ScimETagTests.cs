using System.Net;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>RFC 7644 §3.14: weak ETags on every resource; If-Match on writes, If-None-Match on reads.</summary>
public sealed class ScimETagTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Writes_with_the_current_version_succeed_and_each_gives_a_new_one()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync("e" + Guid.NewGuid().ToString("N")[..10], null);
        var id = user["id"]!.GetValue<string>();
        var v1 = user["meta"]!["version"]!.GetValue<string>();

        var patched = await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"add","path":"title","value":"A"}"""), ("If-Match", v1));
        var v2 = (await patched.ShouldBeScimAsync(200))["meta"]!["version"]!.GetValue<string>();
        v2.ShouldNotBe(v1);
        patched.Headers.ETag!.ToString().ShouldBe(v2);

        // The old version is stale now.
        await (await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"add","path":"title","value":"B"}"""), ("If-Match", v1))).ShouldBeScimErrorAsync(412);

        // A strong form of the same tag, a list containing it, and * all match.
        var put = await scim.PutAsync($"Users/{id}", $$"""{"schemas":["{{ScimClient.UserUrn}}"],"userName":"{{user["userName"]}}","title":"C"}""",
            ("If-Match", $"\"nope\", {v2[2..]}"));
        var v3 = (await put.ShouldBeScimAsync(200))["meta"]!["version"]!.GetValue<string>();
        var star = await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"add","path":"title","value":"D"}"""), ("If-Match", "*"));
        var v4 = (await star.ShouldBeScimAsync(200))["meta"]!["version"]!.GetValue<string>();
        new[] { v1, v2, v3, v4 }.Distinct().Count().ShouldBe(4);

        ((int)(await scim.DeleteAsync($"Users/{id}", ("If-Match", v4))).StatusCode).ShouldBe(204);
    }

    [Fact]
    public async Task A_read_with_the_current_version_in_If_None_Match_is_304()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var user = await scim.CreateUserAsync("n" + Guid.NewGuid().ToString("N")[..10], null);
        var id = user["id"]!.GetValue<string>();
        var version = user["meta"]!["version"]!.GetValue<string>();
        var same = await scim.GetAsync($"Users/{id}", ("If-None-Match", version));
        same.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        same.Headers.ETag!.ToString().ShouldBe(version);
        await scim.PatchAsync($"Users/{id}", ScimClient.Patch("""{"op":"add","path":"title","value":"A"}"""));
        (await scim.GetAsync($"Users/{id}", ("If-None-Match", version))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Groups_carry_versions_that_change_with_their_members()
    {
        using var scim = await ScimClient.ForBackendAsync(Server);
        var group = await ScimRfcExampleTests.GroupAsync(scim, "clinician");
        var id = group["id"]!.GetValue<string>();
        var response = await scim.GetAsync($"Groups/{id}");
        var version = response.Headers.ETag!.ToString();
        version.ShouldBe(group["meta"]!["version"]!.GetValue<string>());
        group["meta"]!["resourceType"]!.GetValue<string>().ShouldBe("Group");
        group["meta"]!["location"]!.GetValue<string>().ShouldBe($"{scim.BaseUrl}/Groups/{id}");
        group["meta"]!["created"].ShouldNotBeNull();

        var user = await scim.CreateUserAsync("g" + Guid.NewGuid().ToString("N")[..10], null);
        await (await scim.PatchAsync($"Groups/{id}", ScimClient.Patch($$"""{"op":"add","path":"members","value":[{"value":"{{user["id"]}}"}]}"""),
            ("If-Match", "W/\"12345\""))).ShouldBeScimErrorAsync(412);
        var added = await scim.PatchAsync($"Groups/{id}", ScimClient.Patch($$"""{"op":"add","path":"members","value":[{"value":"{{user["id"]}}"}]}"""),
            ("If-Match", version));
        var newVersion = (await added.ShouldBeScimAsync(200))["meta"]!["version"]!.GetValue<string>();
        newVersion.ShouldNotBe(version);
        // Adding the same member again changes nothing.
        var again = await scim.PatchAsync($"Groups/{id}", ScimClient.Patch($$"""{"op":"add","path":"members","value":[{"value":"{{user["id"]}}"}]}"""));
        (await again.ShouldBeScimAsync(200))["meta"]!["version"]!.GetValue<string>().ShouldBe(newVersion);
        // So does a member that does not exist: it is refused.
        await (await scim.PatchAsync($"Groups/{id}", ScimClient.Patch("""{"op":"add","path":"members","value":[{"value":"no-such-user"}]}""")))
            .ShouldBeScimErrorAsync(400, "invalidValue");
    }
}
