using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Tests.Providers;
using Shouldly;
using static Ignis.Fhir.Tests.Providers.StoreInteractionTests;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Storage;

/// <summary><see cref="FhirService.CreateAllAsync"/>: many creates of one type in one transaction, without a Bundle.</summary>
public sealed class CreateAllTests : IDisposable
{
    private readonly EngineTestStore _engine = new();
    private FhirService Service => _engine.Service;

    public void Dispose() => _engine.Dispose();

    [Fact]
    public async Task Every_resource_is_created_as_version_1_with_its_history_and_search_rows_in_one_commit()
    {
        var commits = ((SqliteFhirStore)_engine.Store).Commits;
        var ids = await Service.CreateAllAsync("Patient",
            [Patient("ignored-1", "Bulkfamily"), Patient("ignored-2", "Bulkfamily"), Patient("ignored-3", "Otherfamily")],
            TestContext.Current.CancellationToken);

        ids.Count.ShouldBe(3);
        ids.Distinct().Count().ShouldBe(3);
        ((SqliteFhirStore)_engine.Store).Commits.ShouldBe(commits + 1);
        foreach (var id in ids)
        {
            var read = await Run(Service, Get("Patient", id));
            read.Status.ShouldBe(200);
            read.ETag.ShouldBe("W/\"1\"");
            read.Stored!.Id.ShouldBe(id);
            read.Stored.Json!.ShouldContain("\"id\":\"" + id + "\"");
        }
        var found = (Bundle)(await Run(Service, SearchFor("Patient", "family=Bulkfamily"))).Resource!;
        found.Entry.Select(e => e.Resource!.Id).Order().ShouldBe(ids.Take(2).Order());
        var history = (Bundle)(await Run(Service, new FhirRequest { Interaction = Interaction.HistoryType, Method = "GET", Type = "Patient" })).Resource!;
        history.Total.ShouldBe(3);
    }

    [Fact]
    public async Task A_resource_of_another_type_is_refused_and_nothing_is_written()
    {
        await Should.ThrowAsync<FhirException>(() => Service.CreateAllAsync("Patient",
            [Patient("a", "Mixed"), new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "1-1") }],
            TestContext.Current.CancellationToken));
        var found = (Bundle)(await Run(Service, SearchFor("Patient", "family=Mixed"))).Resource!;
        found.Entry.ShouldBeEmpty();
    }
}
