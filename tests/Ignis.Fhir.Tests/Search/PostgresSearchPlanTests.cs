using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Tests.Providers;
using Shouldly;

namespace Ignis.Fhir.Tests.Search;

/// <summary>
/// The shape of PostgreSQL search plans that the 10M-resource benchmark depends on (docs/benchmarks.md, "Issue 9"):
/// a page driven by a set of index terms reads the set's keys and never the resources table.
/// </summary>
public sealed class PostgresSearchPlanTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly SearchTestDatabase _db = new(fixture);

    public void Dispose() => _db.Dispose();

    private async Task<string> PagePlan(string type, string query)
    {
        var request = SearchParser.Parse(type, SearchEngine.ParseQueryString(query), SearchHandling.Strict);
        var explain = await SearchEngine.ExplainAsync(_db.Connection, null, request, TestContext.Current.CancellationToken);
        var page = explain[explain.IndexOf("-- page:", StringComparison.Ordinal)..];
        return page[..page.IndexOf("-- count:", StringComparison.Ordinal)];
    }

    [Fact]
    public async Task A_page_driven_by_index_terms_does_not_read_the_resources_table()
    {
        for (var n = 0; n < 30; n++)
        {
            _db.Put("Patient", $"p{n:D2}", i => i.String("name", n % 3 == 0 ? "Wright" : "Jones"));
            _db.Put("Observation", $"o{n:D2}", i => i.Ref("patient", "Patient/p01").Token("category", "http://c", n % 2 == 0 ? "vital-signs" : "lab"));
        }
        _db.Delete("Patient", "p03");

        (await _db.Ids("Patient", "name=wri&_count=5")).ShouldBe(["p00", "p06", "p09", "p12", "p15"]);
        var second = await _db.Search("Patient", "name=wri&_count=5");
        second.Total.ShouldBe(9);
        (await _db.Ids("Observation", "patient=p01&category=http://c|vital-signs&_count=50")).Count.ShouldBe(15);

        foreach (var (type, query) in new[] { ("Patient", "name=wri&_count=5"), ("Observation", "patient=p01&category=http://c|vital-signs&_count=50") })
        {
            var plan = await PagePlan(type, query);
            plan.ShouldContain("idx_");
            plan.ShouldNotContain(" on resources ", customMessage: plan);
        }
    }

    [Fact]
    public async Task One_term_matching_more_than_the_first_probe_is_still_read_from_its_keys()
    {
        // 1,500 name rows: over the first probe's bound (SearchEngine.ProbeLimit), under the second's.
        const int count = SearchEngine.ProbeLimit + 500;
        using (var tx = _db.Connection.BeginTransaction())
        {
            Dapper.SqlMapper.Execute(_db.Connection, $$"""
                INSERT INTO resources (type, id, version, last_updated, deleted, body)
                SELECT 'Patient', 'p' || lpad(i::text, 5, '0'), 1, 1, 0, {{_db.Body("""'{"resourceType":"Patient"}'""")}}
                FROM generate_series(1, {{count}}) i;
                INSERT INTO idx_string (res_key, param_id, value_norm, value)
                SELECT res_key, {{SearchTestDatabase.Pid("Patient", "name")}}, 'wright', 'Wright' FROM resources WHERE type = 'Patient';
                UPDATE resources SET deleted = 1 WHERE id = 'p00002';
                DELETE FROM idx_string WHERE res_key = (SELECT res_key FROM resources WHERE id = 'p00002');
                ANALYZE;
                """, transaction: tx);
            tx.Commit();
        }
        var plan = await PagePlan("Patient", "name=wri&_count=3");
        plan.ShouldNotContain(" on resources ", customMessage: plan);
        var first = await _db.Search("Patient", "name=wri&_count=3");
        first.Matches.Select(m => m.Id).ShouldBe(["p00001", "p00003", "p00004"]);
        (await _db.Search("Patient", "name=wri&_count=3&_total=accurate")).Total.ShouldBe(count - 1);
    }

    [Fact]
    public async Task A_page_that_needs_the_resources_row_still_reads_it()
    {
        for (var n = 0; n < 10; n++) _db.Put("Patient", $"p{n}", i => i.String("name", "Wright"));
        // _lastUpdated is a condition on the resources row itself, so the page cannot be answered from the index tables.
        var plan = await PagePlan("Patient", "name=wri&_lastUpdated=ge2000-01-01");
        plan.ShouldContain(" on resources ", customMessage: plan);
        (await _db.Ids("Patient", "name=wri&_lastUpdated=ge2000-01-01")).Count.ShouldBe(10);
    }
}
