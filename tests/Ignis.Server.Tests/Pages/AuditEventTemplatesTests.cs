using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Serialization;
using Ignis.Server.Audit;

namespace Ignis.Server.Tests.Pages;

/// <summary>
/// The security log's AuditEvents made from templates are exactly what the generic way stores for the same event: the
/// JSON the FHIR serializer writes for the resource with its id and meta, and the rows the search index extractor gives.
/// </summary>
public sealed class AuditEventTemplatesTests
{
    private static readonly Func<Resource, ResourceIndex> Extract = new ResourceIndexer(SearchParameterRegistry.Default).Extract;

    private static readonly DateTimeOffset[] Times =
    [
        new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero),                                  // whole seconds: "...T10:00:00+00:00"
        new DateTimeOffset(2026, 11, 24, 10, 0, 1, 250, TimeSpan.Zero),               // milliseconds
        new DateTimeOffset(2026, 11, 24, 23, 59, 59, TimeSpan.Zero).AddTicks(1_234_567),     // seven fractional digits
        new DateTimeOffset(2026, 2, 28, 1, 2, 3, TimeSpan.FromHours(2)).AddTicks(4_560), // another offset
        DateTimeOffset.UtcNow,
    ];

    private static readonly SecurityParty Bob = new("3f0c2a", "bob");
    private static readonly SecurityParty App = new("bench-pkjwt", "bench-pkjwt");

    private const string PlaceholderShape = "detail holding the placeholders' text";

    public static TheoryData<string> Shapes => [.. ShapeTable.Keys];

    private static readonly Dictionary<string, SecurityEvent> ShapeTable = new()
    {
        ["backend token"] = new(SecurityEventKind.TokenIssued)
        {
            Client = App, Address = "127.0.0.1", Detail = "grant: client_credentials; scopes: system/Patient.rs system/Observation.rs",
        },
        ["backend token with a user agent"] = new(SecurityEventKind.TokenIssued)
        {
            Client = App, Address = "::1", UserAgent = "ignis-client/1.0 (\"quoted\"; <tag> & more)", Detail = "grant: client_credentials; scopes: system/*.rs",
        },
        ["user token refreshed"] = new(SecurityEventKind.TokenRefreshed) { User = Bob, Client = App, Address = "10.0.0.7", Detail = "grant: refresh_token; scopes: openid patient/*.rs" },
        ["consent with a patient"] = new(SecurityEventKind.ConsentGranted) { User = Bob, TargetClient = App, Patient = "pat-1", Detail = "scopes: launch/patient" },
        ["failed sign-in, nobody known"] = new(SecurityEventKind.SignInFailed) { Failed = true, Address = "192.0.2.1", UserAgent = "Mozilla/5.0 ü ✓ 🔥" },
        ["lockout"] = new(SecurityEventKind.Lockout) { User = new SecurityParty(null, "mallory"), Failed = true },
        ["admin changed roles"] = new(SecurityEventKind.RolesChanged) { User = Bob, TargetUser = new SecurityParty("u-9", "carol"), Detail = "roles: admin" },
        ["client deleted"] = new(SecurityEventKind.ClientDeleted) { User = Bob, TargetClient = new SecurityParty("c-1", "An app with a long name " + new string('x', 300)) },
        [PlaceholderShape] = new(SecurityEventKind.TokenIssued)
        {
            Client = App, Detail = "ignis-audit-id-placeholder 0001-01-01T00:00:00.1234567+00:00 0001-01-01T00:00:00.3456789+00:00",
        },
        ["no agent at all"] = new(SecurityEventKind.SessionEnded),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void An_event_from_its_template_is_stored_exactly_as_the_generic_AuditEvent(string shape)
    {
        var templates = new AuditEventTemplates(Extract);
        foreach (var time in Times)
        {
            var e = ShapeTable[shape] with { Recorded = time };
            var id = Guid.CreateVersion7().ToString();
            var ticks = DateTimeOffset.UtcNow.UtcTicks / 10 * 10;
            var prepared = templates.Prepare(e);
            AuditEventTemplates.IsFromTemplate(prepared).ShouldBe(shape != PlaceholderShape, "made from a template");

            var (json, rows) = Generic(e, id, ticks);
            prepared.ToJson(id, ticks).ShouldBe(json);
            ShouldBeSame(prepared.Index, rows);
        }
    }

    [Fact]
    public void Events_of_a_backend_service_after_the_first_come_from_its_template()
    {
        var templates = new AuditEventTemplates(Extract);
        var e = ShapeTable["backend token"];
        templates.Prepare(e with { Recorded = Times[0] });
        AuditEventTemplates.IsFromTemplate(templates.Prepare(e with { Recorded = Times[1] })).ShouldBeTrue();
        // Its time is indexed: the date row moves with it.
        templates.Prepare(e with { Recorded = Times[0] }).Index.Dates.ShouldNotBe(templates.Prepare(e with { Recorded = Times[1] }).Index.Dates);
    }

    [Fact]
    public void A_shape_whose_text_holds_a_placeholder_is_made_the_generic_way()
    {
        var templates = new AuditEventTemplates(Extract);
        var e = ShapeTable[PlaceholderShape];
        templates.Prepare(e);
        AuditEventTemplates.IsFromTemplate(templates.Prepare(e)).ShouldBeFalse();
    }

    /// <summary>What a create of the AuditEvent stores: rows extracted from the body, then id and meta set and the body serialized.</summary>
    private static (string Json, ResourceIndex Rows) Generic(SecurityEvent e, string id, long ticks)
    {
        var audit = AuditEventMapper.ToAuditEvent(e);
        var rows = Extract(audit);
        audit.Id = id;
        audit.Meta = new Meta { VersionId = "1", LastUpdated = new DateTimeOffset(ticks, TimeSpan.Zero) };
        return (FhirSerializer.ToJson(audit), rows);
    }

    private static void ShouldBeSame(ResourceIndex actual, ResourceIndex expected)
    {
        actual.Strings.ShouldBe(expected.Strings);
        actual.Tokens.ShouldBe(expected.Tokens);
        actual.Dates.ShouldBe(expected.Dates);
        actual.Numbers.ShouldBe(expected.Numbers);
        actual.Quantities.ShouldBe(expected.Quantities);
        actual.References.ShouldBe(expected.References);
        actual.Uris.ShouldBe(expected.Uris);
        actual.Composites.ShouldBe(expected.Composites);
        (actual.Strings.Count + actual.Tokens.Count + actual.Dates.Count).ShouldBeGreaterThan(0);
    }
}
