using System.Text.Json.Nodes;
using Ignis.Server.Audit;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Pages;

/// <summary>
/// A backend service's token events grouped per client and second in the security log: every token counted, nothing
/// else grouped, and one AuditEvent per token when the window is zero.
/// </summary>
public sealed class SecurityLogGroupingTests
{
    private const string TokenIssued = "subtype=urn:ignis:security-event|token-issued";

    private static int CountOf(JsonNode audit) =>
        audit["extension"]?.AsArray().SingleOrDefault(x => x!["url"]!.GetValue<string>() == AuditEventMapper.CountExtension)?["valueUnsignedInt"]!
            .GetValue<int>() ?? 1;

    /// <summary>The AuditEvents of <paramref name="search"/> once their counts add up to <paramref name="expected"/> events.</summary>
    private static async Task<List<JsonNode>> WaitForEventsAsync(IgnisServer server, string search, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var bundle = await (await server.Client.GetAsync($"AuditEvent?_count=1000&{search}")).BodyAsync();
            var audits = bundle["entry"]?.AsArray().Select(e => e!["resource"]!).ToList() ?? [];
            var total = audits.Sum(CountOf);
            if (total >= expected)
            {
                total.ShouldBe(expected, bundle.ToJsonString());
                return audits;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{total} of {expected} events logged: {bundle.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    private static async Task<string> BackendTokensAsync(IgnisServer server, int count)
    {
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(server, jwks: ClientKey.Jwks(key));
        var aud = BackendClients.TokenEndpoint(server);
        for (var i = 0; i < count; i++)
        {
            var (status, body) = await BackendClients.TokenAsync(server, new Assertion(key, clientId, aud).Sign());
            status.ShouldBe(200, body.ToJsonString());
        }
        return clientId;
    }

    [Fact]
    public async Task A_backend_services_tokens_within_a_second_are_one_AuditEvent_that_counts_them_all()
    {
        await using var server = await IgnisServer.StartAsync(IgnisServer.Open);
        const int tokens = 40;
        var clientId = await BackendTokensAsync(server, tokens);

        var audits = await WaitForEventsAsync(server, $"agent-name:exact={clientId}&{TokenIssued}", tokens);
        audits.Count.ShouldBeLessThanOrEqualTo(tokens / 2, "tokens asked for in a row share entries");
        var grouped = audits.Where(a => CountOf(a) > 1).ToList();
        grouped.ShouldNotBeEmpty();
        foreach (var audit in grouped)
        {
            var start = DateTimeOffset.Parse(audit["period"]!["start"]!.GetValue<string>());
            var end = DateTimeOffset.Parse(audit["period"]!["end"]!.GetValue<string>());
            DateTimeOffset.Parse(audit["recorded"]!.GetValue<string>()).ShouldBe(start);
            end.ShouldBeGreaterThanOrEqualTo(start);
            (end.UtcTicks / TimeSpan.TicksPerSecond).ShouldBe(start.UtcTicks / TimeSpan.TicksPerSecond, "one second of the clock");
            audit["outcomeDesc"]!.GetValue<string>().ShouldBe("grant: client_credentials; scopes: system/*.rs");
            audit["agent"]!.AsArray().Single()!["altId"]!.GetValue<string>().ShouldBe(clientId);
            audit["agent"]![0]!["network"]!["address"]!.GetValue<string>().ShouldBe("127.0.0.1");
        }
    }

    [Fact]
    public async Task With_a_window_of_zero_every_backend_token_is_an_AuditEvent_of_its_own()
    {
        await using var server = await IgnisServer.StartAsync(IgnisServer.Open, "--Ignis:SecurityLog:BackendTokenWindow=00:00:00");
        const int tokens = 12;
        var clientId = await BackendTokensAsync(server, tokens);

        var audits = await WaitForEventsAsync(server, $"agent-name:exact={clientId}&{TokenIssued}", tokens);
        audits.Count.ShouldBe(tokens);
        audits.ShouldAllBe(a => a["extension"] == null && a["period"] == null);
    }

    [Fact]
    public async Task Token_events_of_a_person_and_failed_sign_ins_are_never_grouped()
    {
        await using var server = await IgnisServer.StartAsync(IgnisServer.Open);
        var log = server.Services.GetRequiredService<SecurityLog>();
        var marker = "person-" + Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 10; i++)
        {
            log.Record(new SecurityEvent(SecurityEventKind.TokenIssued)
            {
                Recorded = now, User = new SecurityParty(marker, marker), Client = new SecurityParty("app", "app"), Detail = "grant: authorization_code",
            });
            log.Record(new SecurityEvent(SecurityEventKind.SignInFailed) { Recorded = now, User = new SecurityParty(null, marker), Failed = true });
        }

        var audits = await WaitForEventsAsync(server, $"agent-name:exact={marker}", 20);
        audits.Count.ShouldBe(20);
    }
}

/// <summary>The grouping rule on its own: which events, which windows, what a group keeps.</summary>
public sealed class SecurityEventGroupsTests
{
    private static readonly DateTimeOffset Second = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly SecurityParty Backend = new("backend", "backend");

    private static SecurityEvent Token(double seconds, string address = "10.0.0.1", SecurityParty? client = null) =>
        new(SecurityEventKind.TokenIssued)
        {
            Recorded = Second.AddSeconds(seconds), Client = client ?? Backend, Address = address, Detail = "grant: client_credentials; scopes: system/*.rs",
        };

    [Fact]
    public void Events_of_one_shape_in_one_second_become_one_entry_with_their_count_and_first_and_last_times()
    {
        var grouped = SecurityEventGroups.Group([Token(0.5), Token(0.2), Token(0.9), Token(0.7)], TimeSpan.FromSeconds(1));
        var entry = grouped.ShouldHaveSingleItem();
        entry.Count.ShouldBe(4);
        entry.Recorded.ShouldBe(Second.AddSeconds(0.2));
        entry.Until.ShouldBe(Second.AddSeconds(0.9));
        entry.Address.ShouldBe("10.0.0.1");
    }

    [Fact]
    public void Another_second_address_client_or_outcome_starts_another_entry_and_the_order_of_first_events_stays()
    {
        var other = new SecurityParty("other", "other");
        var failed = Token(0.4) with { Failed = true };
        var grouped = SecurityEventGroups.Group(
            [Token(0.1), Token(1.1), Token(0.3, "10.0.0.2"), Token(0.2, client: other), failed, failed, Token(0.6), Token(1.5)],
            TimeSpan.FromSeconds(1));
        grouped.Select(e => (e.Recorded, e.Count, e.Address, e.Client!.Id, e.Failed)).ShouldBe(
        [
            (Second.AddSeconds(0.1), 2, "10.0.0.1", "backend", false),
            (Second.AddSeconds(1.1), 2, "10.0.0.1", "backend", false),
            (Second.AddSeconds(0.3), 1, "10.0.0.2", "backend", false),
            (Second.AddSeconds(0.2), 1, "10.0.0.1", "other", false),
            (Second.AddSeconds(0.4), 1, "10.0.0.1", "backend", true),
            (Second.AddSeconds(0.4), 1, "10.0.0.1", "backend", true),
        ]);
        grouped.Where(e => e.Count == 1).ShouldAllBe(e => e.Until == null);
    }

    [Fact]
    public void Events_with_a_person_other_kinds_and_a_window_of_zero_are_left_as_they_are()
    {
        var person = Token(0.1) with { User = new SecurityParty("alice", "alice") };
        var refreshed = Token(0.1) with { Kind = SecurityEventKind.TokenRefreshed };
        SecurityEventGroups.Group([person, person, refreshed, refreshed], TimeSpan.FromSeconds(1)).Count.ShouldBe(4);
        SecurityEventGroups.Group([Token(0.1), Token(0.2)], TimeSpan.Zero).Count.ShouldBe(2);
    }

    [Fact]
    public void A_group_is_an_AuditEvent_with_the_count_extension_and_the_period_and_reads_back_as_one_entry()
    {
        var entry = SecurityEventGroups.Group([Token(0.25), Token(0.75), Token(0.5)], TimeSpan.FromSeconds(1)).ShouldHaveSingleItem();
        var audit = AuditEventMapper.ToAuditEvent(entry);
        audit.Recorded.ShouldBe(Second.AddSeconds(0.25));
        audit.Period.ShouldNotBeNull();
        audit.Period.Start.ShouldBe(new Hl7.Fhir.Model.FhirDateTime(Second.AddSeconds(0.25)).Value);
        audit.Period.End.ShouldBe(new Hl7.Fhir.Model.FhirDateTime(Second.AddSeconds(0.75)).Value);
        var read = AuditEventMapper.ToEntry(audit);
        read.Count.ShouldBe(3);
        read.Until.ShouldBe(Second.AddSeconds(0.75));
        AuditEventMapper.ToEntry(AuditEventMapper.ToAuditEvent(Token(0.1))).Count.ShouldBe(1);
    }
}
