using Dapper;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Tests.Providers;
using Shouldly;

namespace Ignis.Fhir.Tests.Search;

public sealed class SqliteSearchExecutionTests() : SearchExecutionTests(new SearchTestDatabase());

public sealed class PostgresSearchExecutionTests(PostgresFixture fixture)
    : SearchExecutionTests(new SearchTestDatabase(fixture)), IClassFixture<PostgresFixture>;

/// <summary>Search on a real database, run once per storage provider (the subclasses above).</summary>
public abstract class SearchExecutionTests(SearchTestDatabase db) : IDisposable
{
    private readonly SearchTestDatabase _db = db;

    public void Dispose()
    {
        _db.Dispose();
        GC.SuppressFinalize(this);
    }

    private const string Loinc = "http://loinc.org";
    private const string Ucum = "http://unitsofmeasure.org";

    [Fact]
    public async Task String_matches_by_prefix_ignoring_case_and_accents()
    {
        _db.Put("Patient", "p1", i => i.String("name", "Müller"));
        _db.Put("Patient", "p2", i => i.String("name", "Mueller"));
        _db.Put("Patient", "p3", i => i.String("name", "Smith"));
        (await _db.Ids("Patient", "name=mul")).ShouldBe(["p1"]);
        (await _db.Ids("Patient", "name=MÜL")).ShouldBe(["p1"]);
        (await _db.Ids("Patient", "name=m")).ShouldBe(["p1", "p2"]);
        (await _db.Ids("Patient", "name=ith")).ShouldBeEmpty();
    }

    [Fact]
    public async Task String_exact_is_case_and_accent_sensitive()
    {
        _db.Put("Patient", "p1", i => i.String("name", "Müller"));
        _db.Put("Patient", "p2", i => i.String("name", "Muller"));
        (await _db.Ids("Patient", "name:exact=Müller")).ShouldBe(["p1"]);
        (await _db.Ids("Patient", "name:exact=müller")).ShouldBeEmpty();
        (await _db.Ids("Patient", "name:exact=Müll")).ShouldBeEmpty();
    }

    [Fact]
    public async Task String_contains_matches_anywhere()
    {
        _db.Put("Patient", "p1", i => i.String("name", "Müller"));
        _db.Put("Patient", "p2", i => i.String("name", "Allen"));
        _db.Put("Patient", "p3", i => i.String("name", "Smith"));
        (await _db.Ids("Patient", "name:contains=LL")).ShouldBe(["p1", "p2"]);
    }

