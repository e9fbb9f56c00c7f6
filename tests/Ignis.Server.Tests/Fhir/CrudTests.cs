using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

public sealed class CrudTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    private const string Patient = """{"resourceType":"Patient","name":[{"family":"Chalmers","given":["Peter"]}],"gender":"male","birthDate":"1974-12-25"}""";

    [Fact]
    public async Task Create_assigns_an_id_and_returns_location_etag_and_last_modified()
    {
        var response = await Client.PostAsync("Patient", """{"resourceType":"Patient","id":"client-chosen","active":true}""");
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.BodyAsync();
        var id = body["id"].Str();
        id.ShouldNotBe("client-chosen");
        response.Headers.Location!.ToString().ShouldBe($"{fixture.Server.FhirBase}/Patient/{id}/_history/1");
        response.Headers.ETag!.ToString().ShouldBe("W/\"1\"");
        response.Content.Headers.LastModified.ShouldNotBeNull();
        body["meta"]!["versionId"].Str().ShouldBe("1");
    }

    [Fact]
    public async Task Read_returns_the_stored_resource_with_its_version_headers()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await Client.GetAsync($"Patient/{id}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+json");
        response.Headers.ETag!.ToString().ShouldBe("W/\"1\"");
        var body = await response.BodyAsync();
        body["name"]![0]!["family"].Str().ShouldBe("Chalmers");
    }

    [Fact]
    public async Task Read_of_an_unknown_resource_is_404_with_an_outcome()
    {
        await (await Client.GetAsync("Patient/does-not-exist")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task Read_of_an_unknown_type_is_404_with_an_outcome()
    {
        await (await Client.GetAsync("Spaceship/1")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task Read_with_a_matching_If_None_Match_is_304()
    {
        var id = await Client.CreateAsync(Patient);
        var response = await Client.SendAsync(HttpMethod.Get, $"Patient/{id}", null, ("If-None-Match", "W/\"1\""));
        response.StatusCode.ShouldBe(HttpStatusCode.NotModified);
    }

    [Fact]
    public async Task Update_creates_a_new_version_and_vread_returns_each_version()
    {
        var id = await Client.CreateAsync(Patient);
        var update = await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", $$"""{"resourceType":"Patient","id":"{{id}}","gender":"female"}""");
        update.StatusCode.ShouldBe(HttpStatusCode.OK);
        update.Headers.ETag!.ToString().ShouldBe("W/\"2\"");

        var v1 = await (await Client.GetAsync($"Patient/{id}/_history/1")).BodyAsync();
        v1["gender"].Str().ShouldBe("male");
        var v2 = await (await Client.GetAsync($"Patient/{id}/_history/2")).BodyAsync();
        v2["gender"].Str().ShouldBe("female");
        await (await Client.GetAsync($"Patient/{id}/_history/3")).ShouldBeOutcomeAsync(404);
        await (await Client.GetAsync($"Patient/{id}/_history/abc")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task Update_of_an_unknown_id_creates_the_resource()
    {
        var id = "new-" + Guid.NewGuid().ToString("N")[..8];
        var response = await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", $$"""{"resourceType":"Patient","id":"{{id}}"}""");
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await (await Client.GetAsync($"Patient/{id}")).BodyAsync())["id"].Str().ShouldBe(id);
    }

    [Fact]
    public async Task Update_with_a_stale_If_Match_is_412_and_changes_nothing()
    {
        var id = await Client.CreateAsync(Patient);
        var body = $$"""{"resourceType":"Patient","id":"{{id}}","gender":"other"}""";
        (await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", body, ("If-Match", "W/\"1\""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", body, ("If-Match", "W/\"1\""))).ShouldBeOutcomeAsync(412);
        (await Client.GetAsync($"Patient/{id}")).Headers.ETag!.ToString().ShouldBe("W/\"2\"");
    }

    [Fact]
    public async Task Update_whose_body_id_differs_from_the_url_is_400()
    {
        var id = await Client.CreateAsync(Patient);
        await (await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", """{"resourceType":"Patient","id":"other"}""")).ShouldBeOutcomeAsync(400);
        await (await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", """{"resourceType":"Patient"}""")).ShouldBeOutcomeAsync(400);
    }

    [Fact]
    public async Task A_body_of_another_type_than_the_url_is_400()
    {
        await (await Client.PostAsync("Observation", Patient)).ShouldBeOutcomeAsync(400);
        await (await Client.SendAsync(HttpMethod.Put, "Observation/x1", """{"resourceType":"Patient","id":"x1"}""")).ShouldBeOutcomeAsync(400);
    }

    [Fact]
    public async Task Delete_keeps_history_and_read_afterwards_is_410()
    {
        var id = await Client.CreateAsync(Patient);
        var delete = await Client.DeleteAsync($"Patient/{id}");
        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await Client.GetAsync($"Patient/{id}")).ShouldBeOutcomeAsync(410);
        (await Client.GetAsync($"Patient/{id}/_history/1")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var history = await (await Client.GetAsync($"Patient/{id}/_history")).BodyAsync();
        history["total"]!.GetValue<int>().ShouldBe(2);
        history["entry"]![0]!["request"]!["method"].Str().ShouldBe("DELETE");
        (await Client.DeleteAsync($"Patient/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var recreate = await Client.SendAsync(HttpMethod.Put, $"Patient/{id}", $$"""{"resourceType":"Patient","id":"{{id}}"}""");
        recreate.StatusCode.ShouldBe(HttpStatusCode.Created);
        recreate.Headers.ETag!.ToString().ShouldBe("W/\"3\"");
    }

    [Fact]
    public async Task Json_patch_changes_the_resource_and_makes_a_new_version()
    {
        var id = await Client.CreateAsync(Patient);
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"Patient/{id}")
        {
            Content = Http.Json("""[{"op":"replace","path":"/gender","value":"female"},{"op":"add","path":"/active","value":true}]""", "application/json-patch+json"),
        };
        var response = await Client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.BodyAsync();
        body["gender"].Str().ShouldBe("female");
        body["active"]!.GetValue<bool>().ShouldBeTrue();
        body["meta"]!["versionId"].Str().ShouldBe("2");
    }

    [Fact]
    public async Task Json_patch_that_makes_the_resource_invalid_is_rejected_and_stores_nothing()
    {
        var id = await Client.CreateAsync(Patient);
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"Patient/{id}")
        {
            Content = Http.Json("""[{"op":"replace","path":"/gender","value":"robot"}]""", "application/json-patch+json"),
        };
        await (await Client.SendAsync(request)).ShouldBeOutcomeAsync(400);
        (await Client.GetAsync($"Patient/{id}")).Headers.ETag!.ToString().ShouldBe("W/\"1\"");
    }

    [Fact]
    public async Task Prefer_return_minimal_sends_no_body_and_operation_outcome_sends_an_outcome()
    {
        var minimal = await Client.PostAsync("Patient", Patient, ("Prefer", "return=minimal"));
        minimal.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await minimal.Content.ReadAsStringAsync()).ShouldBeEmpty();
        minimal.Headers.Location.ShouldNotBeNull();

        var outcome = await Client.PostAsync("Patient", Patient, ("Prefer", "return=OperationOutcome"));
        outcome.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await outcome.BodyAsync())["resourceType"].Str().ShouldBe("OperationOutcome");
    }

    [Fact]
    public async Task Xml_bodies_are_accepted_and_xml_is_returned_when_asked()
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "Patient")
        {
            Content = new StringContent("""<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>""", System.Text.Encoding.UTF8, "application/fhir+xml"),
        };
        create.Headers.Accept.Add(Http.Accept("application/fhir+xml"));
        var response = await Client.SendAsync(create);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+xml");
        var xml = await response.Content.ReadAsStringAsync();
        xml.ShouldContain("<gender value=\"female\"");

        var id = response.Headers.Location!.Segments[^3].TrimEnd('/');
        var viaFormat = await Client.GetAsync($"Patient/{id}?_format=xml");
        viaFormat.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+xml");
        var viaJson = await Client.GetAsync($"Patient/{id}?_format=json");
        viaJson.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+json");
    }

    [Fact]
    public async Task An_unsupported_accept_is_406_and_an_unsupported_content_type_is_415()
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "metadata");
        get.Headers.Accept.Add(Http.Accept("text/plain"));
        await (await Client.SendAsync(get)).ShouldBeOutcomeAsync(406);

        await (await Client.PostAsync("Patient", Http.Json(Patient, "text/plain"))).ShouldBeOutcomeAsync(415);
    }

    [Fact]
    public async Task Summary_and_elements_shape_a_read()
    {
        var id = await Client.CreateAsync("""{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"gender":"male","birthDate":"2000-01-01"}""");
        var elements = await (await Client.GetAsync($"Patient/{id}?_elements=gender")).BodyAsync();
        elements["gender"].Str().ShouldBe("male");
        elements["birthDate"].ShouldBeNull();
        var text = await (await Client.GetAsync($"Patient/{id}?_summary=text")).BodyAsync();
        text["text"].ShouldNotBeNull();
        text["birthDate"].ShouldBeNull();
    }

    [Fact]
    public async Task Concurrent_updates_with_the_same_If_Match_let_exactly_one_win()
    {
        var id = await Client.CreateAsync(Patient);
        var body = $$"""{"resourceType":"Patient","id":"{{id}}","active":true}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Client.SendAsync(HttpMethod.Put, $"Patient/{id}", body, ("If-Match", "W/\"1\""))));
        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed).ShouldBe(7);
    }

    [Fact]
    public async Task Concurrent_blind_updates_each_get_their_own_version()
    {
        var id = await Client.CreateAsync(Patient);
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Client.SendAsync(HttpMethod.Put, $"Patient/{id}", $$"""{"resourceType":"Patient","id":"{{id}}","birthDate":"19{{i + 10}}-01-01"}""")));
        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.OK);
        responses.Select(r => r.Headers.ETag!.ToString()).Distinct().Count().ShouldBe(10);
        var history = await (await Client.GetAsync($"Patient/{id}/_history?_count=50")).BodyAsync();
        history["total"]!.GetValue<int>().ShouldBe(11);
    }
}
