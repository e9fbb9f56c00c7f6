using System.Net;
using Ignis.Server.Auth;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Data;
using Ignis.Server.Hosting;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// On SQLite the token rows of concurrent code exchanges and refreshes are committed together by the auth writer
/// thread (AuthWriteBatcher): a request whose redemption check fails, or whose rows the database refuses, fails
/// alone and leaves nothing, and its neighbours in the same transaction are committed.
/// </summary>
public sealed class TokenGroupCommitTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;
    private const string Scope = "openid fhirUser launch/patient patient/*.rs offline_access";

    [Fact]
    public async Task A_request_that_fails_in_a_group_fails_alone_and_leaves_nothing_while_the_others_commit()
    {
        await WithDatabaseAsync(async database =>
        {
            using var writer = new AuthWriteBatcher(database, new Ignis.Fhir.Engine.WriteGate(), Options.Create(new AuthOptions()), NullLogger<AuthWriteBatcher>.Instance);
            // Queued before the writer starts: it takes all five into one transaction.
            var a = writer.WriteStatementsAsync([Insert(1, "a")]);
            var b = writer.WriteStatementsAsync([Insert(2, "b"), Check(99, "x", "never")]); // fails after writing a row
            var c = writer.WriteStatementsAsync([Insert(3, "c")]);
            var d = writer.WriteStatementsAsync([Insert(1, "duplicate")]); // refused by the primary key
            var e = writer.WriteStatementsAsync([Check(3, "c", "e"), Insert(4, "e")]); // sees c's row
            await writer.StartAsync(CancellationToken.None);

            (await a).ShouldBeTrue();
            (await b).ShouldBeFalse();
            (await c).ShouldBeTrue();
            await Should.ThrowAsync<AuthWriteRefusedException>(d);
            (await e).ShouldBeTrue();
            await writer.StopAsync(CancellationToken.None);

            await using var read = await database.OpenAsync();
            await using var select = read.CreateCommand();
            select.CommandText = "SELECT group_concat(id || '=' || v, ',') FROM (SELECT id, v FROM t ORDER BY id)";
            (await select.ExecuteScalarAsync()).ShouldBe("1=a,3=e,4=e");
        });
    }

    [Fact]
    public async Task A_ready_group_waits_while_a_token_request_is_under_way_and_both_commit_together()
    {
        await WithWriterAsync(TimeSpan.FromSeconds(2), async writer =>
        {
            var second = new TaskCompletionSource();
            var late = Task.Run(async () =>
            {
                using (writer.Expect())
                {
                    await second.Task;
                    return await writer.WriteStatementsAsync([Insert(2, "late")]);
                }
            });
            var first = Task.Run(async () =>
            {
                using (writer.Expect())
                {
                    await Task.Delay(300); // both requests are under way by now
                    var write = writer.WriteStatementsAsync([Insert(1, "first")]);
                    await Task.Delay(300);
                    write.IsCompleted.ShouldBeFalse(); // held for the other request
                    second.SetResult();
                    return await write;
                }
            });
            (await first).ShouldBeTrue();
            (await late).ShouldBeTrue();
            writer.Groups.ShouldBe(1);
        });
    }

    [Fact]
    public async Task A_token_request_with_none_other_under_way_commits_at_once()
    {
        await WithWriterAsync(TimeSpan.FromSeconds(30), async writer =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            using (writer.Expect()) (await writer.WriteStatementsAsync([Insert(1, "alone")])).ShouldBeTrue();
            // A request that ended without writing is not waited for either.
            using (writer.Expect()) { }
            using (writer.Expect()) (await writer.WriteStatementsAsync([Insert(2, "alone too")])).ShouldBeTrue();
            started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
            writer.Groups.ShouldBe(2);
        });
    }

    [Fact]
    public async Task A_group_waits_the_delay_and_no_longer_for_a_request_that_never_writes()
    {
        await WithWriterAsync(TimeSpan.FromMilliseconds(500), async writer =>
        {
            // Another request under way (announced on a flow of its own) that neither writes nor ends meanwhile.
            var stuck = await Task.Run(writer.Expect);
            var started = System.Diagnostics.Stopwatch.StartNew();
            (await Task.Run(() => writer.WriteStatementsAsync([Insert(1, "waited")]))).ShouldBeTrue();
            started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(400));
            started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
            stuck.Dispose();
        });
    }

    [Fact]
    public async Task Rows_that_queued_while_a_group_waited_for_the_write_lock_are_not_held_for_the_delay_again()
    {
        var gate = new Ignis.Fhir.Engine.WriteGate();
        await WithWriterAsync(TimeSpan.FromSeconds(2), async writer =>
        {
            var stuck = await Task.Run(writer.Expect); // another request under way: groups wait the delay
            Task<bool> first, second;
            using (await gate.EnterAsync(CancellationToken.None)) // the FHIR store committing, for a while
            {
                first = Task.Run(() => writer.WriteStatementsAsync([Insert(1, "first")]));
                await Task.Delay(TimeSpan.FromSeconds(2.5)); // the first group has waited its delay and wants the lock
                second = Task.Run(() => writer.WriteStatementsAsync([Insert(2, "second")]));
                await Task.Delay(TimeSpan.FromSeconds(2)); // the second row has waited as long as the delay
                first.IsCompleted.ShouldBeFalse();
            }
            (await first).ShouldBeTrue();
            var firstDone = System.Diagnostics.Stopwatch.StartNew();
            (await second).ShouldBeTrue();
            // Committed right after the first group, not 2 s later.
            firstDone.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
            stuck.Dispose();
        }, gate);
    }

    /// <summary>A started writer with <paramref name="delay"/> on a fresh SQLite database with a table t (id, v).</summary>
    private static Task WithWriterAsync(TimeSpan delay, Func<AuthWriteBatcher, Task> test, Ignis.Fhir.Engine.WriteGate? gate = null) => WithDatabaseAsync(async database =>
    {
        using var writer = new AuthWriteBatcher(database, gate ?? new Ignis.Fhir.Engine.WriteGate(),
            Options.Create(new AuthOptions { GroupCommitDelay = delay }), NullLogger<AuthWriteBatcher>.Instance);
        await writer.StartAsync(CancellationToken.None);
        await test(writer);
        await writer.StopAsync(CancellationToken.None);
    });

    /// <summary>A SQLite database with a table t (id, v) in a fresh folder, deleted afterwards.</summary>
    private static async Task WithDatabaseAsync(Func<AuthDatabase, Task> test)
    {
        var folder = Directory.CreateTempSubdirectory("ignis-group-commit-");
        try
        {
            var database = AuthDatabase.Create(new IgnisOptions { DataDirectory = folder.FullName });
            await using (var setup = await database.OpenAsync())
            {
                await using var create = setup.CreateCommand();
                create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)";
                await create.ExecuteNonQueryAsync();
            }
            await test(database);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static BatchedStatement Insert(long id, string v) => new("INSERT INTO t (id, v) VALUES (@id, @v)", command =>
    {
        Add(command, "@id", id);
        Add(command, "@v", v);
    }, MustChangeOneRow: false);

    private static BatchedStatement Check(long id, string expected, string next) => new("UPDATE t SET v = @next WHERE id = @id AND v = @expected", command =>
    {
        Add(command, "@id", id);
        Add(command, "@expected", expected);
        Add(command, "@next", next);
    }, MustChangeOneRow: true);

    private static void Add(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    [Fact]
    public async Task Exchanges_running_beside_a_contested_code_all_succeed_and_their_tokens_work()
    {
        var apps = new List<(SmartApp App, string Code)>();
        for (var i = 0; i < 6; i++)
        {
            using var browser = new SmartBrowser(Server);
            var app = new SmartApp(Server);
            apps.Add((app, await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope)));
        }
        var contested = apps[^1];
        apps.RemoveAt(apps.Count - 1);

        var single = apps.Select(a => a.App.ExchangeAsync(a.Code)).ToList();
        var raced = Enumerable.Range(0, 8).Select(_ => contested.App.ExchangeAsync(contested.Code)).ToList();
        await Task.WhenAll(single.Concat(raced));

        raced.Count(r => r.Result.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        for (var i = 0; i < apps.Count; i++) await ShouldHaveWorkingTokensAsync(apps[i].App, await single[i]);
    }

    [Fact]
    public async Task Refreshes_running_beside_a_contested_refresh_token_all_succeed_and_their_tokens_work()
    {
        var grants = new List<(SmartApp App, string Refresh)>();
        for (var i = 0; i < 6; i++)
        {
            using var browser = new SmartBrowser(Server);
            var app = new SmartApp(Server);
            var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);
            grants.Add((app, (await (await app.ExchangeAsync(code)).BodyAsync())["refresh_token"].Str()));
        }
        var contested = grants[^1];
        grants.RemoveAt(grants.Count - 1);

        var single = grants.Select(g => g.App.RefreshAsync(g.Refresh)).ToList();
        var raced = Enumerable.Range(0, 8).Select(_ => contested.App.RefreshAsync(contested.Refresh)).ToList();
        await Task.WhenAll(single.Concat(raced));

        raced.Count(r => r.Result.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        for (var i = 0; i < grants.Count; i++) await ShouldHaveWorkingTokensAsync(grants[i].App, await single[i]);
    }

    /// <summary>A token response that succeeded: its access token is active and its refresh token refreshes.</summary>
    private async Task ShouldHaveWorkingTokensAsync(SmartApp app, HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.BodyAsync();
        (await SmartApp.IntrospectAsync(Server, body["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeTrue();
        (await app.RefreshAsync(body["refresh_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Of_simultaneous_exchanges_of_one_code_only_the_one_that_got_tokens_is_in_the_security_log()
    {
        await using var server = await IgnisServer.StartAsync("--demo", IgnisServer.Open);
        using var browser = new SmartBrowser(server);
        var app = new SmartApp(server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.ExchangeAsync(code)));
        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);

        // The security log is written in batches (up to ~100 ms late): wait for the first record, then for any stragglers.
        var query = "AuditEvent?subtype=urn:ignis:security-event%7Ctoken-issued&_summary=count";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await (await server.Client.GetAsync(query)).BodyAsync())["total"]!.GetValue<int>() == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await Task.Delay(1_000);
        (await (await server.Client.GetAsync(query)).BodyAsync())["total"]!.GetValue<int>().ShouldBe(1);
    }
}
