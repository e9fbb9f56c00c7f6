using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Fhir;

/// <summary>A small clinical data set, loaded once through a transaction, searched over HTTP.</summary>
public sealed class SearchFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await IgnisServer.StartAsync(IgnisServer.Open);
        var entries = new List<string>
        {
            Put("Patient", "p-smith", """{"name":[{"family":"Smith","given":["Anna"]}],"gender":"female","birthDate":"1980-05-17","identifier":[{"system":"http://mrn.example","value":"A100","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}}]}"""),
            Put("Patient", "p-smythe", """{"name":[{"family":"Smythe","given":["Bo"]}],"gender":"male","birthDate":"1992-11-02","identifier":[{"system":"http://mrn.example","value":"A200"}]}"""),
            Put("Patient", "p-muller", """{"name":[{"family":"Müller","given":["Jürgen"]}],"gender":"male","birthDate":"1955","active":true}"""),
            Put("Practitioner", "dr-who", """{"name":[{"family":"Who"}]}"""),
            Obs("o-bp-1", "p-smith", "vital-signs", "85354-9", "2021-03-01T10:00:00Z", null, [("8480-6", 128), ("8462-4", 82)]),
            Obs("o-bp-2", "p-smith", "vital-signs", "85354-9", "2022-03-01T10:00:00Z", null, [("8480-6", 141), ("8462-4", 91)]),
            Obs("o-hr-1", "p-smith", "vital-signs", "8867-4", "2019-07-01T10:00:00Z", (72, "/min"), []),
            Obs("o-glu-1", "p-smith", "laboratory", "2339-0", "2020-01-15T08:00:00Z", (105, "mg/dL"), []),
            Obs("o-glu-2", "p-smythe", "laboratory", "2339-0", "2023-06-15T08:00:00Z", (88, "mg/dL"), []),
            Obs("o-hr-2", "p-smythe", "vital-signs", "8867-4", "2023-06-15T08:00:00Z", (64, "/min"), []),
            Put("Condition", "c-1", """{"subject":{"reference":"Patient/p-smith"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}],"text":"Type 2 diabetes"},"recorder":{"reference":"Practitioner/dr-who"}}"""),
            // The text is the coding's display (up to case): indexed once, on the coding's row.
            Put("Condition", "c-2", """{"subject":{"reference":"Patient/p-muller"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"59621000","display":"Essential hypertension"}],"text":"essential HYPERTENSION"}}"""),
        };
        var bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + string.Join(",", entries) + "]}";
        var response = await Server.Client.PostAsync("", Http.Json(bundle));
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException(await response.Content.ReadAsStringAsync());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private static string Put(string type, string id, string body) =>
        $$$"""{"resource":{"resourceType":"{{{type}}}","id":"{{{id}}}",{{{body[1..]}}},"request":{"method":"PUT","url":"{{{type}}}/{{{id}}}"}}""";

    private static string Obs(string id, string patient, string category, string code, string when, (decimal Value, string Unit)? value, (string Code, decimal Value)[] components)
    {
        var valueJson = value is { } v ? $$$""","valueQuantity":{"value":{{{v.Value}}},"unit":"{{{v.Unit}}}","system":"http://unitsofmeasure.org","code":"{{{v.Unit}}}"}""" : "";
        var comps = components.Length == 0 ? "" : ",\"component\":[" + string.Join(",", components.Select(c =>
            $$$"""{"code":{"coding":[{"system":"http://loinc.org","code":"{{{c.Code}}}"}]},"valueQuantity":{"value":{{{c.Value}}},"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}""")) + "]";
        return Put("Observation", id, $$$"""{"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"{{{category}}}"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"{{{code}}}"}]},"subject":{"reference":"Patient/{{{patient}}}"},"performer":[{"reference":"Practitioner/dr-who"}],"effectiveDateTime":"{{{when}}}"{{{valueJson}}}{{{comps}}}}""");
    }
}

