using Ignis.Smart.Access;
using Ignis.Smart.Scopes;
using static Ignis.Smart.Tests.AccessDecisionTests;

namespace Ignis.Smart.Tests;

public class WriteCheckTests
{
    private static readonly FakeResource AliceLab = FakeResource.Observation("alice", "lab");
    private static readonly FakeResource AliceVital = FakeResource.Observation("alice", "vital");
    private static readonly FakeResource DaveLab = FakeResource.Observation("dave", "lab");
    private static readonly FakeResource Nobody = FakeResource.Of("Observation");

    private static FakeResource? Resource(string? name) => name switch
    {
        null => null,
        "aliceLab" => AliceLab,
        "aliceVital" => AliceVital,
        "daveLab" => DaveLab,
        "nobody" => Nobody,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // before/after: the stored resource and the resource as it would be stored; expected: null = allowed,
    // else the denial code and the permission it is about.
    [Theory]
    // alice (patient user) with write scopes: only inside her compartment
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Create, null, "aliceLab", null, null)]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Create, null, "daveLab", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Create, null, "nobody", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Alice, "user/*.cruds", FhirInteraction.Create, null, "daveLab", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Update, "aliceLab", "aliceVital", null, null)]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Update, "aliceLab", "daveLab", AccessDenialCode.WriteOutsideGrant, "u")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Update, "daveLab", "aliceLab", AccessDenialCode.ExistingOutsideGrant, "u")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Update, "daveLab", "daveLab", AccessDenialCode.ExistingOutsideGrant, "u")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Patch, "aliceLab", "aliceVital", null, null)]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Patch, "aliceLab", "nobody", AccessDenialCode.WriteOutsideGrant, "u")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Patch, "daveLab", "daveLab", AccessDenialCode.ExistingOutsideGrant, "u")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Delete, "aliceLab", null, null, null)]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Delete, "daveLab", null, AccessDenialCode.ExistingOutsideGrant, "d")]
    [InlineData(Who.Alice, "patient/Observation.cruds", FhirInteraction.Delete, null, null, null, null)]
    // update as create needs c as well as u
    [InlineData(Who.Alice, "patient/Observation.cu", FhirInteraction.Update, null, "aliceLab", null, null)]
    [InlineData(Who.Alice, "patient/Observation.u", FhirInteraction.Update, null, "aliceLab", AccessDenialCode.NoScope, "c")]
    [InlineData(Who.Alice, "patient/Observation.cu", FhirInteraction.Update, null, "daveLab", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Carol, "user/Observation.u user/Observation.c?category=lab", FhirInteraction.Update, null, "aliceVital", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Carol, "user/Observation.u user/Observation.c?category=lab", FhirInteraction.Update, null, "aliceLab", null, null)]
    // a clinician with user/ scopes writes for any patient; with patient/ scopes only for the launch patient
    [InlineData(Who.Carol, "user/Observation.cruds", FhirInteraction.Update, "aliceLab", "daveLab", null, null)]
    [InlineData(Who.Carol, "user/Observation.cruds", FhirInteraction.Create, null, "nobody", null, null)]
    [InlineData(Who.CarolOnDave, "patient/Observation.cruds", FhirInteraction.Create, null, "daveLab", null, null)]
    [InlineData(Who.CarolOnDave, "patient/Observation.cruds", FhirInteraction.Create, null, "aliceLab", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.CarolOnDave, "patient/Observation.cruds", FhirInteraction.Update, "daveLab", "aliceLab", AccessDenialCode.WriteOutsideGrant, "u")]
    [InlineData(Who.CarolOnDave, "patient/Observation.cruds", FhirInteraction.Delete, "aliceLab", null, AccessDenialCode.ExistingOutsideGrant, "d")]
    // granular write scopes hold the resource inside the filter before and after
    [InlineData(Who.Carol, "user/Observation.cu?category=lab", FhirInteraction.Create, null, "aliceVital", AccessDenialCode.WriteOutsideGrant, "c")]
    [InlineData(Who.Carol, "user/Observation.cu?category=lab", FhirInteraction.Update, "aliceLab", "aliceVital", AccessDenialCode.WriteOutsideGrant, "u")]
    [InlineData(Who.Carol, "user/Observation.cu?category=lab", FhirInteraction.Update, "aliceVital", "aliceLab", AccessDenialCode.ExistingOutsideGrant, "u")]
    [InlineData(Who.Carol, "user/Observation.cu?category=lab user/Observation.u?category=vital", FhirInteraction.Update, "aliceVital", "aliceLab", null, null)]
    // backend clients with system/ scopes write anywhere
    [InlineData(Who.Backend, "system/*.cruds", FhirInteraction.Update, "aliceLab", "daveLab", null, null)]
    [InlineData(Who.Backend, "system/*.cruds", FhirInteraction.Delete, "daveLab", null, null, null)]
    // an interaction denied up front stays denied
    [InlineData(Who.Alice, "patient/Observation.rs", FhirInteraction.Create, null, "aliceLab", AccessDenialCode.NoScope, "c")]
    [InlineData(Who.Alice, "patient/Observation.rs", FhirInteraction.Delete, "aliceLab", null, AccessDenialCode.NoScope, "d")]
    public void Writes_stay_inside_the_grant_before_and_after(Who who, string scopes, FhirInteraction interaction, string? before, string? after, AccessDenialCode? code, string? permission)
    {
        var decision = AccessPolicy.Decide(Context(who, scopes), Request(interaction, "Observation"));
        var denial = decision.CheckWrite(Resource(before), Resource(after));

        if (code is null)
        {
            denial.ShouldBeNull();
            return;
        }
        denial.ShouldNotBeNull();
        denial.Code.ShouldBe(code.Value);
        denial.Permission.ToLetters().ShouldBe(permission);
        denial.ResourceType.ShouldBe("Observation");
    }

    [Fact]
    public void Alice_cannot_reach_daves_data_through_any_interaction()
    {
        var alice = Context(Who.Alice, "launch/patient openid fhirUser patient/*.cruds");
        AccessDecision Decide(AccessRequest request) => AccessPolicy.Decide(alice, request);

        Decide(AccessRequest.Read("Observation")).Permits(DaveLab).ShouldBeFalse();
        Decide(AccessRequest.VRead("Observation")).Permits(DaveLab).ShouldBeFalse();
        Decide(AccessRequest.HistoryInstance("Observation")).Permits(DaveLab).ShouldBeFalse();
        Decide(AccessRequest.Read("Patient")).Permits(FakeResource.Of("Patient", "dave")).ShouldBeFalse();
        foreach (var search in new[] { AccessRequest.Search("Observation"), AccessRequest.HistoryType("Observation"), AccessRequest.SearchSystem(), AccessRequest.HistorySystem() })
        {
            var rows = Decide(search).For("Observation");
            rows.AnyOf.ShouldBe([new RowFilter("alice", null)]);
            rows.Matches(DaveLab).ShouldBeFalse();
        }
        Decide(AccessRequest.Create("Observation")).CheckWrite(null, DaveLab)!.Code.ShouldBe(AccessDenialCode.WriteOutsideGrant);
        Decide(AccessRequest.Update("Observation")).CheckWrite(null, DaveLab)!.Code.ShouldBe(AccessDenialCode.WriteOutsideGrant);
        Decide(AccessRequest.Update("Observation")).CheckWrite(DaveLab, AliceLab)!.Code.ShouldBe(AccessDenialCode.ExistingOutsideGrant);
        Decide(AccessRequest.Update("Observation")).CheckWrite(AliceLab, DaveLab)!.Code.ShouldBe(AccessDenialCode.WriteOutsideGrant);
        Decide(AccessRequest.Patch("Observation")).CheckWrite(DaveLab, DaveLab)!.Code.ShouldBe(AccessDenialCode.ExistingOutsideGrant);
        Decide(AccessRequest.Delete("Observation")).CheckWrite(DaveLab, null)!.Code.ShouldBe(AccessDenialCode.ExistingOutsideGrant);
        Decide(AccessRequest.Create("Observation", conditional: true)).For("Observation", ScopePermissions.Search).Matches(DaveLab).ShouldBeFalse();

        // and the same interactions on her own data go through
        Decide(AccessRequest.Read("Observation")).Permits(AliceLab).ShouldBeTrue();
        Decide(AccessRequest.Update("Observation")).CheckWrite(AliceLab, AliceVital).ShouldBeNull();
        Decide(AccessRequest.Delete("Observation")).CheckWrite(AliceLab, null).ShouldBeNull();
    }
}
