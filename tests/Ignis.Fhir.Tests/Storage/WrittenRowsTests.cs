using System.Globalization;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Tests.Indexing;
using Ignis.Fhir.Tests.Providers;
using Microsoft.Data.Sqlite;
using Shouldly;
using static Ignis.Fhir.Tests.Providers.StoreInteractionTests;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Storage;

/// <summary>
/// What the SQLite write path (<see cref="ResourceStore.Write"/>) leaves in the tables: exactly the index rows the indexer
/// extracts from the stored version, column by column (NULLs and doubles included), one resources row and one history
/// row per version, and after an update or a delete none of the old version's index rows.
/// </summary>
public sealed class WrittenRowsTests : IDisposable
{
    private readonly EngineTestStore _engine = new();
    private FhirService Service => _engine.Service;
    private FhirDatabase Database => ((SqliteFhirStore)_engine.Store).Database;
    private static readonly ResourceIndexer Indexer = new(SearchParameterRegistry.Default);

    public void Dispose() => _engine.Dispose();

    public static TheoryData<string> SampleNames() => [.. Samples.All().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(SampleNames))]
    public async Task A_written_resource_has_exactly_the_extracted_index_rows(string name)
    {
        var resource = Samples.Parse(Samples.All().Single(s => s.Name == name).Json);
        var response = await Run(Service, Put(resource));
        response.Status.ShouldBe(201);

        RowsOf(response.Stored!.ResKey).ShouldBe(Expected(response.Stored));
        Count("resources", response.Stored.ResKey).ShouldBe(1);
        Count("history", response.Stored.ResKey).ShouldBe(1);
    }

    [Fact]
    public async Task Numbers_uris_and_composites_without_a_third_part_are_stored_as_extracted()
    {
        var risk = new RiskAssessment
        {
            Id = "risk1",
            Status = ObservationStatus.Final,
            Subject = new ResourceReference("Patient/p1"),
            Prediction = [new RiskAssessment.PredictionComponent { Probability = new FhirDecimal(0.40m) }],
        };
        var valueSet = new ValueSet { Id = "vs1", Url = "http://example.org/fhir/ValueSet/vs1", Version = "2.0", Status = PublicationStatus.Active };
        var written = new List<StoredResource>();
        foreach (var r in new Resource[] { risk, valueSet })
        {
            var response = await Run(Service, Put(r));
            response.Status.ShouldBe(201);
            written.Add(response.Stored!);
        }

        var riskRows = RowsOf(written[0].ResKey);
        riskRows.ShouldContain(r => r.StartsWith("idx_number ", StringComparison.Ordinal));
        riskRows.ShouldBe(Expected(written[0]));
        var valueSetRows = RowsOf(written[1].ResKey);
        valueSetRows.ShouldContain(r => r.StartsWith("idx_uri ", StringComparison.Ordinal));
        valueSetRows.ShouldBe(Expected(written[1]));
    }

    [Fact]
    public async Task An_update_replaces_the_index_rows_and_a_delete_removes_them()
    {
        var first = (await Run(Service, Put(Samples.Parse(Samples.LabObservation)))).Stored!;
        var changed = (Observation)Samples.Parse(Samples.LabObservation);
        changed.Code = new CodeableConcept("http://loinc.org", "4548-4");
        changed.Value = new Quantity(7.1m, "%", "http://unitsofmeasure.org");

        var second = (await Run(Service, Put(changed))).Stored!;

        second.ResKey.ShouldBe(first.ResKey);
        second.Version.ShouldBe(2);
        RowsOf(second.ResKey).ShouldBe(Expected(second));
        RowsOf(second.ResKey).ShouldNotBe(Expected(first));
        Count("history", second.ResKey).ShouldBe(2);

        (await Run(Service, new FhirRequest { Interaction = Interaction.Delete, Method = "DELETE", Type = "Observation", Id = second.Id })).Status.ShouldBe(204);
        RowsOf(second.ResKey).ShouldBeEmpty();
        Count("history", second.ResKey).ShouldBe(3);
    }

    [Fact]
    public async Task A_transaction_writes_every_entry_with_its_rows()
    {
        var samples = Samples.All().Select(s => Samples.Parse(s.Json)).ToList();
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [.. samples.Select(r => new Bundle.EntryComponent
            {
                FullUrl = $"{StoreInteractionTests.Base}/{r.TypeName}/{r.Id}",
                Resource = r,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"{r.TypeName}/{r.Id}" },
            })],
        };
        var response = await Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });
        response.Status.ShouldBe(200);

        foreach (var r in samples)
        {
            var stored = (await Run(Service, Get(r.TypeName, r.Id!))).Stored!;
            RowsOf(stored.ResKey).ShouldBe(Expected(stored));
        }
    }

    private static List<string> Expected(StoredResource stored)
    {
        var index = Indexer.Extract(FhirSerializer.FromStoredJson(stored.Json!));
        var rows = new List<string>();
        rows.AddRange(index.Strings.Select(e => Row("idx_string", e.ParamId, e.ValueNorm, e.Value)));
        rows.AddRange(index.Tokens.Select(e => Row("idx_token", e.ParamId, e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode)));
        rows.AddRange(index.Dates.Select(e => Row("idx_date", e.ParamId, e.Lo, e.Hi)));
        rows.AddRange(index.Numbers.Select(e => Row("idx_number", e.ParamId, e.Lo, e.Hi)));
        rows.AddRange(index.Quantities.Select(e => Row("idx_quantity", e.ParamId, e.System, e.Code, e.Lo, e.Hi)));
        rows.AddRange(index.References.Select(e => Row("idx_reference", e.ParamId, e.TargetType, e.TargetId, e.Url, e.UrlVersion)));
        rows.AddRange(index.Uris.Select(e => Row("idx_uri", e.ParamId, e.Uri)));
        rows.AddRange(index.Composites.Select(e => Row("idx_composite", e.ParamId,
            e.C1.System, e.C1.Code, e.C1.Lo, e.C1.Hi, e.C2.System, e.C2.Code, e.C2.Lo, e.C2.Hi, e.C3?.System, e.C3?.Code, e.C3?.Lo, e.C3?.Hi)));
        rows.Count.ShouldBeGreaterThan(0);
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static readonly (string Table, string Columns)[] Tables =
    [
        ("idx_string", "param_id, value_norm, value"),
        ("idx_token", "param_id, system, code, text, type_system, type_code"),
        ("idx_date", "param_id, lo, hi"),
        ("idx_number", "param_id, lo, hi"),
        ("idx_quantity", "param_id, system, code, lo, hi"),
        ("idx_reference", "param_id, target_type, target_id, url, url_version"),
        ("idx_uri", "param_id, uri"),
        ("idx_composite", "param_id, c1_system, c1_code, c1_lo, c1_hi, c2_system, c2_code, c2_lo, c2_hi, c3_system, c3_code, c3_lo, c3_hi"),
    ];

    /// <summary>Every index row of the resource, as "table value|value|…" with each value's SQLite storage class.</summary>
    private List<string> RowsOf(long key)
    {
        using var connection = Database.Open();
        var rows = new List<string>();
        foreach (var (table, columns) in Tables)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT {columns} FROM {table} WHERE res_key = $k";
            cmd.Parameters.AddWithValue("$k", key);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
                rows.Add(Row(table, [.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i))]));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private long Count(string table, long key)
    {
        using var connection = Database.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {table} WHERE res_key = $k";
        cmd.Parameters.AddWithValue("$k", key);
        return (long)cmd.ExecuteScalar()!;
    }

    // Integers (param ids, ticks) as SQLite INTEGER, doubles as REAL with every bit (round trip "R"), text as TEXT.
    private static string Row(string table, params object?[] values) =>
        table + " " + string.Join("|", values.Select(v => v switch
        {
            null => "NULL",
            int i => "INTEGER " + i.ToString(CultureInfo.InvariantCulture),
            long l => "INTEGER " + l.ToString(CultureInfo.InvariantCulture),
            double d => "REAL " + d.ToString("R", CultureInfo.InvariantCulture),
            string s => "TEXT " + s,
            _ => throw new InvalidOperationException($"Unexpected value {v.GetType()}"),
        }));
}
