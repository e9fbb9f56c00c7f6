using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;
using Shouldly;
using Xunit;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Providers;

public sealed class SqliteStoreInteractionTests() : StoreInteractionTests(StoreKind.Sqlite, null);

public sealed class PostgresStoreInteractionTests(PostgresFixture fixture)
    : StoreInteractionTests(StoreKind.Postgres, fixture), IClassFixture<PostgresFixture>;

/// <summary>
/// The interactions through <see cref="FhirService"/> on each storage provider: versions, history, conditional
/// writes, transaction Bundles and searches over what the write path indexed.
/// </summary>
public abstract class StoreInteractionTests(StoreKind kind, PostgresFixture? fixture) : IDisposable
{
    private readonly EngineTestStore _store = EngineTestStore.For(kind, fixture);
    private FhirService Service => _store.Service;
    internal const string Base = "http://localhost/fhir";

    public void Dispose()
    {
        _store.Dispose();
        GC.SuppressFinalize(this);
    }

    internal static Task<FhirResponse> Run(FhirService service, FhirRequest request) =>
        service.ExecuteAsync(request, Base, TestContext.Current.CancellationToken);

    internal static FhirRequest Put(Resource r, string? ifMatch = null) =>
        new() { Interaction = Interaction.Update, Method = "PUT", Type = r.TypeName, Id = r.Id, Body = r, IfMatch = ifMatch };

    internal static FhirRequest Get(string type, string id) => new() { Interaction = Interaction.Read, Method = "GET", Type = type, Id = id };

    internal static FhirRequest SearchFor(string type, string query) => new()
    {
        Interaction = Interaction.SearchType, Method = "GET", Type = type, StrictHandling = true,
        Query = Ignis.Fhir.Search.Query.SearchEngine.ParseQueryString(query),
    };

    internal static Patient Patient(string id, string family, int counter = 0) => new()
    {
        Id = id,
        Name = [new HumanName { Family = family }],
        MultipleBirth = new Integer(counter),
    };

    [Fact]
    public async Task Update_makes_a_new_version_and_every_version_stays_readable()
    {
        (await Run(Service, Put(Patient("p1", "First")))).Status.ShouldBe(201);
        var second = await Run(Service, Put(Patient("p1", "Second")));
        second.Status.ShouldBe(200);
        second.ETag.ShouldBe("W/\"2\"");

        var read = await Run(Service, Get("Patient", "p1"));
        read.Stored!.Version.ShouldBe(2);
        read.Stored.Json!.ShouldContain("\"Second\"");
        // The stored text comes back as written: the engine's JSON, resourceType first.
        read.Stored.Json.ShouldStartWith("{\"resourceType\":\"Patient\"");

        var v1 = await Run(Service, new FhirRequest { Interaction = Interaction.VRead, Method = "GET", Type = "Patient", Id = "p1", Version = 1 });
        v1.Status.ShouldBe(200);
        v1.Stored!.Json!.ShouldContain("\"First\"");
        v1.Stored.LastUpdated.ShouldBeLessThan(read.Stored.LastUpdated);
    }

    [Fact]
    public async Task Delete_leaves_a_gone_resource_and_history_newest_first_with_paging()
    {
        await Run(Service, Put(Patient("p1", "A")));
        await Run(Service, Put(Patient("p1", "B")));
        (await Run(Service, new FhirRequest { Interaction = Interaction.Delete, Method = "DELETE", Type = "Patient", Id = "p1" })).Status.ShouldBe(204);
        (await Run(Service, Get("Patient", "p1"))).Status.ShouldBe(410);

        var history = await Run(Service, new FhirRequest
        {
            Interaction = Interaction.HistoryInstance, Method = "GET", Type = "Patient", Id = "p1", Query = [new("_count", "2")],
        });
        var bundle = (Bundle)history.Resource!;
        bundle.Total.ShouldBe(3);
        bundle.Entry.Select(e => e.Response!.Etag).ShouldBe(["W/\"3\"", "W/\"2\""]);
        bundle.Entry[0].Request!.Method.ShouldBe(Bundle.HTTPVerb.DELETE);
        var next = bundle.Link.Single(l => l.Relation == "next").Url!;
        var beforeSeq = next[(next.IndexOf("_before_seq=", StringComparison.Ordinal) + 12)..];
        var page2 = (Bundle)(await Run(Service, new FhirRequest
        {
            Interaction = Interaction.HistoryInstance, Method = "GET", Type = "Patient", Id = "p1",
            Query = [new("_count", "2"), new("_before_seq", beforeSeq)],
        })).Resource!;
        page2.Entry.Select(e => e.Response!.Etag).ShouldBe(["W/\"1\""]);

        // Deleted: no longer found by search; created again: version 4.
        ((Bundle)(await Run(Service, SearchFor("Patient", "family=B"))).Resource!).Entry.ShouldBeEmpty();
        (await Run(Service, Put(Patient("p1", "C")))).ETag.ShouldBe("W/\"4\"");
    }

    [Fact]
    public async Task If_match_on_a_stale_version_is_refused_with_412()
    {
        await Run(Service, Put(Patient("p1", "A")));
        await Run(Service, Put(Patient("p1", "B")));
        var stale = await Run(Service, Put(Patient("p1", "C"), ifMatch: "W/\"1\""));
        stale.Status.ShouldBe(412);
        stale.Outcome!.Issue[0].Code.ShouldBe(OperationOutcome.IssueType.Conflict);
        (await Run(Service, Put(Patient("p1", "C"), ifMatch: "W/\"2\""))).Status.ShouldBe(200);
    }

