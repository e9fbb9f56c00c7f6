using Hl7.Fhir.Model;

namespace Ignis.Server.Audit;

/// <summary>
/// A security event as an R4 AuditEvent and back: the person as a <c>humanuser</c> agent with their address,
/// the app as a DICOM "Application" agent, what was acted on as entities (a user, an app, a patient, the
/// browser session with its user agent), this server as the source.
/// </summary>
public static class AuditEventMapper
{
    public const string UserSystem = "urn:ignis:user";
    public const string ClientSystem = "urn:ignis:client";
    public const string UserAgentDetail = "user-agent";
    /// <summary>
    /// Extension (unsignedInt) on an AuditEvent that stands for several events of the same shape (a backend service's
    /// tokens, <see cref="SecurityEventGroups"/>): how many. Their times span <c>period</c>; <c>recorded</c> is the first one's.
    /// </summary>
    public const string CountExtension = "urn:ignis:security-event-count";

    private const string RoleTypeSystem = "http://terminology.hl7.org/CodeSystem/extra-security-role-type";
    private const string SourceTypeSystem = "http://terminology.hl7.org/CodeSystem/security-source-type";
    private const string EntityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role";

    private static readonly Coding HumanUser = new(RoleTypeSystem, "humanuser", "human user");
    private static readonly Coding Application = new(SecurityEventCatalog.Dicom, "110150", "Application");
    private static readonly Coding Person = new(EntityTypeSystem, "1", "Person");
    private static readonly Coding SystemObject = new(EntityTypeSystem, "2", "System Object");
    private static readonly Coding PatientRole = new(ObjectRoleSystem, "1", "Patient");
    private static readonly Coding SecurityUser = new(ObjectRoleSystem, "11", "Security User Entity");
    private static readonly Coding SecurityResource = new(ObjectRoleSystem, "13", "Security Resource");

    public static AuditEvent ToAuditEvent(SecurityEvent e)
    {
        var entry = SecurityEventCatalog.Of(e.Kind);
        var audit = new AuditEvent
        {
            Type = Copy(entry.Type),
            Action = entry.Action,
            Recorded = e.Recorded,
            Outcome = e.Kind == SecurityEventKind.Lockout ? AuditEvent.AuditEventOutcome.N8
                : e.Failed ? AuditEvent.AuditEventOutcome.N4 : AuditEvent.AuditEventOutcome.N0,
            OutcomeDesc = Limit(e.Detail, 1024),
            Source = new AuditEvent.SourceComponent
            {
                Site = "Ignis",
                Observer = new ResourceReference { Display = "Ignis authorization server" },
                Type = [new Coding(SourceTypeSystem, "4", "Application Server")],
            },
        };
        if (e.Count > 1)
        {
            audit.Extension.Add(new Extension(CountExtension, new UnsignedInt(e.Count)));
            audit.Period = new Period(new FhirDateTime(e.Recorded), new FhirDateTime(e.Until ?? e.Recorded));
        }
        if (entry.StandardSubtype is { } standard) audit.Subtype.Add(Copy(standard));
        audit.Subtype.Add(new Coding(SecurityEventCatalog.IgnisSystem, entry.Code, entry.Label));

        if (e.User is { } user)
        {
            audit.Agent.Add(new AuditEvent.AgentComponent
            {
                Type = new CodeableConcept { Coding = [Copy(HumanUser)] },
                Who = Reference(UserSystem, user),
                AltId = user.Id,
                Name = Limit(user.Name, 256),
                Requestor = true,
                Network = Network(e.Address),
            });
        }
        if (e.Client is { } client)
        {
            audit.Agent.Add(new AuditEvent.AgentComponent
            {
                Type = new CodeableConcept { Coding = [Copy(Application)] },
                Who = Reference(ClientSystem, client),
                AltId = client.Id,
                Name = Limit(client.Name, 256),
                Requestor = e.User is null,
                Network = e.User is null ? Network(e.Address) : null,
            });
        }
        if (audit.Agent.Count == 0)
        {
            // R4 requires an agent: an event with no known actor names the address it came from.
            audit.Agent.Add(new AuditEvent.AgentComponent
            {
                Type = new CodeableConcept { Coding = [Copy(HumanUser)] },
                Name = "unknown",
                Requestor = true,
                Network = Network(e.Address),
            });
        }

        if (e.TargetUser is { } target)
            audit.Entity.Add(new AuditEvent.EntityComponent { What = Reference(UserSystem, target), Type = Copy(Person), Role = Copy(SecurityUser), Name = Limit(target.Name, 256) });
        if (e.TargetClient is { } app)
            audit.Entity.Add(new AuditEvent.EntityComponent { What = Reference(ClientSystem, app), Type = Copy(SystemObject), Role = Copy(SecurityResource), Name = Limit(app.Name, 256) });
        if (e.Patient is { Length: > 0 } patient)
            audit.Entity.Add(new AuditEvent.EntityComponent { What = new ResourceReference("Patient/" + patient), Type = Copy(Person), Role = Copy(PatientRole) });
        if (e.UserAgent is { Length: > 0 } userAgent)
        {
            audit.Entity.Add(new AuditEvent.EntityComponent
            {
                Type = Copy(SystemObject),
                Role = Copy(SecurityResource),
                Name = "user agent",
                Detail = [new AuditEvent.DetailComponent { Type = UserAgentDetail, Value = new FhirString(Limit(userAgent, 512)) }],
            });
        }
        return audit;
    }

