using System.Diagnostics;
using System.Globalization;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Query;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Ignis.Fhir.Tests.Search;

/// <summary>
/// A deterministic synthetic database (patients with observations and encounters) for checking query plans and
/// latencies of the benchmark queries. The 100k-resource run is explicit: <c>dotnet test -- --filter-query ... --explicit on</c>.
/// </summary>
public sealed class SearchBenchmarkTests
{
    private static readonly string[] Families =
        ["Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Thomas", "Johnson", "Roberts", "Walker",
         "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis", "Martin",
         "Jackson", "Clarke", "Clark", "Turner", "Hill", "Scott", "Cooper", "Morris", "Ward", "Moore", "King", "Watson", "Baker",
         "Harrison", "Morgan", "Patel", "Young", "Allen", "Mitchell", "James", "Anderson", "Phillips", "Lee", "Bell", "Parker", "Davis"];

    private static readonly string[] Codes = ["8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "29463-7", "8302-2", "2339-0", "718-7", "2093-3"];

    /// <summary>Fills the database: per patient one Patient, <paramref name="observations"/> Observations and 2 Encounters.</summary>
    internal static void Generate(SqliteConnection c, int patients, int observations)
    {
        int P(string type, string code) => SearchTestDatabase.Pid(type, code);
        int patName = P("Patient", "name"), patFamily = P("Patient", "family"), patBirth = P("Patient", "birthdate"), patGender = P("Patient", "gender");
        int obsSubject = P("Observation", "subject"), obsPatient = P("Observation", "patient"), obsCategory = P("Observation", "category"),
            obsCode = P("Observation", "code"), obsDate = P("Observation", "date"), obsValue = P("Observation", "value-quantity"),
            obsStatus = P("Observation", "status");
        int encSubject = P("Encounter", "subject"), encPatient = P("Encounter", "patient"), encDate = P("Encounter", "date");

        using var tx = c.BeginTransaction();
        var res = Command(c, tx, "INSERT INTO resources(type, id, version, last_updated, deleted, body) VALUES ($t, $id, 1, $u, 0, $b) RETURNING res_key", "$t", "$id", "$u", "$b");
        var str = Command(c, tx, "INSERT INTO idx_string VALUES ($k, $p, $n, $v)", "$k", "$p", "$n", "$v");
        var tok = Command(c, tx, "INSERT INTO idx_token(res_key, param_id, system, code, text) VALUES ($k, $p, $s, $c, $x)", "$k", "$p", "$s", "$c", "$x");
        var date = Command(c, tx, "INSERT INTO idx_date VALUES ($k, $p, $lo, $hi)", "$k", "$p", "$lo", "$hi");
        var reff = Command(c, tx, "INSERT INTO idx_reference(res_key, param_id, target_type, target_id) VALUES ($k, $p, $t, $i)", "$k", "$p", "$t", "$i");
        var qty = Command(c, tx, "INSERT INTO idx_quantity VALUES ($k, $p, $s, $c, $lo, $hi)", "$k", "$p", "$s", "$c", "$lo", "$hi");
        var rng = new Random(42);
        var start = new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        long Resource(string type, string id)
        {
            res.Parameters["$t"].Value = type;
            res.Parameters["$id"].Value = id;
            res.Parameters["$u"].Value = start;
            res.Parameters["$b"].Value = $$"""{"resourceType":"{{type}}","id":"{{id}}"}""";
            return (long)res.ExecuteScalar()!;
        }
        void Run(SqliteCommand cmd, params object?[] values)
        {
            for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
            cmd.ExecuteNonQuery();
        }
        for (var p = 0; p < patients; p++)
        {
            var pid = "pat" + p.ToString(CultureInfo.InvariantCulture);
            var k = Resource("Patient", pid);
            var family = Families[rng.Next(Families.Length)];
            var given = "Given" + rng.Next(500).ToString(CultureInfo.InvariantCulture);
            Run(str, k, patName, SearchValues.NormalizeString(family), family);
            Run(str, k, patName, SearchValues.NormalizeString(given), given);
            Run(str, k, patFamily, SearchValues.NormalizeString(family), family);
            var birth = new DateTime(1940, 1, 1).AddDays(rng.Next(25000)).Ticks;
            Run(date, k, patBirth, birth, birth + TimeSpan.TicksPerDay - 1);
            Run(tok, k, patGender, "http://hl7.org/fhir/administrative-gender", rng.Next(2) == 0 ? "male" : "female", null);
            for (var e = 0; e < 2; e++)
            {
                var ek = Resource("Encounter", $"{pid}-e{e}");
                Run(reff, ek, encSubject, "Patient", pid);
                Run(reff, ek, encPatient, "Patient", pid);
                var t = start + (long)(rng.NextDouble() * TimeSpan.TicksPerDay * 3650);
                Run(date, ek, encDate, t, t + TimeSpan.TicksPerHour);
            }
            for (var o = 0; o < observations; o++)
            {
                var ok = Resource("Observation", $"{pid}-o{o}");
                Run(reff, ok, obsSubject, "Patient", pid);
                Run(reff, ok, obsPatient, "Patient", pid);
                var vital = rng.Next(2) == 0;
                Run(tok, ok, obsCategory, "http://terminology.hl7.org/CodeSystem/observation-category", vital ? "vital-signs" : "laboratory", null);
                Run(tok, ok, obsCode, "http://loinc.org", Codes[rng.Next(Codes.Length)], null);
                Run(tok, ok, obsStatus, "http://hl7.org/fhir/observation-status", "final", null);
                var t = start + (long)(rng.NextDouble() * TimeSpan.TicksPerDay * 3650);
                Run(date, ok, obsDate, t, t + TimeSpan.TicksPerSecond - 1);
                var v = 50 + rng.Next(150);
                Run(qty, ok, obsValue, "http://unitsofmeasure.org", "mm[Hg]", v - 0.5, v + 0.5);
            }
        }
        tx.Commit();
    }

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction tx, string sql, params string[] names)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var n in names) cmd.Parameters.Add(new SqliteParameter(n, null));
        cmd.Prepare();
        return cmd;
    }

    internal static readonly string[] BenchmarkQueries =
    [
        "Observation?patient=Patient/pat7&category=vital-signs&_count=50",
        "Patient?name=smi",
        "Observation?code=http://loinc.org|8480-6&date=ge2020-01-01",
        "Observation?category=vital-signs&_count=50",
        "Observation?patient=pat7&_sort=-date&_count=10",
        "Patient?_has:Observation:patient:code=8480-6&name=smith",
        "Observation?subject:Patient.name=smith&code=8480-6",
        "Observation?subject=http://localhost/fhir/Patient/pat7&_count=50",
    ];

    private static SearchRequest Request(string query)
    {
        var q = query.IndexOf('?');
        var r = SearchParser.Parse(query[..q], SearchEngine.ParseQueryString(query[(q + 1)..]), SearchHandling.Strict);
        r.Issues.ShouldBeEmpty();
        return r;
    }

    [Fact]
    public async Task Benchmark_queries_are_driven_by_an_index_not_a_table_scan()
    {
        using var db = new SearchTestDatabase();
        var connection = (SqliteConnection)db.Connection;
        Generate(connection, 30, 20);
        var ct = TestContext.Current.CancellationToken;
        foreach (var query in BenchmarkQueries)
        {
            var plan = await SearchEngine.ExplainAsync(connection, null, Request(query), ct);
            plan.ShouldNotContain("SCAN r\n", customMessage: plan);
            plan.ShouldNotContain("SCAN r ", customMessage: plan);
            plan.ShouldNotContain("SCAN idx_", customMessage: plan);
            plan.ShouldNotContain("(param_id=?)", customMessage: "a whole parameter is walked: " + plan);
            foreach (var probe in plan.Split('\n').Where(l => l.Contains(" EXISTS ", StringComparison.Ordinal)))
                probe.ShouldContain("_key", customMessage: "a per-row probe must use the res_key index: " + probe);
        }
    }

    /// <summary>
    /// A patient user's search (issue 3: <c>Observation?category=laboratory</c> with the Patient compartment as the access
    /// restriction) is driven by the compartment's few reference rows, not by walking every Observation in order until a
    /// page of that patient's is found (11 s on the 1M database before the restriction's set was probed).
    /// </summary>
    [Fact]
    public async Task Patient_scoped_search_is_driven_by_the_patients_compartment()
    {
        using var db = new SearchTestDatabase();
        var connection = (SqliteConnection)db.Connection;
        Generate(connection, 60, 40); // 1,200 laboratory Observations: more than the probe limit, like the 1M database
        var ct = TestContext.Current.CancellationToken;
        static SearchRequest Scoped(string query) =>
            Request(query).AddRestriction("Observation", ("subject", "Patient/pat59"), ("performer", "Patient/pat59"));
        foreach (var query in new[] { "Observation?category=laboratory", "Observation?_count=5" })
        {
            var plan = await SearchEngine.ExplainAsync(connection, null, Scoped(query), ct);
            var page = plan.Split('\n').Single(l => l.StartsWith("-- page:", StringComparison.Ordinal));
            page.ShouldContain("r.res_key IN (SELECT res_key FROM idx_reference", customMessage: plan);
        }
        // A granular scope (patient/Observation.rs?category=laboratory): the compartment AND the scope's query.
        static SearchRequest Granular(string query) => Request(query).AddRestrictionGroups("Observation",
            [[new("subject", "Patient/pat59"), new("category", "laboratory")], [new("performer", "Patient/pat59"), new("category", "laboratory")]]);
        var granularPlan = await SearchEngine.ExplainAsync(connection, null, Granular("Observation?_count=5"), ct);
        granularPlan.Split('\n').Single(l => l.StartsWith("-- page:", StringComparison.Ordinal))
            .ShouldContain("r.res_key IN (SELECT g0.res_key FROM resources g0 WHERE g0.res_key IN (SELECT res_key FROM idx_reference", customMessage: granularPlan);
        var granular = await SearchEngine.ExecuteAsync(connection, Granular("Observation?_count=100"), ct);
        var scoped = await SearchEngine.ExecuteAsync(connection, Scoped("Observation?category=laboratory&_count=100"), ct);
        granular.Matches.Select(m => m.Id).ShouldBe(scoped.Matches.Select(m => m.Id));
        granular.Total.ShouldBe(scoped.Total);
        var direct = await SearchEngine.ExecuteAsync(connection, Request("Observation?patient=pat59&category=laboratory&_count=100"), ct);
        scoped.Matches.Count.ShouldBeGreaterThan(0);
        scoped.Matches.Select(m => m.Id).ShouldBe(direct.Matches.Select(m => m.Id));
        scoped.Total.ShouldBe(direct.Total);
    }

    /// <summary>Writes plans and latencies to search-bench.txt in the temp folder; the database is kept there for reruns.</summary>
    [Fact(Explicit = true)]
    public async Task Benchmark_queries_on_a_hundred_thousand_resources()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Path.Combine(Path.GetTempPath(), "ignis-search-bench");
        var path = Path.Combine(dir, "bench.db");
        var database = new Ignis.Fhir.Storage.FhirDatabase(path);
        var fresh = !File.Exists(path);
        database.Migrate();
        using var connection = database.Open();
        using var output = new StreamWriter(Path.Combine(Path.GetTempPath(), "search-bench.txt"));
        var sw = Stopwatch.StartNew();
        if (fresh)
        {
            Generate(connection, 2000, 47);
            output.WriteLine($"generated 100k resources in {sw.ElapsedMilliseconds} ms");
        }
        foreach (var query in BenchmarkQueries)
        {
            output.WriteLine("== " + query);
            output.WriteLine(await SearchEngine.ExplainAsync(connection, null, Request(query), ct));
            var times = new List<double>();
            SearchResult? last = null;
            for (var i = 0; i < 30; i++)
            {
                sw.Restart();
                last = await SearchEngine.ExecuteAsync(connection, Request(query.Replace("pat7", "pat" + (i * 61 % 2000).ToString(CultureInfo.InvariantCulture))), ct);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            output.WriteLine($"   matches {last!.Matches.Count}, total {last.Total}; median {times[15]:F1} ms, max {times[^1]:F1} ms");
            output.Flush();
        }
    }
}