public sealed class SearchTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private HttpClient Client => fixture.Server.Client;

    private async Task<JsonNode> Search(string query)
    {
        var response = await Client.GetAsync(query);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var bundle = JsonNode.Parse(text)!;
        bundle["resourceType"].Str().ShouldBe("Bundle");
        bundle["type"].Str().ShouldBe("searchset");
        return bundle;
    }

    private async Task<List<string>> Ids(string query, string mode = "match") =>
        ((await Search(query))["entry"]?.AsArray() ?? [])
            .Where(e => e!["search"]?["mode"]?.GetValue<string>() == mode)
            .Select(e => e!["resource"]!["id"].Str()).ToList();

    [Theory]
    [InlineData("Observation?patient=p-smith&category=vital-signs", "o-bp-1,o-bp-2,o-hr-1")]
    [InlineData("Observation?subject=Patient/p-smythe", "o-glu-2,o-hr-2")]
    [InlineData("Observation?subject:Patient=p-smythe&code=http://loinc.org|2339-0", "o-glu-2")]
    [InlineData("Observation?code=8867-4", "o-hr-1,o-hr-2")]
    [InlineData("Observation?code=http://loinc.org|", "o-bp-1,o-bp-2,o-hr-1,o-glu-1,o-glu-2,o-hr-2")]
    [InlineData("Observation?code=|8867-4", "")]
    [InlineData("Observation?category:not=vital-signs", "o-glu-1,o-glu-2")]
    [InlineData("Observation?code=http://loinc.org|8867-4,http://loinc.org|2339-0&patient=p-smythe", "o-glu-2,o-hr-2")]
    [InlineData("Observation?date=ge2022-01-01", "o-bp-2,o-glu-2,o-hr-2")]
    [InlineData("Observation?date=2021", "o-bp-1")]
    [InlineData("Observation?date=ge2020&date=lt2022", "o-bp-1,o-glu-1")]
    [InlineData("Observation?value-quantity=gt100", "o-glu-1")]
    [InlineData("Observation?value-quantity=88||mg/dL", "o-glu-2")]
    [InlineData("Observation?component-code-value-quantity=http://loinc.org|8480-6$gt135", "o-bp-2")]
    [InlineData("Observation?subject:Patient.name=smythe", "o-glu-2,o-hr-2")]
    [InlineData("Observation?subject.gender=female&code=2339-0", "o-glu-1")]
    [InlineData("Patient?name=smi", "p-smith")]
    [InlineData("Patient?name=SM", "p-smith,p-smythe")]
    [InlineData("Patient?name=muller", "p-muller")]
    [InlineData("Patient?family:exact=Smith", "p-smith")]
    [InlineData("Patient?family:exact=smith", "")]
    [InlineData("Patient?name:contains=yth", "p-smythe")]
    [InlineData("Patient?identifier=http://mrn.example|A200", "p-smythe")]
    [InlineData("Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|A100", "p-smith")]
    [InlineData("Patient?birthdate=lt1990", "p-smith,p-muller")]
    [InlineData("Patient?birthdate=1980-05", "p-smith")]
    [InlineData("Patient?gender=male&birthdate=ge1990", "p-smythe")]
    [InlineData("Patient?active:missing=false", "p-muller")]
    [InlineData("Patient?_id=p-smith,p-muller", "p-smith,p-muller")]
    [InlineData("Patient?_has:Observation:patient:code=2339-0", "p-smith,p-smythe")]
    [InlineData("Patient?_has:Observation:patient:date=ge2023", "p-smythe")]
    [InlineData("Condition?code:text=diabetes", "c-1")]
    [InlineData("Condition?code:text=hypertension", "c-2")]
    [InlineData("Condition?code:text=Essential", "c-2")]
    [InlineData("Condition?code:text=mellitus", "c-1")]
    [InlineData("Condition?code=http://snomed.info/sct|59621000", "c-2")]
    [InlineData("Patient?name=x' OR '1'='1", "")]
    [InlineData("Patient?name=%25", "")]
    public async Task Search_finds_exactly_the_matching_resources(string query, string expected)
    {
        var ids = await Ids(query);
        ids.ShouldBe(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), ignoreOrder: true, customMessage: query);
    }

    [Fact]
    public async Task Searchset_entries_have_full_urls_and_the_total_counts_all_matches()
    {
        var bundle = await Search("Observation?patient=p-smith&_count=2");
        bundle["total"]!.GetValue<int>().ShouldBe(4);
        var entries = bundle["entry"]!.AsArray();
        entries.Count.ShouldBe(2);
        entries[0]!["fullUrl"].Str().ShouldStartWith(fixture.Server.FhirBase + "/Observation/");
        HistoryTests.Link(bundle, "self").ShouldNotBeNull();
        HistoryTests.Link(bundle, "next").ShouldNotBeNull();
    }

    [Fact]
    public async Task Paging_visits_every_match_once_even_while_others_write()
    {
        var seen = new List<string>();
        var bundle = await Search("Observation?_count=2&_sort=date");
        seen.AddRange(bundle["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()));
        // A write between pages must not shift the pages.
        // (A vital sign with no subject or code: it must not change what the other tests of this shared data expect.)
        await Client.CreateAsync("""{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"text":"new"},"effectiveDateTime":"2000-01-01"}""");
        var next = HistoryTests.Link(bundle, "next");
        while (next is not null)
        {
            var page = await Search(next);
            seen.AddRange(page["entry"]!.AsArray().Where(e => e!["search"]!["mode"].Str() == "match").Select(e => e!["resource"]!["id"].Str()));
            HistoryTests.Link(page, "previous").ShouldNotBeNull();
            next = HistoryTests.Link(page, "next");
        }
        seen.Distinct().Count().ShouldBe(seen.Count);
        seen.ShouldContain("o-bp-1");
        seen.ShouldContain("o-hr-2");
        seen.IndexOf("o-hr-1").ShouldBeLessThan(seen.IndexOf("o-glu-1"));
    }

    [Fact]
    public async Task Sort_descending_by_date_orders_the_matches()
    {
        var ids = await Ids("Observation?patient=p-smith&_sort=-date");
        ids.ShouldBe(["o-bp-2", "o-bp-1", "o-glu-1", "o-hr-1"]);
    }

    [Fact]
    public async Task Include_and_revinclude_add_the_referenced_resources_once()
    {
        var bundle = await Search("Observation?patient=p-smith&_include=Observation:subject&_include=Observation:performer");
        var included = bundle["entry"]!.AsArray().Where(e => e!["search"]!["mode"].Str() == "include")
            .Select(e => $"{e!["resource"]!["resourceType"].Str()}/{e["resource"]!["id"].Str()}").ToList();
        included.ShouldBe(["Patient/p-smith", "Practitioner/dr-who"], ignoreOrder: true);

        var rev = await Ids("Patient?_id=p-smythe&_revinclude=Observation:subject", "include");
        rev.ShouldBe(["o-glu-2", "o-hr-2"], ignoreOrder: true);
    }

    [Fact]
    public async Task Summary_count_returns_only_the_total()
    {
        var bundle = await Search("Observation?code=2339-0&_summary=count");
        bundle["total"]!.GetValue<int>().ShouldBe(2);
        bundle["entry"].ShouldBeNull();
    }

    [Fact]
    public async Task Total_none_leaves_the_total_out()
    {
        (await Search("Observation?code=2339-0&_total=none"))["total"].ShouldBeNull();
    }

    [Fact]
    public async Task Elements_trims_the_entries()
    {
        var bundle = await Search("Patient?_id=p-smith&_elements=gender");
        var patient = bundle["entry"]![0]!["resource"]!;
        patient["gender"].Str().ShouldBe("female");
        patient["birthDate"].ShouldBeNull();
        patient["id"].Str().ShouldBe("p-smith");
    }

    [Fact]
    public async Task Unknown_parameters_are_ignored_and_left_out_of_the_self_link_under_lenient_handling()
    {
        var bundle = await Search("Patient?name=smith&unknown-param=1");
        HistoryTests.Link(bundle, "self")!.ShouldNotContain("unknown-param");
        bundle["entry"]!.AsArray().Count(e => e!["search"]!["mode"].Str() == "match").ShouldBe(1);
    }

    [Fact]
    public async Task Unknown_or_malformed_parameters_are_400_under_strict_handling()
    {
        var unknown = await Client.SendAsync(HttpMethod.Get, "Patient?unknown-param=1", null, ("Prefer", "handling=strict"));
        await unknown.ShouldBeOutcomeAsync(400);
        var malformed = await Client.SendAsync(HttpMethod.Get, "Patient?birthdate=notadate", null, ("Prefer", "handling=strict"));
        await malformed.ShouldBeOutcomeAsync(400);
    }

    [Fact]
    public async Task Post_search_takes_form_parameters()
    {
        var response = await Client.PostAsync("Patient/_search", new FormUrlEncodedContent([new("family", "smythe")]));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var bundle = await response.BodyAsync();
        bundle["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()).ShouldBe(["p-smythe"]);
    }

    [Fact]
    public async Task System_search_spans_types()
    {
        var ids = await Ids("?_id=p-smith,c-1");
        ids.ShouldBe(["p-smith", "c-1"], ignoreOrder: true);
        var typed = await Ids("?_type=Condition&_id=p-smith,c-1");
        typed.ShouldBe(["c-1"]);
    }

    [Fact]
    public async Task Xml_search_results_are_served_when_asked()
    {
        var response = await Client.GetAsync("Patient?_id=p-smith&_format=xml");
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/fhir+xml");
        (await response.Content.ReadAsStringAsync()).ShouldContain("<Bundle xmlns=\"http://hl7.org/fhir\">");
    }
}

public sealed class ConditionalTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Conditional_create_returns_the_existing_resource_when_one_matches()
    {
        var mrn = Guid.NewGuid().ToString("N");
        var body = $$$"""{"resourceType":"Patient","identifier":[{"system":"http://mrn.example","value":"{{{mrn}}}"}]}""";
        var first = await Client.PostAsync("Patient", body, ("If-None-Exist", $"identifier=http://mrn.example|{mrn}"));
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var second = await Client.PostAsync("Patient", body, ("If-None-Exist", $"identifier=http://mrn.example|{mrn}"));
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await second.BodyAsync())["id"].Str().ShouldBe((await first.BodyAsync())["id"].Str());
    }

    [Fact]
    public async Task Conditional_create_with_several_matches_is_412()
    {
        var tag = Guid.NewGuid().ToString("N");
        var body = $$$"""{"resourceType":"Patient","meta":{"tag":[{"system":"http://t.example","code":"{{{tag}}}"}]}}""";
        await Client.CreateAsync(body);
        await Client.CreateAsync(body);
        await (await Client.PostAsync("Patient", body, ("If-None-Exist", $"_tag=http://t.example|{tag}"))).ShouldBeOutcomeAsync(412);
    }

    [Fact]
    public async Task Conditional_update_creates_then_updates_the_match()
    {
        var mrn = Guid.NewGuid().ToString("N");
        var url = $"Patient?identifier=http://mrn.example|{mrn}";
        var body = $$$"""{"resourceType":"Patient","identifier":[{"system":"http://mrn.example","value":"{{{mrn}}}"}],"gender":"male"}""";
        var created = await Client.SendAsync(HttpMethod.Put, url, body);
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var updated = await Client.SendAsync(HttpMethod.Put, url, body.Replace("male", "female"));
        updated.StatusCode.ShouldBe(HttpStatusCode.OK);
        updated.Headers.ETag!.ToString().ShouldBe("W/\"2\"");
        (await updated.BodyAsync())["id"].Str().ShouldBe((await created.BodyAsync())["id"].Str());
    }

    [Fact]
    public async Task Conditional_delete_removes_the_single_match()
    {
        var mrn = Guid.NewGuid().ToString("N");
        var id = await Client.CreateAsync($$$"""{"resourceType":"Patient","identifier":[{"system":"http://mrn.example","value":"{{{mrn}}}"}]}""");
        (await Client.DeleteAsync($"Patient?identifier=http://mrn.example|{mrn}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await Client.GetAsync($"Patient/{id}")).ShouldBeOutcomeAsync(410);
    }

    [Fact]
    public async Task Transaction_resolves_conditional_references_and_conditional_creates()
    {
        var mrn = Guid.NewGuid().ToString("N");
        var patientId = await Client.CreateAsync($$$"""{"resourceType":"Patient","identifier":[{"system":"http://mrn.example","value":"{{{mrn}}}"}]}""");
        var bundle = $$$"""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:3f2a7c1e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","identifier":[{"system":"http://mrn.example","value":"{{{mrn}}}"}]},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=http://mrn.example|{{{mrn}}}"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"a"},"subject":{"reference":"urn:uuid:3f2a7c1e-0000-4000-8000-000000000001"}},"request":{"method":"POST","url":"Observation"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"b"},"subject":{"reference":"Patient?identifier=http://mrn.example|{{{mrn}}}"}},"request":{"method":"POST","url":"Observation"}}
        ]}
        """;
        var response = await Client.PostAsync("", bundle);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var entries = (await response.BodyAsync())["entry"]!.AsArray();
        entries[0]!["response"]!["status"].Str().ShouldStartWith("200");
        entries[1]!["resource"]!["subject"]!["reference"].Str().ShouldBe($"Patient/{patientId}");
        entries[2]!["resource"]!["subject"]!["reference"].Str().ShouldBe($"Patient/{patientId}");
    }
}