    /// <summary>The entry as the log page shows it.</summary>
    public static SecurityLogEntry ToEntry(AuditEvent audit)
    {
        var kind = SecurityEventCatalog.ByCode(audit.Subtype.FirstOrDefault(c => c.System == SecurityEventCatalog.IgnisSystem)?.Code);
        var user = audit.Agent.FirstOrDefault(a => Has(a.Type, HumanUser));
        var client = audit.Agent.FirstOrDefault(a => Has(a.Type, Application));
        var address = audit.Agent.Select(a => a.Network?.Address).FirstOrDefault(a => a is not null);
        var targetUser = audit.Entity.FirstOrDefault(e => HasRole(e, SecurityUser));
        var targetClient = audit.Entity.FirstOrDefault(e => e.What?.Identifier?.System == ClientSystem);
        var patient = audit.Entity.FirstOrDefault(e => HasRole(e, PatientRole))?.What?.Reference;
        var userAgent = audit.Entity.SelectMany(e => e.Detail).FirstOrDefault(d => d.Type == UserAgentDetail)?.Value as FhirString;
        return new SecurityLogEntry(
            audit.Id ?? "",
            audit.Recorded ?? DateTimeOffset.MinValue,
            kind?.Label ?? audit.Type?.Display ?? "Event",
            kind?.Code,
            audit.Outcome is not (null or AuditEvent.AuditEventOutcome.N0),
            user?.Name,
            client?.Name,
            client?.AltId,
            targetUser?.Name,
            targetClient?.Name,
            patient,
            address,
            userAgent?.Value,
            audit.OutcomeDesc)
        {
            Count = audit.GetExtensionValue<UnsignedInt>(CountExtension)?.Value ?? 1,
            Until = audit.Period?.EndElement is { } end && end.TryToDateTimeOffset(out var until) ? until : null,
        };
    }

    private static bool HasRole(AuditEvent.EntityComponent entity, Coding role) =>
        entity.Role is { } r && r.System == role.System && r.Code == role.Code;

    private static bool Has(CodeableConcept? concept, Coding coding) =>
        concept?.Coding.Any(c => c.System == coding.System && c.Code == coding.Code) == true;

    private static ResourceReference Reference(string system, SecurityParty party) => new()
    {
        Identifier = party.Id is { Length: > 0 } id ? new Identifier(system, id) : null,
        Display = Limit(party.Name, 256),
    };

    private static AuditEvent.NetworkComponent? Network(string? address) =>
        address is { Length: > 0 } a ? new AuditEvent.NetworkComponent { Address = Limit(a, 64), Type = AuditEvent.AuditEventAgentNetworkType.N2 } : null;

    private static Coding Copy(Coding c) => new(c.System, c.Code, c.Display);

    private static string? Limit(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}

/// <summary>One line of the security log page.</summary>
public sealed record SecurityLogEntry(
    string Id, DateTimeOffset Recorded, string Event, string? Code, bool Failed,
    string? User, string? Client, string? ClientId, string? TargetUser, string? TargetClient, string? Patient,
    string? Address, string? UserAgent, string? Detail)
{
    /// <summary>How many events the entry stands for (a backend service's tokens are grouped per second).</summary>
    public int Count { get; init; } = 1;
    /// <summary>With a <see cref="Count"/> above 1, the time of the last one.</summary>
    public DateTimeOffset? Until { get; init; }
}
