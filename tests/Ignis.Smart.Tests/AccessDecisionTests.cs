using Ignis.Smart.Access;
using Ignis.Smart.Scopes;

namespace Ignis.Smart.Tests;

public class AccessDecisionTests
{
    public enum Who { Alice, AliceLaunchedOnDave, Carol, CarolOnDave, Admin, AdminOnDave, Bob, Backend }

    internal static ScopeSet Scopes(string text)
    {
        var parsed = ScopeSet.Parse(text);
        parsed.Invalid.ShouldBeEmpty();
        return parsed.Scopes;
    }

    internal static AccessContext Context(Who who, string scopes) => who switch
    {
        Who.Alice => AccessContext.ForPatientUser(Scopes(scopes), "alice"),
        Who.AliceLaunchedOnDave => AccessContext.ForPatientUser(Scopes(scopes), "alice", launchPatientId: "dave"),
        Who.Carol => AccessContext.ForPractitionerUser(Scopes(scopes)),
        Who.CarolOnDave => AccessContext.ForPractitionerUser(Scopes(scopes), launchPatientId: "dave", launchEncounterId: "enc1"),
        Who.Admin => AccessContext.ForAdminUser(Scopes(scopes)),
        Who.AdminOnDave => AccessContext.ForAdminUser(Scopes(scopes), launchPatientId: "dave"),
        Who.Bob => AccessContext.ForOtherUser(Scopes(scopes)),
        Who.Backend => AccessContext.ForBackendService(Scopes(scopes)),
        _ => throw new ArgumentOutOfRangeException(nameof(who)),
    };

    internal static AccessRequest Request(FhirInteraction interaction, string type, bool conditional = false) => interaction switch
    {
        FhirInteraction.Read => AccessRequest.Read(type),
        FhirInteraction.VRead => AccessRequest.VRead(type),
        FhirInteraction.SearchType => AccessRequest.Search(type),
        FhirInteraction.SearchSystem => AccessRequest.SearchSystem(type),
        FhirInteraction.HistoryInstance => AccessRequest.HistoryInstance(type),
        FhirInteraction.HistoryType => AccessRequest.HistoryType(type),
        FhirInteraction.HistorySystem => AccessRequest.HistorySystem(type),
        FhirInteraction.Create => AccessRequest.Create(type, conditional),
        FhirInteraction.Update => AccessRequest.Update(type, conditional),
        FhirInteraction.Patch => AccessRequest.Patch(type, conditional),
        FhirInteraction.Delete => AccessRequest.Delete(type, conditional),
        _ => throw new ArgumentOutOfRangeException(nameof(interaction)),
    };

    [Theory]
    [InlineData(FhirInteraction.Read, "r", "s")]
    [InlineData(FhirInteraction.VRead, "r", "s")]
    [InlineData(FhirInteraction.HistoryInstance, "r", "s")]
    [InlineData(FhirInteraction.SearchType, "s", "r")]
    [InlineData(FhirInteraction.SearchSystem, "s", "r")]
    [InlineData(FhirInteraction.HistoryType, "s", "r")]
    [InlineData(FhirInteraction.HistorySystem, "s", "r")]
    [InlineData(FhirInteraction.Create, "c", "ruds")]
    [InlineData(FhirInteraction.Update, "u", "crds")]
    [InlineData(FhirInteraction.Patch, "u", "crds")]
    [InlineData(FhirInteraction.Delete, "d", "crus")]
    public void Each_interaction_needs_its_smart_permission(FhirInteraction interaction, string needed, string others)
    {
        AccessPolicy.PermissionFor(interaction).ToLetters().ShouldBe(needed);

        var allowed = AccessPolicy.Decide(Context(Who.Carol, $"user/Observation.{needed}"), Request(interaction, "Observation"));
        allowed.IsAllowed.ShouldBeTrue();
        allowed.Denial.ShouldBeNull();

        var denied = AccessPolicy.Decide(Context(Who.Carol, $"user/Observation.{others}"), Request(interaction, "Observation"));
        denied.IsAllowed.ShouldBeFalse();
        denied.Denial.ShouldBe(new AccessDenial(AccessDenialCode.NoScope, "Observation", AccessPolicy.PermissionFor(interaction)));
        denied.For("Observation").IsAllowed.ShouldBeFalse();
    }

