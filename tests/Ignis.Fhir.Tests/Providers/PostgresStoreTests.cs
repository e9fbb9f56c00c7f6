using System.Net;
using System.Net.Sockets;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage.Postgres;
using Npgsql;
using Shouldly;
using Xunit;
using static Ignis.Fhir.Tests.Providers.StoreInteractionTests;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Providers;

/// <summary>
/// What only PostgreSQL has to prove: several nodes (each a <see cref="PostgresFhirStore"/> with its own connection
/// pool and a <see cref="FhirService"/>) on one database, migrations run once and in place, durable commits, and a
/// clear 503 when the server cannot be reached.
/// </summary>
public sealed class PostgresStoreTests : IDisposable
{
    private readonly PostgresTestDatabase _database = new();
    private readonly List<PostgresFhirStore> _stores = [];

    public void Dispose()
    {
        foreach (var s in _stores) s.Dispose();
        _database.Dispose();
    }

    private PostgresFhirStore Node()
    {
        var store = new PostgresFhirStore(_database.ConnectionString);
        _stores.Add(store);
        return store;
    }

    private static T Scalar<T>(PostgresFhirStore store, string sql)
    {
        using var c = store.OpenConnection();
        using var cmd = new NpgsqlCommand(sql, c);
        return (T)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void A_new_database_gets_the_latest_schema_and_commits_durably()
    {
        var store = Node();
        store.Migrate().ShouldBe(0);
        Scalar<int>(store, "SELECT max(version) FROM ignis_fhir_schema").ShouldBe(PostgresFhirStore.LatestVersion);
        Scalar<string>(store, "SHOW synchronous_commit").ShouldBe("on");
        Scalar<string>(store, "SELECT data_type FROM information_schema.columns WHERE table_name = 'resources' AND column_name = 'body'").ShouldBe("json");
    }

    [Fact]
    public async Task Nodes_starting_together_migrate_once()
    {
        var nodes = Enumerable.Range(0, 4).Select(_ => Node()).ToList();
        var found = await Task.WhenAll(nodes.Select(n => Task.Run(n.Migrate, TestContext.Current.CancellationToken)));
        found.Count(f => f == 0).ShouldBe(1);
        found.Count(f => f == PostgresFhirStore.LatestVersion).ShouldBe(nodes.Count - 1);
        Scalar<long>(nodes[0], "SELECT count(*) FROM ignis_fhir_schema").ShouldBe(PostgresFhirStore.LatestVersion);
    }

    [Fact]
    public async Task An_older_schema_is_upgraded_in_place_keeping_its_data()
    {
        var old = Node();
        old.Migrate(1); // the schema as the first PostgreSQL release of Ignis left it
        var service = EngineTestStore.NewService(old);
        (await Run(service, Put(Patient("p1", "Kept")))).Status.ShouldBe(201);

        var upgraded = Node();
        upgraded.Migrate().ShouldBe(1);
        Scalar<int>(upgraded, "SELECT max(version) FROM ignis_fhir_schema").ShouldBe(PostgresFhirStore.LatestVersion);
        var after = EngineTestStore.NewService(upgraded);
        (await Run(after, Get("Patient", "p1"))).Stored!.Json!.ShouldContain("Kept");
        var found = (Bundle)(await Run(after, SearchFor("Patient", "family:contains=ept"))).Resource!;
        found.Entry.ShouldHaveSingleItem();
        // 0002 adds the trigram index for :contains (pg_trgm ships with the Debian server packages).
        Scalar<long>(upgraded, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_idx_string_trgm'").ShouldBe(1);
    }

    [Fact]
    public void A_schema_from_a_newer_ignis_is_refused()
    {
        var store = Node();
        store.Migrate();
        using (var c = store.OpenConnection())
        using (var cmd = new NpgsqlCommand($"INSERT INTO ignis_fhir_schema (version) VALUES ({PostgresFhirStore.LatestVersion + 5})", c))
            cmd.ExecuteNonQuery();
        Should.Throw<InvalidOperationException>(() => Node().Migrate()).Message.ShouldContain("newer");
    }

    [Fact]
    public async Task Concurrent_updates_from_two_nodes_never_lose_a_version()
    {
        var a = Node();
        a.Migrate();
        var nodes = new[] { EngineTestStore.NewService(a), EngineTestStore.NewService(Node()) };
        (await Run(nodes[0], Put(Patient("p", "Start")))).Status.ShouldBe(201);

        const int perNode = 15;
        var responses = await Task.WhenAll(Enumerable.Range(0, 2 * perNode).Select(i =>
            Task.Run(() => Run(nodes[i % 2], Put(Patient("p", "W" + i))), TestContext.Current.CancellationToken)));

        responses.ShouldAllBe(r => r.Status == 200);
        // Every update made its own version: 2..31, none written twice.
        responses.Select(r => r.Stored!.Version).Order().ShouldBe(Enumerable.Range(2, 2 * perNode));
        Scalar<long>(a, "SELECT count(DISTINCT version) FROM history WHERE id = 'p'").ShouldBe(2 * perNode + 1);
        (await Run(nodes[1], Get("Patient", "p"))).Stored!.Version.ShouldBe(2 * perNode + 1);
    }

    [Fact]
    public async Task If_match_read_modify_write_loops_on_two_nodes_count_every_increment()
    {
        var a = Node();
        a.Migrate();
        var nodes = new[] { EngineTestStore.NewService(a), EngineTestStore.NewService(Node()) };
        await Run(nodes[0], Put(Patient("c", "Counter", 0)));

        const int workers = 6, increments = 5;
        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var node = nodes[w % 2];
            for (var done = 0; done < increments;)
            {
                var read = await Run(node, Get("Patient", "c"));
                var next = Patient("c", "Counter", Counter(read) + 1);
                var write = await Run(node, Put(next, ifMatch: read.ETag));
                if (write.Status == 200) done++;
                else
                {
                    write.Status.ShouldBe(412); // someone else wrote first: read again
                    Interlocked.Increment(ref conflicts);
                }
            }
        }, TestContext.Current.CancellationToken)));

        var final = await Run(nodes[1], Get("Patient", "c"));
        Counter(final).ShouldBe(workers * increments);
        final.Stored!.Version.ShouldBe(workers * increments + 1);
    }

    [Fact]
    public async Task Two_nodes_creating_the_same_id_at_once_make_versions_1_and_2()
    {
        var a = Node();
        a.Migrate();
        var nodes = new[] { EngineTestStore.NewService(a), EngineTestStore.NewService(Node()) };
        for (var round = 0; round < 5; round++)
        {
            var id = "same" + round;
            var responses = await Task.WhenAll(nodes.Select((n, i) =>
                Task.Run(() => Run(n, Put(Patient(id, "N" + i))), TestContext.Current.CancellationToken)));
            responses.Select(r => r.Status).Order().ShouldBe([200, 201]);
            responses.Select(r => r.Stored!.Version).Order().ShouldBe([1, 2]);
        }
    }

    [Fact]
    public async Task Concurrent_conditional_creates_on_two_nodes_create_one_resource()
    {
        var a = Node();
        a.Migrate();
        var nodes = new[] { EngineTestStore.NewService(a), EngineTestStore.NewService(Node()) };
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var p = Patient("x", "Once");
            p.Identifier = [new Identifier("http://mrn", "777")];
            return Run(nodes[i % 2], new FhirRequest
            {
                Interaction = Interaction.Create, Method = "POST", Type = "Patient", Body = p, IfNoneExist = "identifier=http://mrn|777",
            });
        }, TestContext.Current.CancellationToken)));
        responses.Count(r => r.Status == 201).ShouldBe(1);
        responses.Count(r => r.Status == 200).ShouldBe(7);
        responses.Select(r => r.Stored!.Id).Distinct().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Transactions_on_two_nodes_touching_the_same_resources_all_commit_whole()
    {
        var a = Node();
        a.Migrate();
        var nodes = new[] { EngineTestStore.NewService(a), EngineTestStore.NewService(Node()) };
        await Run(nodes[0], Put(Patient("t1", "T")));
        await Run(nodes[0], Put(Patient("t2", "T")));
        // Opposite orders on the two nodes: lock waits, possibly a deadlock that one side runs again.
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() =>
        {
            var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
            var ids = i % 2 == 0 ? new[] { "t1", "t2" } : ["t2", "t1"];
            foreach (var id in ids) bundle.Entry.Add(Entry(Patient(id, "R" + i), Bundle.HTTPVerb.PUT, "Patient/" + id));
            return Run(nodes[i % 2], new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });
        }, TestContext.Current.CancellationToken)));
        responses.ShouldAllBe(r => r.Status == 200);
        var t1 = await Run(nodes[0], Get("Patient", "t1"));
        var t2 = await Run(nodes[1], Get("Patient", "t2"));
        t1.Stored!.Version.ShouldBe(11);
        t2.Stored!.Version.ShouldBe(11);
        // Whole transactions: the last writer of t1 is the last writer of t2.
        ((Patient)Ignis.Fhir.Serialization.FhirSerializer.FromStoredJson(t1.Stored.Json!)).Name[0].Family
            .ShouldBe(((Patient)Ignis.Fhir.Serialization.FhirSerializer.FromStoredJson(t2.Stored.Json!)).Name[0].Family);
    }

    [Fact]
    public async Task An_unreachable_server_is_answered_503_with_an_operation_outcome()
    {
        TestPostgres.RequireAdmin();
        // A loopback port nothing listens on.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var store = new PostgresFhirStore($"Host=127.0.0.1;Port={port};Username=postgres;Database=ignis;Timeout=3");
        var service = EngineTestStore.NewService(store);

        foreach (var request in new[] { Get("Patient", "p1"), Put(Patient("p1", "X")), SearchFor("Patient", "family=x") })
        {
            var response = await Run(service, request);
            response.Status.ShouldBe(503);
            response.Outcome!.Issue.ShouldHaveSingleItem().Code.ShouldBe(OperationOutcome.IssueType.Transient);
        }
    }
}
