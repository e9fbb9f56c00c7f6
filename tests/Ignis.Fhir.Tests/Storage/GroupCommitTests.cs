using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Tests.Providers;
using Microsoft.Data.Sqlite;
using Shouldly;
using static Ignis.Fhir.Tests.Providers.StoreInteractionTests;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Storage;

/// <summary>
/// SQLite group commit (<see cref="SqliteFhirStore"/>): writes that queue while another write holds the gate are
/// committed together in one transaction (a failing one is left out and the others run again).
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly EngineTestStore _engine = new();
    private SqliteFhirStore Store => (SqliteFhirStore)_engine.Store;
    private FhirService Service => _engine.Service;

    public void Dispose() => _engine.Dispose();

    /// <summary>
    /// Holds the gate with a write that waits for <see cref="Release"/>, so that the writes started meanwhile queue up
    /// and are taken as one group once it is released.
    /// </summary>
    private sealed class Blocker
    {
        private readonly ManualResetEventSlim _entered = new();
        private readonly ManualResetEventSlim _release = new();

        public Blocker(SqliteFhirStore store)
        {
            Done = Task.Run(() => store.WriteAsync(_ =>
            {
                _entered.Set();
                _release.Wait(TimeSpan.FromSeconds(30));
                return 0;
            }, CancellationToken.None));
            _entered.Wait(TimeSpan.FromSeconds(30)).ShouldBeTrue();
        }

        public Task Done { get; }

        public void Release() => _release.Set();
    }

    private async Task WaitQueued(int n)
    {
        for (var i = 0; i < 3000 && Store.Queued < n; i++) await Task.Delay(10, TestContext.Current.CancellationToken);
        Store.Queued.ShouldBe(n);
    }

    private static FhirRequest Transaction(params Bundle.EntryComponent[] entries) => new()
    {
        Interaction = Interaction.Bundle,
        Method = "POST",
        Body = new Bundle { Type = Bundle.BundleType.Transaction, Entry = [.. entries] },
    };

    private static Bundle.EntryComponent PutEntry(string id, string? ifMatch = null)
    {
        var entry = Entry(Patient(id, "Family-" + id), Bundle.HTTPVerb.PUT, "Patient/" + id);
        entry.Request!.IfMatch = ifMatch;
        return entry;
    }

    [Fact]
    public async Task A_failing_transaction_in_a_group_rolls_back_alone_and_the_others_commit()
    {
        var blocker = new Blocker(Store);
        var first = Task.Run(() => Run(Service, Transaction(PutEntry("g1a"), PutEntry("g1b"))));
        // The second transaction's first entry is written before its second fails (If-Match on a missing resource).
        var failing = Task.Run(() => Run(Service, Transaction(PutEntry("g2a"), PutEntry("g2b", "W/\"5\""))));
        var third = Task.Run(() => Run(Service, Transaction(PutEntry("g3a"))));
        await WaitQueued(3);
        var commits = Store.Commits;

        blocker.Release();
        await blocker.Done;
        var responses = await Task.WhenAll(first, failing, third);

        responses.Select(r => r.Status).ShouldBe([200, 412, 200]);
        // ONE transaction: the three Bundles queued while the blocker's group ran joined it before its COMMIT.
        Store.Commits.ShouldBe(commits + 1);
        foreach (var id in new[] { "g1a", "g1b", "g3a" })
            (await Run(Service, Get("Patient", id))).Status.ShouldBe(200);
        foreach (var id in new[] { "g2a", "g2b" })
            (await Run(Service, Get("Patient", id))).Status.ShouldBe(404);
        var history = await Run(Service, new FhirRequest { Interaction = Interaction.HistorySystem, Method = "GET" });
        ((Bundle)history.Resource!).Total.ShouldBe(3);
    }

    /// <summary>The writer connection's PRAGMA synchronous inside a write (2 = FULL, 1 = NORMAL).</summary>
    private static int SynchronousOf(IResourceStore store)
    {
        using var cmd = ((SqliteConnection)store.Connection).CreateCommand();
        cmd.Transaction = (SqliteTransaction?)store.Transaction;
        cmd.CommandText = "PRAGMA synchronous;";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_write_without_sync_commits_alone_with_synchronous_NORMAL_and_the_writes_around_it_stay_FULL()
    {
        var blocker = new Blocker(Store);
        var before = Task.Run(() => Store.WriteAsync(SynchronousOf, CancellationToken.None));
        await WaitQueued(1);
        var unsynced = Task.Run(() => Store.WriteWithoutSyncAsync(SynchronousOf, CancellationToken.None));
        await WaitQueued(2);
        var after = Task.Run(() => Store.WriteAsync(SynchronousOf, CancellationToken.None));
        await WaitQueued(3);
        var commits = Store.Commits;

        blocker.Release();
        await blocker.Done;

        (await before).ShouldBe(2);
        (await unsynced).ShouldBe(1);
        (await after).ShouldBe(2);
        // Three groups: the one before stops at the unsynced write, which is a group alone; the write after is the third.
        Store.Commits.ShouldBe(commits + 3);
        // The pooled writer connection went back at FULL.
        (await Store.WriteAsync(SynchronousOf, CancellationToken.None)).ShouldBe(2);
    }

    [Fact]
    public async Task Writes_without_sync_are_stored_like_any_write()
    {
        var ids = await Service.CreateAllAsync("Patient",
            [new PreparedPatient("Unsynced", Service.Index), new PreparedPatient("Unsynced", Service.Index)], sync: false, TestContext.Current.CancellationToken);

        foreach (var id in ids) (await Run(Service, Get("Patient", id))).Status.ShouldBe(200);
        var found = (Bundle)(await Run(Service, SearchFor("Patient", "family=Unsynced"))).Resource!;
        found.Entry.Count.ShouldBe(2);
        (await Store.WriteAsync(SynchronousOf, CancellationToken.None)).ShouldBe(2);
    }

    /// <summary>A Patient given as what a create stores (<see cref="PreparedResource"/>).</summary>
    private sealed class PreparedPatient : PreparedResource
    {
        private readonly Patient _patient;

        public PreparedPatient(string family, Func<Resource, Ignis.Fhir.Search.Indexing.ResourceIndex> index)
        {
            _patient = Patient("placeholder", family);
            Index = index(_patient);
        }

        public override Ignis.Fhir.Search.Indexing.ResourceIndex Index { get; }

        public override string ToJson(string id, long lastUpdated)
        {
            _patient.Id = id;
            _patient.Meta = new Meta { VersionId = "1", LastUpdated = new DateTimeOffset(lastUpdated, TimeSpan.Zero) };
            return Ignis.Fhir.Serialization.FhirSerializer.ToJson(_patient);
        }
    }

    [Fact]
    public async Task Concurrent_updates_in_one_group_see_each_other_so_a_stale_If_Match_gets_412()
    {
        (await Run(Service, Put(Patient("shared", "Zero")))).Status.ShouldBe(201);
        var blocker = new Blocker(Store);
        var a = Task.Run(() => Run(Service, Put(Patient("shared", "A"), "W/\"1\"")));
        var b = Task.Run(() => Run(Service, Put(Patient("shared", "B"), "W/\"1\"")));
        await WaitQueued(2);
        var commits = Store.Commits;

        blocker.Release();
        await blocker.Done;
        var statuses = (await Task.WhenAll(a, b)).Select(r => r.Status).Order().ToArray();

        statuses.ShouldBe([200, 412]);
        Store.Commits.ShouldBe(commits + 1);
        var read = await Run(Service, Get("Patient", "shared"));
        read.Stored!.Version.ShouldBe(2);
    }

    [Fact]
    public async Task A_write_that_ends_the_group_transaction_fails_alone_and_the_writes_before_it_run_again_and_commit()
    {
        var blocker = new Blocker(Store);
        var before = Task.Run(() => Run(Service, Transaction(PutEntry("kept1"), PutEntry("kept2"))));
        await WaitQueued(1);
        // A write that ends the transaction under the group (as an I/O error would) and fails: everything the group
        // did so far is gone, so the group starts again without it.
        var breaking = Task.Run(() => Store.WriteAsync<int>(s =>
        {
            using var cmd = ((SqliteConnection)s.Connection).CreateCommand();
            cmd.CommandText = "ROLLBACK";
            cmd.ExecuteNonQuery();
            throw new InvalidOperationException("the transaction is gone");
        }, CancellationToken.None));
        await WaitQueued(2);
        var after = Task.Run(() => Run(Service, Put(Patient("kept3", "After"))));
        await WaitQueued(3);
        var commits = Store.Commits;

        blocker.Release();
        await blocker.Done;

        (await before).Status.ShouldBe(200);
        (await after).Status.ShouldBe(201);
        (await Should.ThrowAsync<InvalidOperationException>(breaking)).Message.ShouldBe("the transaction is gone");
        Store.Commits.ShouldBe(commits + 1);
        foreach (var id in new[] { "kept1", "kept2", "kept3" })
        {
            var read = await Run(Service, Get("Patient", id));
            read.Status.ShouldBe(200);
            read.Stored!.Version.ShouldBe(1);
        }
        var history = await Run(Service, new FhirRequest { Interaction = Interaction.HistorySystem, Method = "GET" });
        ((Bundle)history.Resource!).Total.ShouldBe(3);
    }

    [Fact]
    public async Task A_transaction_run_again_after_a_failure_in_its_group_keeps_its_assigned_ids_and_references()
    {
        var blocker = new Blocker(Store);
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:9b0c8f4e-0f6e-4a52-9d0b-3c1b2f6f7a10",
            Resource = new Patient { Name = [new HumanName { Family = "Posted" }] },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:0d7c3a55-6a0f-4a8e-8f4b-9a1e2d3c4b5a",
            Resource = new Observation
            {
                Status = ObservationStatus.Final,
                Code = new CodeableConcept("http://loinc.org", "8867-4"),
                Subject = new ResourceReference("urn:uuid:9b0c8f4e-0f6e-4a52-9d0b-3c1b2f6f7a10"),
            },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
        });
        var posted = Task.Run(() => Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle }));
        await WaitQueued(1);
        var failing = Task.Run(() => Run(Service, Transaction(PutEntry("x1"), PutEntry("x2", "W/\"9\""))));
        await WaitQueued(2);

        blocker.Release();
        await blocker.Done;

        (await failing).Status.ShouldBe(412);
        var response = await posted;
        response.Status.ShouldBe(200);
        var entries = ((Bundle)response.Resource!).Entry;
        var patientId = entries[0].Response!.Location!.Split('/')[1];
        var observationId = entries[1].Response!.Location!.Split('/')[1];
        var observation = await Run(Service, Get("Observation", observationId));
        observation.Stored!.Json!.ShouldContain($"\"reference\":\"Patient/{patientId}\"");
        (await Run(Service, Get("Patient", patientId))).Status.ShouldBe(200);
        var search = await Run(Service, SearchFor("Observation", "subject=Patient/" + patientId));
        ((Bundle)search.Resource!).Entry.Count.ShouldBe(1);
        var history = await Run(Service, new FhirRequest { Interaction = Interaction.HistorySystem, Method = "GET" });
        ((Bundle)history.Resource!).Total.ShouldBe(2);
    }

    [Fact]
    public async Task Writes_queued_while_a_group_runs_join_its_commit()
    {
        var blocker = new Blocker(Store); // a group that is running
        var commits = Store.Commits;
        var first = Task.Run(() => Run(Service, Put(Patient("join1", "Joined"))));
        var second = Task.Run(() => Run(Service, Put(Patient("join2", "Joined"))));
        await WaitQueued(2);

        blocker.Release();
        await blocker.Done;

        (await first).Status.ShouldBe(201);
        (await second).Status.ShouldBe(201);
        Store.Commits.ShouldBe(commits + 1);
        Store.Queued.ShouldBe(0);
        ((Bundle)(await Run(Service, SearchFor("Patient", "family=Joined"))).Resource!).Entry.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_write_cancelled_while_queued_is_withdrawn_and_never_committed()
    {
        var blocker = new Blocker(Store);
        using var cts = new CancellationTokenSource();
        var cancelled = Task.Run(() => Service.ExecuteAsync(Put(Patient("never", "X")), StoreInteractionTests.Base, cts.Token));
        await WaitQueued(1);
        await cts.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(cancelled);
        Store.Queued.ShouldBe(0);

        blocker.Release();
        await blocker.Done;
        (await Run(Service, Get("Patient", "never"))).Status.ShouldBe(404);
    }
}