    [Fact]
    public async Task Conditional_create_returns_the_existing_match()
    {
        var patient = Patient("ignored", "Smith");
        patient.Identifier = [new Identifier("http://x", "42")];
        FhirRequest Create() => new()
        {
            Interaction = Interaction.Create, Method = "POST", Type = "Patient", Body = patient.DeepCopy() as Patient, IfNoneExist = "identifier=http://x|42",
        };
        var first = await Run(Service, Create());
        first.Status.ShouldBe(201);
        var again = await Run(Service, Create());
        again.Status.ShouldBe(200);
        again.Stored!.Id.ShouldBe(first.Stored!.Id);
    }

    [Fact]
    public async Task A_failed_transaction_entry_rolls_back_every_entry()
    {
        await Run(Service, Put(Patient("keep", "Before")));
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(Entry(Patient("keep", "Changed"), Bundle.HTTPVerb.PUT, "Patient/keep"));
        bundle.Entry.Add(Entry(Patient("new1", "New"), Bundle.HTTPVerb.PUT, "Patient/new1"));
        var stale = Entry(Patient("keep2", "X"), Bundle.HTTPVerb.PUT, "Patient/keep2");
        stale.Request!.IfMatch = "W/\"7\""; // keep2 does not exist: 412, the whole transaction fails
        bundle.Entry.Add(stale);
        var response = await Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });
        response.Status.ShouldBe(412);

        (await Run(Service, Get("Patient", "keep"))).Stored!.Json!.ShouldContain("Before");
        (await Run(Service, Get("Patient", "new1"))).Status.ShouldBe(404);
        ((Bundle)(await Run(Service, new FhirRequest { Interaction = Interaction.HistorySystem, Method = "GET" })).Resource!).Total.ShouldBe(1);
    }

    [Fact]
    public async Task A_transaction_resolves_urn_references_and_search_follows_them()
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        var patient = Patient("x", "Chalmers");
        patient.Id = null;
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:0b8a1d0e-0000-4000-8000-000000000001",
            Resource = patient,
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            Resource = new Observation
            {
                Status = ObservationStatus.Final,
                Code = new CodeableConcept("http://loinc.org", "8867-4"),
                Subject = new ResourceReference("urn:uuid:0b8a1d0e-0000-4000-8000-000000000001"),
                Effective = new FhirDateTime("2024-05-01T10:00:00Z"),
                Value = new Quantity(72, "/min"),
            },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
        });
        var response = await Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });
        response.Status.ShouldBe(200, response.Outcome?.Issue.FirstOrDefault()?.Diagnostics);

        async Task<Bundle> Find(string type, string query)
        {
            var r = await Run(Service, SearchFor(type, query));
            r.Status.ShouldBe(200, r.Outcome?.Issue.FirstOrDefault()?.Diagnostics);
            return (Bundle)r.Resource!;
        }
        var chained = await Find("Observation", "subject:Patient.family=chalm&date=ge2024-05&code=http://loinc.org|8867-4&_include=Observation:subject");
        chained.Entry.Count(e => e.Search!.Mode == Bundle.SearchEntryMode.Match).ShouldBe(1);
        chained.Entry.Single(e => e.Search!.Mode == Bundle.SearchEntryMode.Include).Resource!.ShouldBeOfType<Patient>();
        var has = await Find("Patient", "_has:Observation:subject:code=8867-4&_revinclude=Observation:subject");
        has.Entry.Select(e => e.Resource!.TypeName).Order().ShouldBe(["Observation", "Patient"]);
        (await Find("Observation", "date=lt2024-05-01")).Entry.ShouldBeEmpty();
        (await Find("Patient", "family:contains=alme")).Entry.ShouldHaveSingleItem();
        (await Find("Patient", "_sort=-_lastUpdated&_total=accurate")).Total.ShouldBe(1);
    }

    [Fact]
    public async Task Compartment_search_sees_only_the_patients_resources()
    {
        await Run(Service, Put(Patient("a", "A")));
        await Run(Service, Put(Patient("b", "B")));
        foreach (var (id, subject) in new[] { ("oa", "a"), ("ob", "b") })
            await Run(Service, Put(new Observation
            {
                Id = id, Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "1"),
                Subject = new ResourceReference("Patient/" + subject),
            }));
        var r = await Run(Service, new FhirRequest
        {
            Interaction = Interaction.SearchCompartment, Method = "GET", CompartmentType = "Patient", Id = "a", Type = "Observation",
        });
        ((Bundle)r.Resource!).Entry.Select(e => e.Resource!.Id).ShouldBe(["oa"]);
    }

    internal static Bundle.EntryComponent Entry(Resource r, Bundle.HTTPVerb method, string url) => new()
    {
        Resource = r,
        Request = new Bundle.RequestComponent { Method = method, Url = url },
    };

    internal static int Counter(FhirResponse read) =>
        ((Integer)((Patient)FhirSerializer.FromStoredJson(read.Stored!.Json!)).MultipleBirth!).Value!.Value;
}
