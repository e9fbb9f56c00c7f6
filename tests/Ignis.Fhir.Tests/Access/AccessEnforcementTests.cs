using System.Text;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Smart.Access;
using Ignis.Smart.Scopes;
using Ignis.Fhir.Tests.Providers;
using Shouldly;
using Xunit;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Access;

/// <summary>
/// The access decision applied by the real engine on a real database: alice (a patient user) must never
/// reach dave's records through any interaction, whatever her scopes say.
/// </summary>
public sealed class SqliteAccessEnforcementTests() : AccessEnforcementTests(StoreKind.Sqlite, null);

public sealed class PostgresAccessEnforcementTests(PostgresFixture fixture)
    : AccessEnforcementTests(StoreKind.Postgres, fixture), IClassFixture<PostgresFixture>;

public abstract class AccessEnforcementTests(StoreKind kind, PostgresFixture? fixture) : IAsyncLifetime
{
    private EngineTestStore _store = null!;
    private FhirService _service = null!;
    private const string Base = "http://localhost/fhir";

    public async ValueTask InitializeAsync()
    {
        _store = EngineTestStore.For(kind, fixture);
        _service = _store.Service;
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        foreach (var r in Data()) bundle.Entry.Add(new Bundle.EntryComponent
        {
            Resource = r,
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"{r.TypeName}/{r.Id}" },
        });
        var response = await _service.ExecuteAsync(new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle }, Base, TestContext.Current.CancellationToken);
        response.Status.ShouldBe(200, response.Outcome?.Issue.FirstOrDefault()?.Diagnostics);
    }

    public ValueTask DisposeAsync()
    {
        _store?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static IEnumerable<Resource> Data()
    {
        yield return new Patient { Id = "alice", Gender = AdministrativeGender.Female };
        yield return new Patient { Id = "dave", Gender = AdministrativeGender.Male };
        yield return new Practitioner { Id = "carol" };
        foreach (var (id, patient, category) in new[] { ("a-lab", "alice", "laboratory"), ("a-vital", "alice", "vital-signs"), ("d-lab", "dave", "laboratory") })
            yield return new Observation
            {
                Id = id,
                Status = ObservationStatus.Final,
                Code = new CodeableConcept("http://loinc.org", "2339-0"),
                Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/observation-category", category)],
                Subject = new ResourceReference($"Patient/{patient}"),
                Performer = [new ResourceReference("Practitioner/carol")],
            };
        yield return new Condition { Id = "d-cond", Subject = new ResourceReference("Patient/dave"), Code = new CodeableConcept("http://snomed.info/sct", "195967001") };
    }

    private static AccessContext Alice(string scopes) => AccessContext.ForPatientUser(ScopeSet.Parse(scopes).Scopes, "alice", "alice");
    private static AccessContext Carol(string scopes, string? launchPatient = null) => AccessContext.ForPractitionerUser(ScopeSet.Parse(scopes).Scopes, launchPatient);

    private Task<FhirResponse> Run(AccessContext access, Interaction interaction, string? type = null, string? id = null, string? query = null,
        Resource? body = null, string method = "GET", int? version = null) =>
        _service.ExecuteAsync(new FhirRequest
        {
            Interaction = interaction,
            Method = method,
            Type = type,
            Id = id,
            Version = version,
            Query = query is null ? [] : FhirService.ParseCriteria(query),
            Body = body,
            Access = access,
        }, Base, TestContext.Current.CancellationToken);

    private static List<string> Ids(FhirResponse response, string mode = "match")
    {
        response.Status.ShouldBe(200, response.Outcome?.Issue.FirstOrDefault()?.Diagnostics);
        return ((Bundle)response.Resource!).Entry.Where(e => e.Search?.Mode?.ToString()?.ToLowerInvariant() == mode)
            .Select(e => $"{e.Resource!.TypeName}/{e.Resource.Id}").ToList();
    }

    [Theory]
    [InlineData("patient/*.read")]
    [InlineData("user/*.cruds")]
    [InlineData("patient/Observation.rs")]
    public async Task A_patient_user_reads_her_own_data_but_daves_is_not_found(string scopes)
    {
        (await Run(Alice(scopes), Interaction.Read, "Observation", "a-lab")).Status.ShouldBe(200);
        (await Run(Alice(scopes), Interaction.Read, "Observation", "d-lab")).Status.ShouldBe(404);
        (await Run(Alice(scopes), Interaction.VRead, "Observation", "d-lab", version: 1)).Status.ShouldBe(404);
        (await Run(Alice(scopes), Interaction.HistoryInstance, "Observation", "d-lab")).Status.ShouldBe(404);
    }

    [Fact]
    public async Task A_patient_users_search_is_filtered_to_her_compartment_in_the_query()
    {
        var alice = Alice("patient/*.rs");
        Ids(await Run(alice, Interaction.SearchType, "Observation")).ShouldBe(["Observation/a-lab", "Observation/a-vital"], ignoreOrder: true);
        Ids(await Run(alice, Interaction.SearchType, "Observation", query: "subject=Patient/dave")).ShouldBeEmpty();
        Ids(await Run(alice, Interaction.SearchType, "Patient")).ShouldBe(["Patient/alice"]);
        Ids(await Run(alice, Interaction.SearchType, "Condition")).ShouldBeEmpty();
        var total = (Bundle)(await Run(alice, Interaction.SearchType, "Observation", query: "_summary=count")).Resource!;
        total.Total.ShouldBe(2);
    }

    [Fact]
    public async Task Includes_chains_and_has_never_reach_outside_the_grant()
    {
        var alice = Alice("patient/*.rs");
        Ids(await Run(alice, Interaction.SearchType, "Patient", query: "_revinclude=Observation:subject"), "include")
            .ShouldBe(["Observation/a-lab", "Observation/a-vital"], ignoreOrder: true);
        Ids(await Run(alice, Interaction.SearchType, "Observation", query: "subject:Patient.gender=male")).ShouldBeEmpty();
        Ids(await Run(alice, Interaction.SearchType, "Patient", query: "_has:Observation:subject:category=laboratory")).ShouldBe(["Patient/alice"]);
        // Practitioner is outside any Patient compartment: a patient-bound grant does not include it.
        Ids(await Run(alice, Interaction.SearchType, "Observation", query: "_include=Observation:performer"), "include").ShouldBeEmpty();
    }

    [Fact]
    public async Task System_search_returns_only_granted_rows()
    {
        Ids(await Run(Alice("patient/*.rs"), Interaction.SearchSystem)).ShouldBe(
            ["Patient/alice", "Observation/a-lab", "Observation/a-vital"], ignoreOrder: true);
    }

    [Fact]
    public async Task Granular_scopes_filter_reads_and_searches_alike()
    {
        var alice = Alice("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory");
        Ids(await Run(alice, Interaction.SearchType, "Observation")).ShouldBe(["Observation/a-lab"]);
        (await Run(alice, Interaction.Read, "Observation", "a-vital")).Status.ShouldBe(404);
        (await Run(alice, Interaction.Read, "Observation", "a-lab")).Status.ShouldBe(200);
    }

    [Fact]
    public async Task A_clinicians_user_scopes_cover_all_patients_and_patient_scopes_only_the_launch_patient()
    {
        Ids(await Run(Carol("user/Observation.rs"), Interaction.SearchType, "Observation")).Count.ShouldBe(3);
        Ids(await Run(Carol("patient/Observation.rs", "dave"), Interaction.SearchType, "Observation")).ShouldBe(["Observation/d-lab"]);
    }

    [Fact]
    public async Task History_across_resources_needs_an_unrestricted_grant()
    {
        (await Run(Alice("patient/*.rs"), Interaction.HistoryType, "Observation")).Status.ShouldBe(403);
        (await Run(Alice("patient/*.rs"), Interaction.HistorySystem)).Status.ShouldBe(403);
        (await Run(Carol("user/*.rs"), Interaction.HistoryType, "Observation")).Status.ShouldBe(200);
        (await Run(Alice("patient/*.rs"), Interaction.HistoryInstance, "Observation", "a-lab")).Status.ShouldBe(200);
    }

    [Fact]
    public async Task A_missing_scope_is_403()
    {
        (await Run(Alice("patient/Observation.rs"), Interaction.Read, "Condition", "d-cond")).Status.ShouldBe(403);
        (await Run(Alice("patient/Observation.rs"), Interaction.Create, "Observation", body: Obs("x", "alice"), method: "POST")).Status.ShouldBe(403);
    }

    private static Observation Obs(string? id, string patient) => new()
    {
        Id = id,
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", "8867-4"),
        Subject = new ResourceReference($"Patient/{patient}"),
    };

    [Fact]
    public async Task A_patient_cannot_write_into_another_patients_compartment_or_move_a_resource_out_of_hers()
    {
        var alice = Alice("patient/*.cruds");
        (await Run(alice, Interaction.Create, "Observation", body: Obs(null, "alice"), method: "POST")).Status.ShouldBe(201);
        (await Run(alice, Interaction.Create, "Observation", body: Obs(null, "dave"), method: "POST")).Status.ShouldBe(403);
        (await Run(alice, Interaction.Update, "Observation", "a-lab", body: Obs("a-lab", "dave"), method: "PUT")).Status.ShouldBe(403);
        (await Run(alice, Interaction.Update, "Observation", "d-lab", body: Obs("d-lab", "alice"), method: "PUT")).Status.ShouldBe(403);
        (await Run(alice, Interaction.Delete, "Observation", "d-lab", method: "DELETE")).Status.ShouldBe(403);

        // Nothing of the refused writes was stored.
        var carol = Carol("user/*.rs");
        var lab = (await Run(carol, Interaction.Read, "Observation", "a-lab")).Stored!;
        lab.Version.ShouldBe(1);
        (await Run(carol, Interaction.Read, "Observation", "d-lab")).Status.ShouldBe(200);
        Ids(await Run(carol, Interaction.SearchType, "Observation", query: "subject=Patient/dave")).ShouldBe(["Observation/d-lab"]);
    }

    [Fact]
    public async Task Each_entry_of_a_transaction_is_decided_and_one_refusal_fails_the_whole_transaction()
    {
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new() { Resource = Obs("t-1", "alice"), Request = new() { Method = Bundle.HTTPVerb.PUT, Url = "Observation/t-1" } },
                new() { Resource = Obs("t-2", "dave"), Request = new() { Method = Bundle.HTTPVerb.PUT, Url = "Observation/t-2" } },
            ],
        };
        (await Run(Alice("patient/*.cruds"), Interaction.Bundle, body: bundle, method: "POST")).Status.ShouldBe(403);
        (await Run(Carol("user/*.rs"), Interaction.Read, "Observation", "t-1")).Status.ShouldBe(404);

        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry =
            [
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Observation/a-lab" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Observation/d-lab" } },
            ],
        };
        var result = (Bundle)(await Run(Alice("patient/*.rs"), Interaction.Bundle, body: batch, method: "POST")).Resource!;
        result.Entry[0].Response!.Status.ShouldStartWith("200");
        result.Entry[1].Response!.Status.ShouldStartWith("404");
    }

    [Fact]
    public async Task Conditional_create_does_not_match_resources_outside_the_grant()
    {
        var request = new FhirRequest
        {
            Interaction = Interaction.Create,
            Method = "POST",
            Type = "Observation",
            Body = Obs(null, "alice"),
            IfNoneExist = "subject=Patient/dave",
            Access = Alice("patient/*.cruds"),
        };
        var response = await _service.ExecuteAsync(request, Base, TestContext.Current.CancellationToken);
        response.Status.ShouldBe(201); // dave's Observation is invisible, so nothing matched
        response.Stored!.Id.ShouldNotBe("d-lab");
    }
}
