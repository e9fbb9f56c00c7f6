using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

public sealed class BundleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Transaction_resolves_urn_uuid_references_and_answers_in_request_order()
    {
        var bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"}},"request":{"method":"POST","url":"Observation"}},
          {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Patient","name":[{"family":"Urn"}]},"request":{"method":"POST","url":"Patient"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var result = await response.BodyAsync();
        result["type"].Str().ShouldBe("transaction-response");
        var entries = result["entry"]!.AsArray();
        entries[0]!["response"]!["status"].Str().ShouldStartWith("201");
        entries[0]!["response"]!["location"].Str().ShouldStartWith("Observation/");
        var patientLocation = entries[1]!["response"]!["location"].Str();
        patientLocation.ShouldStartWith("Patient/");
        var patientId = patientLocation.Split('/')[1];

        var observation = entries[0]!["resource"]!;
        observation["subject"]!["reference"].Str().ShouldBe($"Patient/{patientId}");

        // The search index holds the rewritten reference, not the urn:uuid the entry arrived with.
        var found = await (await Client.GetAsync($"Observation?subject=Patient/{patientId}")).BodyAsync();
        found["entry"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_transaction_with_return_minimal_answers_its_response_bundle_without_the_resources()
    {
        var bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:0b8e4bd4-6a43-4bb9-9b43-0a4ab35f2e71","resource":{"resourceType":"Patient","name":[{"family":"Minimal"}]},"request":{"method":"POST","url":"Patient"}}
        ]}
        """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(bundle, System.Text.Encoding.UTF8, "application/fhir+json") };
        request.Headers.Add("Prefer", "return=minimal");
        var response = await Client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var result = await response.BodyAsync();
        result["type"].Str().ShouldBe("transaction-response");
        var entry = result["entry"]!.AsArray().Single()!;
        entry["response"]!["status"].Str().ShouldStartWith("201");
        entry["response"]!["location"].Str().ShouldStartWith("Patient/");
        entry["response"]!["etag"].Str().ShouldBe("W/\"1\"");
        entry["resource"].ShouldBeNull();
    }

    [Fact]
    public async Task Transaction_indexes_conditional_references_as_the_resource_they_resolve_to()
    {
        var marker = Guid.NewGuid().ToString("N");
        var patient = await Client.CreateAsync($$"""{"resourceType":"Patient","identifier":[{"system":"urn:test","value":"{{marker}}"}]}""");
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=urn:test|{{{marker}}}"}},"request":{"method":"POST","url":"Observation"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var found = await (await Client.GetAsync($"Observation?subject=Patient/{patient}")).BodyAsync();
        found["entry"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_failing_transaction_stores_nothing()
    {
        var marker = Guid.NewGuid().ToString("N");
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"tx-{{{marker}}}","name":[{"family":"Atomic"}]},"request":{"method":"PUT","url":"Patient/tx-{{{marker}}}"}},
          {"resource":{"resourceType":"Patient","gender":"not-a-gender"},"request":{"method":"POST","url":"Patient"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        await response.ShouldBeOutcomeAsync(400);
        await (await Client.GetAsync($"Patient/tx-{marker}")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task A_transaction_entry_that_fails_at_run_time_rolls_back_the_earlier_entries()
    {
        var marker = Guid.NewGuid().ToString("N");
        var existing = await Client.CreateAsync("""{"resourceType":"Patient"}""");
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"rb-{{{marker}}}"},"request":{"method":"PUT","url":"Patient/rb-{{{marker}}}"}},
          {"resource":{"resourceType":"Patient","id":"{{{existing}}}"},"request":{"method":"PUT","url":"Patient/{{{existing}}}","ifMatch":"W/\"7\""}}
        ]}
        """;
        await (await Client.PostAsync("", bundle)).ShouldBeOutcomeAsync(412);
        await (await Client.GetAsync($"Patient/rb-{marker}")).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task Transaction_runs_deletes_before_creates_before_updates_before_reads()
    {
        var doomed = await Client.CreateAsync("""{"resourceType":"Patient","name":[{"family":"Doomed"}]}""");
        var marker = Guid.NewGuid().ToString("N");
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"request":{"method":"GET","url":"Patient/upd-{{{marker}}}"}},
          {"resource":{"resourceType":"Patient","id":"upd-{{{marker}}}","name":[{"family":"Put"}]},"request":{"method":"PUT","url":"Patient/upd-{{{marker}}}"}},
          {"resource":{"resourceType":"Patient","name":[{"family":"Posted"}]},"request":{"method":"POST","url":"Patient"}},
          {"request":{"method":"DELETE","url":"Patient/{{{doomed}}}"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var entries = (await response.BodyAsync())["entry"]!.AsArray();
        entries[0]!["response"]!["status"].Str().ShouldStartWith("200"); // the GET saw the PUT made in the same transaction
        entries[0]!["resource"]!["name"]![0]!["family"].Str().ShouldBe("Put");
        entries[1]!["response"]!["status"].Str().ShouldStartWith("201");
        entries[2]!["response"]!["status"].Str().ShouldStartWith("201");
        entries[3]!["response"]!["status"].Str().ShouldStartWith("204");
        await (await Client.GetAsync($"Patient/{doomed}")).ShouldBeOutcomeAsync(410);
    }

    [Fact]
    public async Task Transaction_touching_the_same_resource_twice_is_400()
    {
        var bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"twice"},"request":{"method":"PUT","url":"Patient/twice"}},
          {"request":{"method":"DELETE","url":"Patient/twice"}}
        ]}
        """;
        await (await Client.PostAsync("", bundle)).ShouldBeOutcomeAsync(400);
    }

    [Fact]
    public async Task Transaction_with_a_dangling_urn_uuid_reference_is_400()
    {
        var bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:00000000-0000-0000-0000-000000000000"}},"request":{"method":"POST","url":"Observation"}}
        ]}
        """;
        await (await Client.PostAsync("", bundle)).ShouldBeOutcomeAsync(400);
    }

    [Fact]
    public async Task Batch_entries_succeed_or_fail_on_their_own()
    {
        var bundle = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","name":[{"family":"Batch"}]},"request":{"method":"POST","url":"Patient"}},
          {"request":{"method":"GET","url":"Patient/does-not-exist"}},
          {"request":{"method":"GET","url":"metadata"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var entries = (await response.BodyAsync())["entry"]!.AsArray();
        entries[0]!["response"]!["status"].Str().ShouldStartWith("201");
        entries[1]!["response"]!["status"].Str().ShouldStartWith("404");
        entries[1]!["response"]!["outcome"]!["resourceType"].Str().ShouldBe("OperationOutcome");
    }

    [Fact]
    public async Task A_bundle_that_is_neither_batch_nor_transaction_is_400()
    {
        await (await Client.PostAsync("", """{"resourceType":"Bundle","type":"collection"}""")).ShouldBeOutcomeAsync(400);
        await (await Client.PostAsync("", """{"resourceType":"Patient"}""")).ShouldBeOutcomeAsync(400);
    }
}