    [Theory]
    [InlineData("user/*.read", FhirInteraction.Read, true)]
    [InlineData("user/*.read", FhirInteraction.SearchType, true)]
    [InlineData("user/*.read", FhirInteraction.Create, false)]
    [InlineData("user/*.write", FhirInteraction.Create, true)]
    [InlineData("user/*.write", FhirInteraction.Update, true)]
    [InlineData("user/*.write", FhirInteraction.Delete, true)]
    [InlineData("user/*.write", FhirInteraction.Read, false)]
    [InlineData("user/*.write", FhirInteraction.SearchType, false)]
    [InlineData("user/*.*", FhirInteraction.Patch, true)]
    [InlineData("user/Observation.rs", FhirInteraction.Read, true)]
    [InlineData("user/Condition.rs", FhirInteraction.Read, false)]
    [InlineData("user/*.rs", FhirInteraction.Read, true)]
    public void V1_and_wildcard_scopes_map_to_v2_permissions_on_every_type(string scopes, FhirInteraction interaction, bool allowed)
    {
        AccessPolicy.Decide(Context(Who.Carol, scopes), Request(interaction, "Observation")).IsAllowed.ShouldBe(allowed);
    }

    // Effective access = granted scopes ∩ the caller's rights. The expected text is TypeAccess.ToString():
    // "all", "none", or filters ORed.
    [Theory]
    [InlineData(Who.Alice, "patient/Observation.rs", "Patient/alice")]
    [InlineData(Who.Alice, "user/Observation.rs", "Patient/alice")]
    [InlineData(Who.Alice, "user/*.cruds", "Patient/alice")]
    [InlineData(Who.Alice, "system/Observation.rs", "none")]
    [InlineData(Who.AliceLaunchedOnDave, "patient/Observation.rs", "none")]
    [InlineData(Who.AliceLaunchedOnDave, "user/Observation.rs", "Patient/alice")]
    [InlineData(Who.Carol, "user/Observation.rs", "all")]
    [InlineData(Who.Carol, "patient/Observation.rs", "none")]
    [InlineData(Who.Carol, "system/Observation.rs", "none")]
    [InlineData(Who.CarolOnDave, "patient/Observation.rs", "Patient/dave")]
    [InlineData(Who.CarolOnDave, "patient/*.rs", "Patient/dave")]
    [InlineData(Who.CarolOnDave, "user/Observation.rs", "all")]
    [InlineData(Who.CarolOnDave, "patient/Observation.rs user/Observation.rs", "all")]
    [InlineData(Who.CarolOnDave, "user/Observation.rs?category=vital patient/Observation.rs", "category=vital OR Patient/dave")]
    [InlineData(Who.Admin, "user/*.rs", "all")]
    [InlineData(Who.AdminOnDave, "patient/*.rs", "Patient/dave")]
    [InlineData(Who.Bob, "user/*.rs patient/*.rs system/*.rs", "none")]
    [InlineData(Who.Backend, "system/*.rs", "all")]
    [InlineData(Who.Backend, "system/Observation.s", "all")]
    [InlineData(Who.Backend, "user/*.rs", "none")]
    [InlineData(Who.Backend, "patient/*.rs", "none")]
    public void Scopes_reach_only_what_the_caller_may_reach(Who who, string scopes, string rows)
    {
        var decision = AccessPolicy.Decide(Context(who, scopes), AccessRequest.Search("Observation"));
        decision.IsAllowed.ShouldBe(rows != "none");
        decision.For("Observation").ToString().ShouldBe($"Observation.s: {rows}");
    }

