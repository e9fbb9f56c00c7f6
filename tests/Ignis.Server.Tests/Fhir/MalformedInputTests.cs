using System.Text;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

/// <summary>No client input may produce a 500: every row of this corpus must get a 4xx OperationOutcome.</summary>
public sealed class MalformedInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    private static readonly string Deep = new string('[', 5000) + new string(']', 5000);
    private static readonly string DeepObject = string.Concat(Enumerable.Repeat("{\"a\":", 3000)) + "1" + new string('}', 3000);
    private static readonly string HugeString = new('x', 2_000_000);

    public static TheoryData<string, string, string?, string?> Corpus => new()
    {
        { "POST", "Patient", """{"resourceType":"Patient","name":[{"family":"Trunc""", "application/fhir+json" },
        { "POST", "Patient", "", "application/fhir+json" },
        { "POST", "Patient", "null", "application/fhir+json" },
        { "POST", "Patient", "[]", "application/fhir+json" },
        { "POST", "Patient", "\"just a string\"", "application/fhir+json" },
        { "POST", "Patient", """{"name":[{"family":"NoType"}]}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Patient","birthDate":"1999-02-30"}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Patient","birthDate":"yesterday"}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Patient","active":"yes"}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Patient","unknownElement":1}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Patient","gender":"robot"}""", "application/fhir+json" },
        { "POST", "Patient", """{"resourceType":"Spaceship"}""", "application/fhir+json" },
        { "POST", "Patient", "{\"resourceType\":\"Patient\",\"name\":" + Deep + "}", "application/fhir+json" },
        { "POST", "Patient", "{\"resourceType\":\"Patient\",\"extension\":[" + DeepObject + "]}", "application/fhir+json" },
        { "POST", "Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + HugeString + "\"}],\"gender\":7}", "application/fhir+json" },
        { "POST", "Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"female\"/>", "application/fhir+xml" },
        { "POST", "Patient", "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&b;\"/></Patient>", "application/fhir+xml" },
        { "POST", "Patient", "<Observation xmlns=\"http://hl7.org/fhir\"/>", "application/fhir+xml" },
        { "POST", "Patient", "\u00ff\u00fe\u0000garbage", "application/fhir+json" },
        { "PUT", "Patient/a%20b", """{"resourceType":"Patient","id":"a b"}""", "application/fhir+json" },
        { "PUT", "Patient/" + new string('x', 65), "{\"resourceType\":\"Patient\",\"id\":\"" + new string('x', 65) + "\"}", "application/fhir+json" },
        { "PUT", "Patient/p1", """{"resourceType":"Patient","id":"p2"}""", "application/fhir+json" },
        { "GET", "Patient/1'%20OR%20'1'='1", null, null },
        { "GET", "Spaceship", null, null },
        { "GET", "Spaceship/1", null, null },
        { "GET", "Patient/x/_history/-1", null, null },
        { "GET", "_history?_count=-5", null, null },
        { "GET", "_history?_since=2020-13-45", null, null },
        { "GET", "_history?_count=abc", null, null },
        { "DELETE", "Patient", null, null },
        { "POST", "", """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST"}}]}""", "application/fhir+json" },
        { "POST", "", """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Spaceship"},"resource":{"resourceType":"Patient"}}]}""", "application/fhir+json" },
        { "POST", "", """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"http://elsewhere.example/fhir/Patient"},"resource":{"resourceType":"Patient"}}]}""", "application/fhir+json" },
        { "POST", "", """{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"Patient/x"}}]}""", "application/fhir+json" },
        { "PATCH", "Patient/none", """[{"op":"replace","path":"/gender","value":"male"}]""", "application/json-patch+json" },
        { "POST", "Patient/x/y/z/w", "{}", "application/fhir+json" },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Malformed_requests_get_a_4xx_operation_outcome(string method, string url, string? body, string? contentType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType ?? "application/fhir+json");
        var response = await Client.SendAsync(request);
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        status.ShouldBeInRange(400, 499, text.Length > 500 ? text[..500] : text);
        text.ShouldContain("OperationOutcome");
    }

    [Fact]
    public async Task Json_patch_errors_are_4xx()
    {
        var id = await Client.CreateAsync("""{"resourceType":"Patient"}""");
        string[] patches =
        [
            "not json",
            "{}",
            """[{"op":"explode","path":"/x"}]""",
            """[{"op":"remove","path":"/nothing/here"}]""",
            """[{"op":"replace","path":"/id","value":"other"}]""",
            """[{"op":"test","path":"/resourceType","value":"Observation"}]""",
            """[{"op":"add","path":"no-slash","value":1}]""",
            """[{"op":"remove","path":""}]""",
        ];
        foreach (var patch in patches)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"Patient/{id}")
            {
                Content = new StringContent(patch, Encoding.UTF8, "application/json-patch+json"),
            };
            var response = await Client.SendAsync(request);
            ((int)response.StatusCode).ShouldBeInRange(400, 499, patch);
        }
        (await Client.GetAsync($"Patient/{id}")).Headers.ETag!.ToString().ShouldBe("W/\"1\"");
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_413()
    {
        await using var server = await IgnisServer.StartAsync(IgnisServer.Open, "--Ignis:Fhir:MaxBodyBytes=2000");
        var body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + new string('x', 5000) + "\"}]}";
        var response = await server.Client.PostAsync("Patient", Http.Json(body));
        await response.ShouldBeOutcomeAsync(413);
    }
}