    [Fact]
    public async Task String_contains_treats_like_wildcards_literally()
    {
        _db.Put("Patient", "p1", i => i.String("name", "a_b"));
        _db.Put("Patient", "p2", i => i.String("name", "axb"));
        (await _db.Ids("Patient", "name:contains=_")).ShouldBe(["p1"]);
        (await _db.Ids("Patient", "name:contains=%25")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Missing_works_for_every_parameter_type()
    {
        _db.Put("Observation", "with", i => i.String("value-string", "x").Token("code", Loinc, "1").Date("date", "2020")
            .Quantity("value-quantity", "1", Ucum, "mg").Ref("subject", "Patient/1")
            .Composite("code-value-quantity", new CompositePart(Loinc, "1", null, null), new CompositePart(Ucum, "mg", 0.5, 1.5)));
        _db.Put("Observation", "without");
        foreach (var p in new[] { "value-string", "code", "date", "value-quantity", "subject", "code-value-quantity" })
        {
            (await _db.Ids("Observation", p + ":missing=true")).ShouldBe(["without"], p);
            (await _db.Ids("Observation", p + ":missing=false")).ShouldBe(["with"], p);
        }
        _db.Put("RiskAssessment", "n1", i => i.Number("probability", "0.5"));
        _db.Put("RiskAssessment", "n2");
        (await _db.Ids("RiskAssessment", "probability:missing=true")).ShouldBe(["n2"]);
        _db.Put("ValueSet", "u1", i => i.Uri("url", "http://x"));
        _db.Put("ValueSet", "u2");
        (await _db.Ids("ValueSet", "url:missing=false")).ShouldBe(["u1"]);
    }

    private void Identifiers()
    {
        const string v2 = "http://terminology.hl7.org/CodeSystem/v2-0203";
        _db.Put("Patient", "p1", i => i.Token("identifier", "http://a", "1", typeSystem: v2, typeCode: "MR").Token("gender", "http://hl7.org/fhir/administrative-gender", "female", "Female"));
        _db.Put("Patient", "p2", i => i.Token("identifier", null, "1"));
        _db.Put("Patient", "p3", i => i.Token("identifier", "http://b", "2", typeSystem: v2, typeCode: "SS"));
        _db.Put("Patient", "p4");
    }

    [Theory]
    [InlineData("identifier=1", "p1,p2")]
    [InlineData("identifier=http://a|1", "p1")]
    [InlineData("identifier=|1", "p2")]
    [InlineData("identifier=http://b|", "p3")]
    [InlineData("identifier=http://a|1,http://b|2", "p1,p3")]
    [InlineData("identifier:not=1", "p3,p4")]
    [InlineData("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|1", "p1")]
    [InlineData("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|2", "")]
    [InlineData("gender:text=fem", "p1")]
    [InlineData("gender:text=male", "")]
    [InlineData("identifier=1&identifier=http://a|", "p1")]
    public async Task Token_forms_match_as_the_specification_says(string query, string expected)
    {
        Identifiers();
        (await _db.Ids("Patient", query)).ShouldBe(expected.Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Escaped_comma_is_part_of_the_value()
    {
        _db.Put("Patient", "p1", i => i.Token("identifier", null, "a,b"));
        _db.Put("Patient", "p2", i => i.Token("identifier", null, "a"));
        (await _db.Ids("Patient", "identifier=a\\,b")).ShouldBe(["p1"]);
        (await _db.Ids("Patient", "identifier=a,b")).ShouldBe(["p2"]);
    }

    private void Birthdates()
    {
        _db.Put("Patient", "a", i => i.Date("birthdate", "2019-12-31"));
        _db.Put("Patient", "b", i => i.Date("birthdate", "2020-01-01"));
        _db.Put("Patient", "c", i => i.Date("birthdate", "2020-06-15T10:30:00Z"));
        _db.Put("Patient", "d", i => i.Date("birthdate", "2021"));
    }

    [Theory]
    [InlineData("2020", "b,c")]
    [InlineData("eq2020-01-01", "b")]
    [InlineData("ne2020", "a,d")]
    [InlineData("gt2020", "d")]
    [InlineData("lt2020", "a")]
    [InlineData("ge2020", "b,c,d")]
    [InlineData("le2020", "a,b,c")]
    [InlineData("sa2020-01-01", "c,d")]
    [InlineData("eb2020-06-15", "a,b")]
    [InlineData("ge2020-06-15T10:30:00Z", "c,d")]
    [InlineData("2020-06-15T12:30:00%2B02:00", "c")]
    [InlineData("lt2020-01-01,gt2020-12-31", "a,d")]
    public async Task Date_prefixes_follow_precision_aware_range_semantics(string value, string expected)
    {
        Birthdates();
        (await _db.Ids("Patient", "birthdate=" + value)).ShouldBe(expected.Split(','));
    }

    [Fact]
    public async Task Date_ranges_of_periods_are_compared_as_ranges()
    {
        _db.Put("Encounter", "long", i => i.Period("date", "2020-01-01", "2020-12-31"));
        _db.Put("Encounter", "short", i => i.Period("date", "2020-03-01", "2020-03-02"));
        (await _db.Ids("Encounter", "date=2020-03")).ShouldBe(["short"]);
        (await _db.Ids("Encounter", "date=2020")).ShouldBe(["long", "short"]);
        (await _db.Ids("Encounter", "date=gt2020-06")).ShouldBe(["long"]);
    }

    [Fact]
    public async Task Date_approximately_widens_by_a_tenth_of_the_distance_to_now()
    {
        _db.Put("Patient", "near", i => i.Date("birthdate", "2000-01-01"));
        _db.Put("Patient", "far", i => i.Date("birthdate", "1990-01-01"));
        (await _db.Ids("Patient", "birthdate=ap2001-06-01")).ShouldBe(["near"]);
    }

    [Fact]
    public async Task Last_updated_is_searched_on_the_resource_row()
    {
        _db.Put("Patient", "old", lastUpdated: new DateTime(2020, 1, 1, 12, 0, 0, DateTimeKind.Utc));
        _db.Put("Patient", "new", lastUpdated: new DateTime(2024, 1, 1, 12, 0, 0, DateTimeKind.Utc));
        (await _db.Ids("Patient", "_lastUpdated=ge2021")).ShouldBe(["new"]);
        (await _db.Ids("Patient", "_lastUpdated=2020-01-01")).ShouldBe(["old"]);
        (await _db.Ids("Patient", "_lastUpdated=lt2020-01-01T12:00:00Z")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Id_matches_exactly_and_not_excludes()
    {
        _db.Put("Patient", "a");
        _db.Put("Patient", "b");
        _db.Put("Patient", "c");
        (await _db.Ids("Patient", "_id=a,c")).ShouldBe(["a", "c"]);
        (await _db.Ids("Patient", "_id:not=a")).ShouldBe(["b", "c"]);
        (await _db.Ids("Patient", "_id=A")).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("0.8", "r1")]
    [InlineData("gt0.8", "r2,r3,r4")]
    [InlineData("lt0.85", "r1")]
    [InlineData("ge0.85", "r2,r3,r4")]
    [InlineData("le0.85", "r1,r2")]
    [InlineData("ne0.8", "r2,r3,r4")]
    [InlineData("ap100", "r4")]
    [InlineData("1e2", "r4")]
    [InlineData("0.9", "r2,r3")]
    [InlineData("1", "r1,r2,r3")]
    public async Task Number_prefixes_and_implied_precision(string value, string expected)
    {
        _db.Put("RiskAssessment", "r1", i => i.Number("probability", "0.8"));
        _db.Put("RiskAssessment", "r2", i => i.Number("probability", "0.85"));
        _db.Put("RiskAssessment", "r3", i => i.Number("probability", "0.9"));
        _db.Put("RiskAssessment", "r4", i => i.Number("probability", "100"));
        (await _db.Ids("RiskAssessment", "probability=" + value)).ShouldBe(expected.Split(','));
    }

    [Theory]
    [InlineData("5.4|http://unitsofmeasure.org|mg", "o1")]
    [InlineData("5.4||mg", "o1,o2,o3")]
    [InlineData("5.4", "o1,o2,o3")]
    [InlineData("gt5|http://unitsofmeasure.org|g", "o4")]
    [InlineData("lt6||mg", "o1,o2,o3")]
    [InlineData("5.4|http://unitsofmeasure.org|g", "")]
    public async Task Quantity_matches_value_system_and_code(string value, string expected)
    {
        _db.Put("Observation", "o1", i => i.Quantity("value-quantity", "5.4", Ucum, "mg"));
        _db.Put("Observation", "o2", i => i.Quantity("value-quantity", "5.4", "http://other", "mg"));
        _db.Put("Observation", "o3", i => i.Quantity("value-quantity", "5.4", null, "mg"));
        _db.Put("Observation", "o4", i => i.Quantity("value-quantity", "10", Ucum, "g"));
        (await _db.Ids("Observation", "value-quantity=" + value)).ShouldBe(expected.Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("subject=1", "o1,o2")]
    [InlineData("subject=Patient/1", "o1")]
    [InlineData("subject:Patient=1", "o1")]
    [InlineData("subject:Group=1", "o2")]
    [InlineData("subject=http://other.org/fhir/Patient/9", "o4")]
    [InlineData("subject=http://example.org/fhir/Patient/2", "o3")]
    [InlineData("subject:missing=true", "o5")]
    [InlineData("subject=Patient/1,Patient/2", "o1,o3")]
    public async Task Reference_matches_id_type_and_url(string query, string expected)
    {
        _db.Put("Observation", "o1", i => i.Ref("subject", "Patient/1"));
        _db.Put("Observation", "o2", i => i.Ref("subject", "Group/1"));
        _db.Put("Observation", "o3", i => i.Ref("subject", "Patient/2"));
        _db.Put("Observation", "o4", i => i.Ref("subject", "http://other.org/fhir/Patient/9"));
        _db.Put("Observation", "o5");
        (await _db.Ids("Observation", query)).ShouldBe(expected.Split(','));
    }

    [Theory]
    [InlineData("url=http://acme.org/fhir/ValueSet/a", "v1")]
    [InlineData("url:below=http://acme.org/fhir/ValueSet", "v1,v2")]
    [InlineData("url:above=http://acme.org/fhir/ValueSet/a/x", "v1,v3")]
    [InlineData("url=http://acme.org/fhir/ValueSet", "")]
    public async Task Uri_matches_exactly_below_and_above(string query, string expected)
    {
        _db.Put("ValueSet", "v1", i => i.Uri("url", "http://acme.org/fhir/ValueSet/a"));
        _db.Put("ValueSet", "v2", i => i.Uri("url", "http://acme.org/fhir/ValueSet/b"));
        _db.Put("ValueSet", "v3", i => i.Uri("url", "http://acme.org/fhir"));
        (await _db.Ids("ValueSet", query)).ShouldBe(expected.Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("code-value-quantity=http://loinc.org|8480-6$gt100", "o1")]
    [InlineData("code-value-quantity=8480-6$lt200", "o1,o2")]
    [InlineData("code-value-quantity=http://loinc.org|8480-6$120|http://unitsofmeasure.org|mm[Hg]", "o1")]
    [InlineData("code-value-quantity=http://loinc.org|8480-6$130", "")]
    public async Task Composite_matches_components_of_the_same_element(string query, string expected)
    {
        static CompositePart Q(double v) => new(Ucum, "mm[Hg]", v - 0.5, v + 0.5);
        _db.Put("Observation", "o1", i => i.Composite("code-value-quantity", new CompositePart(Loinc, "8480-6", null, null), Q(120))
            .Composite("code-value-quantity", new CompositePart(Loinc, "8462-4", null, null), Q(80)));
        _db.Put("Observation", "o2", i => i.Composite("code-value-quantity", new CompositePart(Loinc, "8480-6", null, null), Q(90)));
        _db.Put("Observation", "o3", i => i.Composite("code-value-quantity", new CompositePart(Loinc, "8462-4", null, null), Q(130)));
        (await _db.Ids("Observation", query)).ShouldBe(expected.Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    private void ChainData()
    {
        _db.Put("Patient", "smith", i => i.String("name", "Smith"));
        _db.Put("Patient", "jones", i => i.String("name", "Jones"));
        _db.Put("Location", "loc", i => i.String("name", "Smithfield"));
        _db.Put("Observation", "o1", i => i.Ref("subject", "Patient/smith").Ref("patient", "Patient/smith").Token("code", Loinc, "1234-5"));
        _db.Put("Observation", "o2", i => i.Ref("subject", "Patient/jones").Ref("patient", "Patient/jones").Token("code", Loinc, "9"));
        _db.Put("Observation", "o3", i => i.Ref("subject", "Location/loc"));
    }

    [Fact]
    public async Task Chain_with_type_searches_that_target_type()
    {
        ChainData();
        (await _db.Ids("Observation", "subject:Patient.name=smith")).ShouldBe(["o1"]);
    }

    [Fact]
    public async Task Chain_without_type_searches_every_target_type_with_the_parameter()
    {
        ChainData();
        (await _db.Ids("Observation", "subject.name=smith")).ShouldBe(["o1", "o3"]);
        (await _db.Ids("Observation", "subject.name=jones,smithf")).ShouldBe(["o2", "o3"]);
    }

    [Fact]
    public async Task Chain_does_not_follow_references_to_deleted_targets()
    {
        ChainData();
        _db.Delete("Patient", "smith");
        (await _db.Ids("Observation", "subject:Patient.name=smith")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Has_finds_resources_referenced_by_matching_sources()
    {
        ChainData();
        (await _db.Ids("Patient", "_has:Observation:patient:code=1234-5")).ShouldBe(["smith"]);
        (await _db.Ids("Patient", "_has:Observation:patient:code=http://loinc.org|9")).ShouldBe(["jones"]);
        (await _db.Ids("Patient", "_has:Observation:patient:code=nothing")).ShouldBeEmpty();
    }

    private void IncludeData()
    {
        _db.Put("Practitioner", "dr");
        _db.Put("Patient", "p1", i => i.Ref("general-practitioner", "Practitioner/dr"));
        _db.Put("Patient", "p2");
        _db.Put("Observation", "o1", i => i.Ref("subject", "Patient/p1").Ref("performer", "Practitioner/dr").Token("code", Loinc, "x"));
        _db.Put("Observation", "o2", i => i.Ref("subject", "Patient/p1").Token("code", Loinc, "x"));
        _db.Put("Observation", "o3", i => i.Ref("subject", "Patient/p2").Ref("has-member", "Observation/o1").Token("code", Loinc, "y"));
    }

    private static List<string> Refs(IEnumerable<Ignis.Fhir.Storage.StoredResource> rs) => rs.Select(r => r.Type + "/" + r.Id).ToList();

    [Fact]
    public async Task Include_adds_each_referenced_resource_once()
    {
        IncludeData();
        var r = await _db.Search("Observation", "code=x&_include=Observation:subject");
        Refs(r.Matches).ShouldBe(["Observation/o1", "Observation/o2"]);
        Refs(r.Included).ShouldBe(["Patient/p1"]);
    }

    [Fact]
    public async Task Include_with_target_type_only_follows_references_to_that_type()
    {
        IncludeData();
        (await _db.Search("Observation", "code=x&_include=Observation:performer:Patient")).Included.ShouldBeEmpty();
        Refs((await _db.Search("Observation", "code=x&_include=Observation:performer:Practitioner")).Included).ShouldBe(["Practitioner/dr"]);
    }

    [Fact]
    public async Task Include_star_follows_every_reference()
    {
        IncludeData();
        Refs((await _db.Search("Observation", "code=x&_include=*")).Included).ShouldBe(["Practitioner/dr", "Patient/p1"], ignoreOrder: true);
    }

    [Fact]
    public async Task Include_never_repeats_a_match()
    {
        IncludeData();
        var r = await _db.Search("Observation", "_include=Observation:has-member");
        Refs(r.Matches).ShouldBe(["Observation/o1", "Observation/o2", "Observation/o3"]);
        r.Included.ShouldBeEmpty();
    }

    [Fact]
    public async Task Revinclude_adds_resources_that_refer_to_the_matches()
    {
        IncludeData();
        var r = await _db.Search("Patient", "_id=p1&_revinclude=Observation:subject");
        Refs(r.Included).ShouldBe(["Observation/o1", "Observation/o2"]);
    }

    [Fact]
    public async Task Include_iterate_follows_references_of_included_resources()
    {
        IncludeData();
        Refs((await _db.Search("Observation", "_id=o2&_include=Observation:subject&_include=Patient:general-practitioner")).Included)
            .ShouldBe(["Patient/p1"]);
        Refs((await _db.Search("Observation", "_id=o2&_include=Observation:subject&_include:iterate=Patient:general-practitioner")).Included)
            .ShouldBe(["Patient/p1", "Practitioner/dr"]);
    }

    [Fact]
    public async Task Revinclude_iterate_walks_back_from_included_resources()
    {
        IncludeData();
        var r = await _db.Search("Practitioner", "_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject");
        Refs(r.Included).ShouldBe(["Patient/p1", "Observation/o1", "Observation/o2"], ignoreOrder: true);
    }

    [Fact]
    public async Task Deleted_resources_are_neither_matched_nor_included()
    {
        IncludeData();
        _db.Delete("Patient", "p1");
        _db.Delete("Observation", "o2");
        var r = await _db.Search("Observation", "code=x&_include=Observation:subject");
        Refs(r.Matches).ShouldBe(["Observation/o1"]);
        r.Included.ShouldBeEmpty();
        (await _db.Ids("Observation", "")).ShouldBe(["o1", "o3"]);
    }

    private void Names()
    {
        _db.Put("Patient", "c", i => i.String("name", "Charlie").Date("birthdate", "1990"));
        _db.Put("Patient", "a", i => i.String("name", "alice").Date("birthdate", "1980"));
        _db.Put("Patient", "b", i => i.String("name", "Bob").Date("birthdate", "1990"));
        _db.Put("Patient", "none");
        _db.Put("Patient", "multi", i => i.String("name", "Zed").String("name", "Aaron").Date("birthdate", "1980"));
    }

    [Theory]
    [InlineData("name", "multi,a,b,c,none")]
    [InlineData("-name", "multi,c,b,a,none")]
    [InlineData("birthdate,name", "multi,a,b,c,none")]
    [InlineData("-birthdate,-name", "c,b,multi,a,none")]
    [InlineData("_id", "a,b,c,multi,none")]
    [InlineData("-_id", "none,multi,c,b,a")]
    [InlineData("_lastUpdated", "c,a,b,none,multi")]
    [InlineData("-_lastUpdated", "multi,none,b,a,c")]
    public async Task Sort_orders_by_several_keys_with_missing_values_last(string sort, string expected)
    {
        Names();
        (await _db.Ids("Patient", "_sort=" + sort)).ShouldBe(expected.Split(','));
    }

    [Fact]
    public async Task Sort_by_token_and_quantity()
    {
        _db.Put("Observation", "o1", i => i.Token("code", Loinc, "b").Quantity("value-quantity", "5", Ucum, "mg"));
        _db.Put("Observation", "o2", i => i.Token("code", Loinc, "a").Quantity("value-quantity", "50", Ucum, "mg"));
        _db.Put("Observation", "o3", i => i.Token("code", Loinc, "c").Quantity("value-quantity", "7", Ucum, "mg"));
        (await _db.Ids("Observation", "_sort=code")).ShouldBe(["o2", "o1", "o3"]);
        (await _db.Ids("Observation", "_sort=-value-quantity")).ShouldBe(["o2", "o3", "o1"]);
    }

    private async Task<List<string>> WalkForward(string type, string query, Action? betweenPages = null)
    {
        var request = SearchParser.Parse(type, SearchEngine.ParseQueryString(query), SearchHandling.Strict);
        var seen = new List<string>();
        while (true)
        {
            var r = await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken);
            seen.AddRange(r.Matches.Select(m => m.Id));
            if (r.NextCursor is null) return seen;
            betweenPages?.Invoke();
            request = SearchParser.Parse(type, SearchEngine.ParseQueryString(request.ToPageQuery(r.NextCursor)), SearchHandling.Strict);
            request.Issues.ShouldBeEmpty();
        }
    }

    [Fact]
    public async Task Paging_visits_every_match_once_while_others_write()
    {
        for (var n = 0; n < 25; n++) _db.Put("Patient", $"p{n:D2}", i => i.String("name", "Smith"));
        var writes = 0;
        var seen = await WalkForward("Patient", "name=smith&_count=10", () =>
        {
            writes++;
            _db.Put("Patient", $"new{writes}", i => i.String("name", "Smith"));
            _db.Put("Patient", "p24", i => i.String("name", "Smithers"));
            _db.Put("Patient", "p00", i => i.String("name", "Smith"));
        });
        var originals = seen.Where(s => s.StartsWith('p')).ToList();
        originals.ShouldBe(Enumerable.Range(0, 25).Select(n => $"p{n:D2}"));
        seen.Distinct().Count().ShouldBe(seen.Count);
    }

    [Fact]
    public async Task Sorted_paging_with_ties_and_missing_values_matches_the_single_page_order()
    {
        for (var n = 0; n < 30; n++)
        {
            var year = n % 4 == 3 ? null : (2000 + n % 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _db.Put("Patient", $"p{n:D2}", i => { if (year is not null) i.Date("birthdate", year); });
        }
        foreach (var sort in new[] { "birthdate", "-birthdate", "birthdate,-_id" })
        {
            var all = (await _db.Ids("Patient", $"_sort={sort}&_count=1000")).Where(id => !id.StartsWith("new", StringComparison.Ordinal)).ToList();
            all.Count.ShouldBe(30);
            var writes = 0;
            var paged = await WalkForward("Patient", $"_sort={sort}&_count=7", () =>
            {
                // An update that keeps the sort value, and an insert that sorts onto a page already read.
                _db.Put("Patient", "p05", i => i.Date("birthdate", "2002"));
                _db.Put("Patient", $"new-{sort}-{writes++}", i => i.Date("birthdate", sort.StartsWith('-') ? "2099" : "1999"));
            });
            writes.ShouldBeGreaterThan(3);
            paged.Where(id => !id.StartsWith("new", StringComparison.Ordinal)).ShouldBe(all, sort);
        }
    }

    [Fact]
    public async Task Previous_cursor_returns_the_page_before()
    {
        for (var n = 0; n < 25; n++) _db.Put("Patient", $"p{n:D2}", i => i.Date("birthdate", "2000"));
        foreach (var query in new[] { "_count=10", "_count=10&_sort=-birthdate,_id" })
        {
            var first = await _db.Search("Patient", query);
            first.PreviousCursor.ShouldBeNull();
            var request = SearchParser.Parse("Patient", SearchEngine.ParseQueryString(query + "&_cursor=" + first.NextCursor), SearchHandling.Strict);
            var second = await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken);
            second.PreviousCursor.ShouldNotBeNull();
            request = SearchParser.Parse("Patient", SearchEngine.ParseQueryString(query + "&_cursor=" + second.PreviousCursor), SearchHandling.Strict);
            var back = await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken);
            back.Matches.Select(m => m.Id).ShouldBe(first.Matches.Select(m => m.Id), query);
            back.PreviousCursor.ShouldBeNull();
            back.NextCursor.ShouldNotBeNull();
            request = SearchParser.Parse("Patient", SearchEngine.ParseQueryString(query + "&_cursor=" + second.NextCursor), SearchHandling.Strict);
            var third = await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken);
            third.Matches.Count.ShouldBe(5);
            third.NextCursor.ShouldBeNull();
        }
    }

    [Fact]
    public async Task Cursor_from_another_sort_is_rejected()
    {
        for (var n = 0; n < 3; n++) _db.Put("Patient", $"p{n}");
        var first = await _db.Search("Patient", "_count=1");
        var r = SearchParser.Parse("Patient", SearchEngine.ParseQueryString("_count=1&_sort=_id&_cursor=" + first.NextCursor), SearchHandling.Strict);
        r.Issues.ShouldHaveSingleItem().Kind.ShouldBe(SearchIssueKind.InvalidCursor);
    }

    [Fact]
    public async Task Without_total_accurate_a_result_above_the_bound_has_no_total()
    {
        using (var tx = _db.Connection.BeginTransaction())
        {
            Dapper.SqlMapper.Execute(_db.Connection, $$"""
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {{SearchEngine.AutoTotalLimit}})
                INSERT INTO resources (type, id, version, last_updated, deleted, body)
                SELECT 'Basic', 'b' || i, 1, 1, 0, {{_db.Body("""'{"resourceType":"Basic","id":"b' || i || '"}'""")}} FROM n;
                INSERT INTO idx_token (res_key, param_id, system, code)
                SELECT res_key, {{SearchTestDatabase.Pid("Basic", "code")}}, 'http://x', 'many' FROM resources WHERE type = 'Basic';
                """, transaction: tx);
            tx.Commit();
        }
        (await _db.Search("Basic", "code=many")).Total.ShouldBeNull();
        (await _db.Search("Basic", "code=many&_total=accurate")).Total.ShouldBe(SearchEngine.AutoTotalLimit + 1);
        (await _db.Search("Basic", "code=many&_summary=count")).Total.ShouldBe(SearchEngine.AutoTotalLimit + 1);
    }

    [Fact]
    public async Task When_every_set_is_large_the_automatic_total_is_left_out_but_accurate_counts()
    {
        // code=c on 20,030 Observations, a 2025 date on 20,030, both on 30: each set is over the second probe's bound
        // (SearchEngine.LargeProbeLimit), the result is 30 resources.
        const int each = SearchEngine.LargeProbeLimit + 30;
        var recent = new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var old = new DateTime(2015, 6, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        using (var tx = _db.Connection.BeginTransaction())
        {
            Dapper.SqlMapper.Execute(_db.Connection, $$"""
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {{2 * each - 30 - 1}})
                INSERT INTO resources (type, id, version, last_updated, deleted, body)
                SELECT 'Observation', 'o' || i, 1, 1, 0, {{_db.Body("""'{"resourceType":"Observation","id":"o' || i || '"}'""")}} FROM n;
                INSERT INTO idx_token (res_key, param_id, system, code)
                SELECT res_key, {{SearchTestDatabase.Pid("Observation", "code")}}, 'http://x', 'c' FROM resources
                WHERE type = 'Observation' AND CAST(substr(id, 2) AS integer) < {{each}};
                INSERT INTO idx_date (res_key, param_id, lo, hi)
                SELECT res_key, {{SearchTestDatabase.Pid("Observation", "date")}},
                       CASE WHEN CAST(substr(id, 2) AS integer) >= {{each - 30}} THEN {{recent}} ELSE {{old}} END,
                       CASE WHEN CAST(substr(id, 2) AS integer) >= {{each - 30}} THEN {{recent}} ELSE {{old}} END
                FROM resources WHERE type = 'Observation';
                """, transaction: tx);
            tx.Commit();
        }
        const string query = "code=http://x|c&date=ge2025-01-01";
        var first = await _db.Search("Observation", query + "&_count=10");
        first.Matches.Count.ShouldBe(10);
        first.NextCursor.ShouldNotBeNull();
        first.Total.ShouldBeNull();
        // Paging through gives the 30 in res_key order (PostgreSQL reads them from the code's keys in index order).
        var ids = first.Matches.Select(m => m.Id).ToList();
        for (var next = first.NextCursor; next is not null;)
        {
            var request = SearchParser.Parse("Observation", SearchEngine.ParseQueryString(query + "&_count=10&_cursor=" + next), SearchHandling.Strict);
            var page = await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken);
            ids.AddRange(page.Matches.Select(m => m.Id));
            next = page.NextCursor;
        }
        ids.ShouldBe(Enumerable.Range(each - 30, 30).Select(i => "o" + i));
        (await _db.Search("Observation", query + "&_count=10&_total=accurate")).Total.ShouldBe(30);
        (await _db.Search("Observation", query + "&_summary=count")).Total.ShouldBe(30);
        // A result that fits on the first page has its total without a count.
        (await _db.Search("Observation", query + "&_count=50")).Total.ShouldBe(30);
    }

    [Fact]
    public async Task Total_is_accurate_by_default_and_carried_to_later_pages()
    {
        for (var n = 0; n < 25; n++) _db.Put("Patient", $"p{n:D2}", i => i.String("name", n < 15 ? "Smith" : "Jones"));
        var first = await _db.Search("Patient", "name=smith&_count=10");
        first.Total.ShouldBe(15);
        var request = SearchParser.Parse("Patient", SearchEngine.ParseQueryString("name=smith&_count=10&_cursor=" + first.NextCursor), SearchHandling.Strict);
        (await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken)).Total.ShouldBe(15);
        (await _db.Search("Patient", "name=smith&_total=none")).Total.ShouldBeNull();
        (await _db.Search("Patient", "name=smith&_count=50")).Total.ShouldBe(15);
    }

    [Fact]
    public async Task Summary_count_returns_the_total_without_entries()
    {
        for (var n = 0; n < 5; n++) _db.Put("Patient", $"p{n}");
        var r = await _db.Search("Patient", "_summary=count");
        r.Matches.ShouldBeEmpty();
        r.Total.ShouldBe(5);
        r.NextCursor.ShouldBeNull();
    }

    private void CompartmentData()
    {
        _db.Put("Patient", "1");
        _db.Put("Patient", "2");
        _db.Put("Observation", "o1", i => i.Ref("subject", "Patient/1").Token("code", Loinc, "x"));
        _db.Put("Observation", "o2", i => i.Ref("performer", "Patient/1").Ref("subject", "Patient/2").Token("code", Loinc, "x"));
        _db.Put("Observation", "o3", i => i.Ref("subject", "Patient/2").Token("code", Loinc, "x"));
    }

    private static void Compartment(SearchRequest r) =>
        r.AddRestriction("Observation", ("subject", "Patient/1"), ("performer", "Patient/1"))
         .AddRestriction("Patient", ("_id", "1"));

    [Fact]
    public async Task Restriction_keeps_matches_to_any_of_its_criteria()
    {
        CompartmentData();
        (await _db.Ids("Observation", "code=x", Compartment)).ShouldBe(["o1", "o2"]);
        (await _db.Ids("Observation", "", Compartment)).ShouldBe(["o1", "o2"]);
        (await _db.Search("Observation", "code=x", Compartment)).Total.ShouldBe(2);
    }

    [Fact]
    public async Task Restriction_groups_allow_rows_matching_all_criteria_of_any_group()
    {
        CompartmentData();
        _db.Put("Observation", "o4", i => i.Ref("subject", "Patient/1").Token("code", Loinc, "y"));
        _db.Put("Observation", "o5", i => i.Ref("subject", "Patient/2").Token("code", Loinc, "z"));
        void Groups(SearchRequest r) => r.AddRestrictionGroups("Observation",
        [
            [new("subject", "Patient/1"), new("code", "y")],
            [new("code", "z")],
        ]);
        (await _db.Ids("Observation", "", Groups)).ShouldBe(["o4", "o5"]);
        (await _db.Ids("Observation", "subject=Patient/2", Groups)).ShouldBe(["o5"]);
        (await _db.Search("Observation", "_summary=count", Groups)).Total.ShouldBe(2);
    }

    [Fact]
    public async Task Restriction_applies_to_included_resources()
    {
        CompartmentData();
        var r = await _db.Search("Observation", "code=x&_include=Observation:subject", Compartment);
        Refs(r.Included).ShouldBe(["Patient/1"]);
        var rev = await _db.Search("Patient", "_revinclude=Observation:subject", Compartment);
        Refs(rev.Matches).ShouldBe(["Patient/1"]);
        Refs(rev.Included).ShouldBe(["Observation/o1"]);
    }

    [Fact]
    public async Task Restriction_applies_to_chain_targets_and_has_sources()
    {
        CompartmentData();
        _db.Put("Patient", "1", i => i.String("name", "Smith"));
        _db.Put("Patient", "2", i => i.String("name", "Smith"));
        (await _db.Ids("Observation", "subject:Patient.name=smith", r => r.AddRestriction("Patient", ("_id", "1")))).ShouldBe(["o1"]);
        (await _db.Ids("Patient", "_has:Observation:subject:code=x", r => r.AddRestriction("Observation", ("_id", "o3")))).ShouldBe(["2"]);
    }

    [Fact]
    public async Task Limited_types_are_never_returned()
    {
        CompartmentData();
        (await _db.Search("Observation", "_include=Observation:subject", r => r.LimitTypes(["Observation"]))).Included.ShouldBeEmpty();
        (await _db.Ids("Patient", "", r => r.LimitTypes(["Observation"]))).ShouldBeEmpty();
        (await _db.Search(null, "", r => r.LimitTypes(["Patient"]))).Matches.ShouldAllBe(m => m.Type == "Patient");
    }

    [Fact]
    public async Task Empty_restriction_hides_the_type()
    {
        CompartmentData();
        (await _db.Ids("Observation", "", r => r.AddRestriction("Observation", Array.Empty<KeyValuePair<string, string>>()))).ShouldBeEmpty();
    }

    [Fact]
    public async Task System_search_covers_the_listed_types_with_common_parameters()
    {
        _db.Put("Patient", "p", i => i.Token("_tag", "http://t", "a"));
        _db.Put("Observation", "o", i => i.Token("_tag", "http://t", "a"));
        _db.Put("Condition", "c", i => i.Token("_tag", "http://t", "a"));
        _db.Put("Patient", "untagged");
        Refs((await _db.Search(null, "_tag=http://t|a")).Matches).ShouldBe(["Patient/p", "Observation/o", "Condition/c"]);
        Refs((await _db.Search(null, "_type=Patient,Condition&_tag=a")).Matches).ShouldBe(["Patient/p", "Condition/c"]);
        Refs((await _db.Search(null, "_type=Patient")).Matches).ShouldBe(["Patient/p", "Patient/untagged"]);
        (await _db.Search(null, "_tag=a", r => r.AddRestriction("Observation", ("_id", "nope")))).Matches.Count.ShouldBe(2);
    }

    [Theory]
    [InlineData("name=' OR 1=1 --")]
    [InlineData("name='); DROP TABLE resources; --")]
    [InlineData("_id=1' OR '1'='1")]
    [InlineData("identifier=x|y' OR 1=1 --")]
    [InlineData("subject=Patient/1' OR 1=1--")]
    [InlineData("name:contains=%25' OR 1=1 --")]
    public async Task Sql_looking_values_are_plain_values(string query)
    {
        _db.Put("Patient", "1", i => i.String("name", "Smith"));
        var type = query.StartsWith("subject", StringComparison.Ordinal) ? "Observation" : "Patient";
        (await _db.Ids(type, query)).ShouldBeEmpty();
        _db.Connection.ExecuteScalar<long>("SELECT count(*) FROM resources").ShouldBe(1);
    }

    [Fact]
    public async Task Tampered_cursor_values_are_parameters()
    {
        _db.Put("Patient", "1", i => i.String("name", "Smith"));
        var json = "[0,0,\"name,\",null,\"x' OR 1=1 --\"]";
        var cursor = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(json));
        var request = SearchParser.Parse("Patient", SearchEngine.ParseQueryString("_sort=name&_cursor=" + cursor), SearchHandling.Strict);
        request.Issues.ShouldBeEmpty();
        (await SearchEngine.ExecuteAsync(_db.Connection, request, TestContext.Current.CancellationToken)).Matches.ShouldBeEmpty();
    }

    [Fact]
    public async Task Find_tells_none_one_and_many_apart()
    {
        _db.Put("Patient", "a", i => i.Token("identifier", "http://x", "1"));
        _db.Put("Patient", "b", i => i.Token("identifier", "http://x", "2"));
        _db.Put("Patient", "c", i => i.Token("identifier", "http://x", "2"));
        var ct = TestContext.Current.CancellationToken;
        (await SearchEngine.FindAsync(_db.Connection, null, "Patient", "identifier=http://x|9", 2, ct)).ShouldBeEmpty();
        (await SearchEngine.FindAsync(_db.Connection, null, "Patient", "identifier=http://x|1", 2, ct)).ShouldHaveSingleItem().Json!.ShouldContain("\"a\"");
        (await SearchEngine.FindAsync(_db.Connection, null, "Patient", "identifier=http%3A%2F%2Fx%7C2", 2, ct)).Count.ShouldBe(2);
        var ex = await Should.ThrowAsync<SearchRequestException>(() => SearchEngine.FindAsync(_db.Connection, null, "Patient", "nope=1", 2, ct));
        ex.Issues.ShouldHaveSingleItem().Kind.ShouldBe(SearchIssueKind.UnknownParameter);
    }

    [Fact]
    public async Task Matches_carry_the_stored_row()
    {
        _db.Put("Patient", "a");
        _db.Put("Patient", "a");
        var m = (await _db.Search("Patient", "_id=a")).Matches.ShouldHaveSingleItem();
        (m.Type, m.Id, m.Version, m.Deleted).ShouldBe(("Patient", "a", 2, false));
        m.Json.ShouldBe("""{"resourceType":"Patient","id":"a"}""");
    }
}