    [Theory]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab", "category=lab")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab user/Observation.rs?category=vital", "category=lab OR category=vital")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab user/Observation.rs", "all")]
    [InlineData(Who.Carol, "user/Observation.rs user/Observation.rs?category=lab", "all")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab user/*.rs", "all")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab&code=x user/Observation.rs?category=lab", "category=lab")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab user/Observation.rs?category=lab&code=x", "category=lab")]
    [InlineData(Who.Carol, "user/Observation.rs?category=lab&code=x", "category=lab&code=x")]
    [InlineData(Who.Carol, "user/Observation.r user/Observation.s?category=lab", "category=lab")]
    [InlineData(Who.Carol, "user/*.rs?_security=N", "_security=N")]
    [InlineData(Who.Alice, "patient/Observation.rs?category=lab", "Patient/alice AND category=lab")]
    [InlineData(Who.Alice, "patient/Observation.rs?category=lab user/Observation.rs?category=vital", "Patient/alice AND category=lab OR Patient/alice AND category=vital")]
    [InlineData(Who.Alice, "patient/Observation.rs?category=lab patient/Observation.rs", "Patient/alice")]
    [InlineData(Who.CarolOnDave, "patient/Observation.rs?category=lab user/Observation.rs?category=lab", "category=lab")]
    public void Granular_scopes_OR_together_and_a_plain_scope_lifts_the_filter(Who who, string scopes, string rows)
    {
        AccessPolicy.Decide(Context(who, scopes), AccessRequest.Search("Observation"))
            .For("Observation").ToString().ShouldBe($"Observation.s: {rows}");
    }

    [Fact]
    public void Granular_filters_are_per_permission()
    {
        var context = Context(Who.Carol, "user/Observation.r?category=lab user/Observation.s");
        AccessPolicy.Decide(context, AccessRequest.Read("Observation")).For("Observation").ToString().ShouldBe("Observation.r: category=lab");
        AccessPolicy.Decide(context, AccessRequest.Search("Observation")).For("Observation").IsUnrestricted.ShouldBeTrue();
    }

    [Theory]
    [InlineData("alice", "lab", true)]
    [InlineData("alice", "vital", false)]
    [InlineData("dave", "lab", false)]
    [InlineData("dave", "vital", false)]
    public void A_granular_patient_token_permits_only_matching_rows_of_its_own_patient(string patient, string category, bool permitted)
    {
        var decision = AccessPolicy.Decide(Context(Who.Alice, "patient/Observation.rs?category=lab"), AccessRequest.Read("Observation"));
        decision.Permits(FakeResource.Observation(patient, category)).ShouldBe(permitted);
    }

    [Theory]
    [InlineData(Who.Alice, "patient/*.rs", FhirInteraction.Read)]
    [InlineData(Who.Alice, "patient/*.rs", FhirInteraction.VRead)]
    [InlineData(Who.Alice, "patient/*.rs", FhirInteraction.HistoryInstance)]
    [InlineData(Who.Alice, "user/*.cruds", FhirInteraction.Read)]
    [InlineData(Who.CarolOnDave, "patient/*.rs", FhirInteraction.Read)]
    public void A_patient_bound_token_reads_only_its_patients_resources(Who who, string scopes, FhirInteraction interaction)
    {
        var own = who == Who.Alice ? "alice" : "dave";
        var other = who == Who.Alice ? "dave" : "alice";
        var decision = AccessPolicy.Decide(Context(who, scopes), Request(interaction, "Observation"));

        decision.IsAllowed.ShouldBeTrue();
        decision.Permits(FakeResource.Observation(own, "lab")).ShouldBeTrue();
        decision.Permits(FakeResource.Observation(other, "lab")).ShouldBeFalse();
        decision.Permits(FakeResource.Of("Patient", own)).ShouldBeTrue();
        decision.Permits(FakeResource.Of("Patient", other)).ShouldBeFalse();
        decision.Permits(FakeResource.Of("Practitioner")).ShouldBeFalse();
    }

    [Theory]
    [InlineData(FhirInteraction.SearchType)]
    [InlineData(FhirInteraction.HistoryType)]
    [InlineData(FhirInteraction.SearchSystem)]
    [InlineData(FhirInteraction.HistorySystem)]
    public void Alice_searching_any_way_is_confined_to_her_compartment_even_with_user_wildcards(FhirInteraction interaction)
    {
        var decision = AccessPolicy.Decide(Context(Who.Alice, "user/*.cruds"), Request(interaction, "Observation"));
        decision.IsAllowed.ShouldBeTrue();
        decision.For("Observation").AnyOf.ShouldBe([new RowFilter("alice", null)]);
        decision.For("Patient").AnyOf.ShouldBe([new RowFilter("alice", null)]);
    }

    [Fact]
    public void Types_reached_through_includes_chains_and_has_get_their_own_rows_or_none()
    {
        var decision = AccessPolicy.Decide(Context(Who.CarolOnDave, "user/Observation.rs patient/Patient.rs"), AccessRequest.Search("Observation"));
        decision.For("Observation").IsUnrestricted.ShouldBeTrue();
        decision.For("Patient").AnyOf.ShouldBe([new RowFilter("dave", null)]);
        decision.For("Practitioner").IsAllowed.ShouldBeFalse();
        decision.AllowedTypes.ShouldBe(["Observation"]);
    }

    [Theory]
    [InlineData(Who.Backend, "system/*.rs", null)]
    [InlineData(Who.Backend, "system/Observation.rs system/Patient.s system/Condition.r", "Observation,Patient")]
    [InlineData(Who.Carol, "user/Observation.rs patient/Condition.rs system/*.rs", "Observation")]
    [InlineData(Who.CarolOnDave, "user/Observation.rs patient/Condition.rs", "Condition,Observation")]
    [InlineData(Who.Alice, "patient/*.rs", null)]
    public void System_level_search_without_types_looks_at_the_types_granted_s(Who who, string scopes, string? types)
    {
        foreach (var request in new[] { AccessRequest.SearchSystem(), AccessRequest.HistorySystem() })
        {
            var decision = AccessPolicy.Decide(Context(who, scopes), request);
            decision.IsAllowed.ShouldBeTrue();
            if (types is null)
                decision.AllowedTypes.ShouldBeNull();
            else
                decision.AllowedTypes!.Order(StringComparer.Ordinal).ShouldBe(types.Split(','));
        }
    }

    [Theory]
    [InlineData(Who.Backend, "system/Observation.r", "*")]
    [InlineData(Who.Carol, "system/*.rs", "*")]
    [InlineData(Who.Carol, "patient/*.rs", "*")]
    [InlineData(Who.Backend, "system/Observation.rs", "Condition")]
    public void System_level_search_is_denied_when_a_type_or_every_type_lacks_s(Who who, string scopes, string deniedType)
    {
        var request = deniedType == "*" ? AccessRequest.SearchSystem() : AccessRequest.SearchSystem("Observation", "Condition");
        var decision = AccessPolicy.Decide(Context(who, scopes), request);
        decision.Denial.ShouldBe(new AccessDenial(AccessDenialCode.NoScope, deniedType, ScopePermissions.Search));
        decision.AllowedTypes.ShouldBe([]);
    }

    [Theory]
    [InlineData(FhirInteraction.Create, "user/Observation.c", false)]
    [InlineData(FhirInteraction.Create, "user/Observation.cs", true)]
    [InlineData(FhirInteraction.Update, "user/Observation.u", false)]
    [InlineData(FhirInteraction.Update, "user/Observation.us", true)]
    [InlineData(FhirInteraction.Patch, "user/Observation.us", true)]
    [InlineData(FhirInteraction.Delete, "user/Observation.d", false)]
    [InlineData(FhirInteraction.Delete, "user/Observation.ds", true)]
    [InlineData(FhirInteraction.Delete, "user/Observation.d user/*.s", true)]
    public void Conditional_writes_also_need_search(FhirInteraction interaction, string scopes, bool allowed)
    {
        var decision = AccessPolicy.Decide(Context(Who.Carol, scopes), Request(interaction, "Observation", conditional: true));
        decision.IsAllowed.ShouldBe(allowed);
        if (!allowed)
            decision.Denial!.Permission.ShouldBe(ScopePermissions.Search);
        else
            decision.For("Observation", ScopePermissions.Search).IsAllowed.ShouldBeTrue();
    }

    [Fact]
    public void Denials_carry_a_message_without_patient_data()
    {
        var decision = AccessPolicy.Decide(Context(Who.Alice, "patient/Observation.rs"), AccessRequest.Create("Observation"));
        decision.Denial!.Code.ShouldBe(AccessDenialCode.NoScope);
        decision.Denial.Message.ShouldBe("No granted scope allows 'c' on Observation.");
        decision.Denial.Message.ShouldNotContain("alice");
    }

    [Fact]
    public void Misuse_by_the_engine_fails_loudly()
    {
        Should.Throw<ArgumentException>(() => AccessContext.ForPatientUser(ScopeSet.Empty, " "));
        Should.Throw<ArgumentException>(() => AccessRequest.Read(""));
        var read = AccessPolicy.Decide(Context(Who.Carol, "user/*.cruds"), AccessRequest.Read("Observation"));
        Should.Throw<InvalidOperationException>(() => read.CheckWrite(null, FakeResource.Observation("alice", "lab")));
        Should.Throw<ArgumentException>(() => read.For("Observation", ScopePermissions.Read | ScopePermissions.Search));
        var create = AccessPolicy.Decide(Context(Who.Carol, "user/*.cruds"), AccessRequest.Create("Observation"));
        Should.Throw<ArgumentException>(() => create.CheckWrite(null, null));
        Should.Throw<ArgumentException>(() => create.CheckWrite(null, FakeResource.Of("Condition", "alice")));
    }
}
