using System.Net;
using System.Text;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

public sealed class FhirPathPatchHttpTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    private const string Patient = """{"resourceType":"Patient","identifier":[{"system":"http://a","value":"1"},{"system":"http://b","value":"2"}],"name":[{"family":"Chalmers","given":["Peter"]}],"gender":"male","birthDate":"1974-12-25"}""";

    private static string Operation(string type, string path, string extraParts = "") =>
        $$"""{"name":"operation","part":[{"name":"type","valueCode":"{{type}}"},{"name":"path","valueString":"{{path}}"}{{extraParts}}]}""";

    private static string Patch(params string[] operations) =>
        $$"""{"resourceType":"Parameters","parameter":[{{string.Join(",", operations)}}]}""";

    private async Task<HttpResponseMessage> PatchAsync(string url, string body, string mime = Http.FhirJson, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = new StringContent(body, Encoding.UTF8, mime) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await Client.SendAsync(request);
    }

    private async Task ShouldStillBeVersion1Async(string id) =>
        (await Client.GetAsync($"Patient/{id}")).Headers.ETag!.ToString().ShouldBe("W/\"1\"");

    [Fact]
    public async Task Fhirpath_patch_changes_the_resource_and_makes_a_new_version()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await PatchAsync($"Patient/{id}", Patch(
            Operation("replace", "Patient.gender", """,{"name":"value","valueCode":"female"}"""),
            Operation("add", "Patient", """,{"name":"name","valueString":"active"},{"name":"value","valueBoolean":true}"""),
            Operation("insert", "Patient.identifier", """,{"name":"value","valueIdentifier":{"system":"http://z","value":"0"}},{"name":"index","valueInteger":0}"""),
            Operation("delete", "Patient.birthDate")));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Headers.ETag!.ToString().ShouldBe("W/\"2\"");
        var body = await response.BodyAsync();
        body["meta"]!["versionId"].Str().ShouldBe("2");
        body["gender"].Str().ShouldBe("female");
        body["active"]!.GetValue<bool>().ShouldBeTrue();
        body["identifier"]!.AsArray().Select(i => i!["system"].Str()).ShouldBe(["http://z", "http://a", "http://b"]);
        body["birthDate"].ShouldBeNull();

        var read = await (await Client.GetAsync($"Patient/{id}")).BodyAsync();
        read["gender"].Str().ShouldBe("female");
        var v1 = await (await Client.GetAsync($"Patient/{id}/_history/1")).BodyAsync();
        v1["gender"].Str().ShouldBe("male");
    }

    [Fact]
    public async Task Fhirpath_patch_is_accepted_as_xml()
    {
        var id = await Client.CreateAsync(Patient);
        const string xml = """
            <Parameters xmlns="http://hl7.org/fhir">
              <parameter>
                <name value="operation"/>
                <part><name value="type"/><valueCode value="move"/></part>
                <part><name value="path"/><valueString value="Patient.identifier"/></part>
                <part><name value="source"/><valueInteger value="1"/></part>
                <part><name value="destination"/><valueInteger value="0"/></part>
              </parameter>
            </Parameters>
            """;
        var response = await PatchAsync($"Patient/{id}", xml, "application/fhir+xml");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.BodyAsync();
        body["identifier"]!.AsArray().Select(i => i!["system"].Str()).ShouldBe(["http://b", "http://a"]);
    }

    [Fact]
    public async Task Malformed_fhirpath_patch_is_400_and_stores_nothing()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await PatchAsync($"Patient/{id}", Patch(
            Operation("delete", "Patient.birthDate"),
            """{"name":"operation","part":[{"name":"path","valueString":"Patient.gender"}]}"""));
        await response.ShouldBeOutcomeAsync(400);
        var outcome = await (await PatchAsync($"Patient/{id}", Patch(Operation("upsert", "Patient.gender")))).BodyAsync();
        outcome["issue"]![0]!["expression"]![0].Str().ShouldBe("Parameters.parameter[0]");
        await ShouldStillBeVersion1Async(id);
    }

    [Fact]
    public async Task Fhirpath_patch_that_does_not_fit_the_resource_is_422_and_stores_nothing()
    {
        var id = await Client.CreateAsync(Patient);
        var several = await PatchAsync($"Patient/{id}", Patch(Operation("replace", "Patient.identifier.system", """,{"name":"value","valueUri":"http://x"}""")));
        await several.ShouldBeOutcomeAsync(422);
        var wrongType = await PatchAsync($"Patient/{id}", Patch(Operation("replace", "Patient.birthDate", """,{"name":"value","valueBoolean":true}""")));
        await wrongType.ShouldBeOutcomeAsync(422);
        await ShouldStillBeVersion1Async(id);
    }

    [Fact]
    public async Task Fhirpath_patch_may_not_change_the_id()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await PatchAsync($"Patient/{id}", Patch(Operation("replace", "Patient.id", """,{"name":"value","valueId":"other"}""")));
        await response.ShouldBeOutcomeAsync(422);
        await ShouldStillBeVersion1Async(id);
    }

    [Fact]
    public async Task Deleting_every_child_of_an_element_leaves_no_empty_element_behind()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await PatchAsync($"Patient/{id}", Patch(
            Operation("delete", "Patient.name[0].family"),
            Operation("delete", "Patient.name[0].given")));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await (await Client.GetAsync($"Patient/{id}")).BodyAsync())["name"].ShouldBeNull();
    }

    [Fact]
    public async Task A_patch_body_of_another_resource_type_is_415()
    {
        var id = await Client.CreateAsync(Patient);
        await (await PatchAsync($"Patient/{id}", """{"resourceType":"Patient","gender":"female"}""")).ShouldBeOutcomeAsync(415);
        await ShouldStillBeVersion1Async(id);
    }

    [Fact]
    public async Task Conditional_fhirpath_patch_patches_the_single_match()
    {
        var marker = Guid.NewGuid().ToString("N");
        var id = await Client.CreateAsync($$"""{"resourceType":"Patient","identifier":[{"system":"http://cond","value":"{{marker}}"}]}""");
        var response = await PatchAsync($"Patient?identifier=http://cond|{marker}", Patch(
            Operation("add", "Patient", """,{"name":"name","valueString":"gender"},{"name":"value","valueCode":"other"}""")));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await (await Client.GetAsync($"Patient/{id}")).BodyAsync())["gender"].Str().ShouldBe("other");
    }

    [Fact]
    public async Task Transaction_applies_a_fhirpath_patch_entry_with_references_to_other_entries_resolved()
    {
        var id = await Client.CreateAsync(Patient);
        var patch = Patch(Operation("add", "Patient", """,{"name":"name","valueString":"generalPractitioner"},{"name":"value","valueReference":{"reference":"urn:uuid:2d5c7a9e-31b8-4f5e-9a3c-0e4b6f1d8a27"}}"""));
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{{{patch}}},"request":{"method":"PATCH","url":"Patient/{{{id}}}"}},
          {"fullUrl":"urn:uuid:2d5c7a9e-31b8-4f5e-9a3c-0e4b6f1d8a27","resource":{"resourceType":"Practitioner","name":[{"family":"Gp"}]},"request":{"method":"POST","url":"Practitioner"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var entries = (await response.BodyAsync())["entry"]!.AsArray();
        entries[0]!["response"]!["status"].Str().ShouldStartWith("200");
        entries[0]!["response"]!["etag"].Str().ShouldBe("W/\"2\"");
        var practitioner = entries[1]!["response"]!["location"].Str().Split('/')[1];

        var read = await (await Client.GetAsync($"Patient/{id}")).BodyAsync();
        read["generalPractitioner"]![0]!["reference"].Str().ShouldBe($"Practitioner/{practitioner}");
    }

    [Fact]
    public async Task Transaction_with_a_failing_fhirpath_patch_stores_nothing()
    {
        var id = await Client.CreateAsync(Patient);
        var marker = Guid.NewGuid().ToString("N");
        var patch = Patch(Operation("replace", "Patient.telecom", """,{"name":"value","valueContactPoint":{"system":"phone","value":"1"}}"""));
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"fp-{{{marker}}}"},"request":{"method":"PUT","url":"Patient/fp-{{{marker}}}"}},
          {"resource":{{{patch}}},"request":{"method":"PATCH","url":"Patient/{{{id}}}"}}
        ]}
        """;
        await (await Client.PostAsync("", bundle)).ShouldBeOutcomeAsync(422);
        await (await Client.GetAsync($"Patient/fp-{marker}")).ShouldBeOutcomeAsync(404);
        await ShouldStillBeVersion1Async(id);
    }

    [Fact]
    public async Task Metadata_advertises_fhirpath_patch_formats()
    {
        var cs = await (await Client.GetAsync("metadata")).BodyAsync();
        cs["patchFormat"]!.AsArray().Select(f => f.Str())
            .ShouldBe(["application/json-patch+json", "application/fhir+json", "application/fhir+xml"], ignoreOrder: true);
    }
}
