using Ignis.Smart.Access;
using static Ignis.Smart.Tests.AccessDecisionTests;

namespace Ignis.Smart.Tests;

/// <summary>The security log (AuditEvent) holds every user's sign-ins and grants: only administrators and backend services reach it.</summary>
public class SecurityLogAccessTests
{
    [Theory]
    [InlineData(Who.Admin, "user/*.rs")]
    [InlineData(Who.Admin, "user/AuditEvent.rs")]
    [InlineData(Who.Backend, "system/*.rs")]
    [InlineData(Who.Backend, "system/AuditEvent.rs")]
    public void Administrators_and_backend_services_read_and_search_the_security_log(Who who, string scopes)
    {
        var context = Context(who, scopes);
        AccessPolicy.Decide(context, AccessRequest.Search("AuditEvent")).IsAllowed.ShouldBeTrue();
        AccessPolicy.Decide(context, AccessRequest.Read("AuditEvent")).For("AuditEvent").IsUnrestricted.ShouldBeTrue();
    }

    [Theory]
    [InlineData(Who.Carol, "user/*.cruds")]
    [InlineData(Who.Carol, "user/AuditEvent.rs")]
    [InlineData(Who.CarolOnDave, "patient/*.rs")]
    [InlineData(Who.Alice, "patient/*.rs user/*.rs")]
    [InlineData(Who.Alice, "patient/AuditEvent.rs")]
    public void Patients_and_clinicians_get_no_security_log_from_any_scope(Who who, string scopes)
    {
        var context = Context(who, scopes);
        AccessPolicy.Decide(context, AccessRequest.Search("AuditEvent")).IsAllowed.ShouldBeFalse();
        AccessPolicy.Decide(context, AccessRequest.Read("AuditEvent")).IsAllowed.ShouldBeFalse();
        AccessPolicy.Decide(context, AccessRequest.Create("AuditEvent")).IsAllowed.ShouldBeFalse();
    }

    [Fact]
    public void A_clinicians_wildcard_scope_still_reaches_every_other_type_and_system_search_leaves_the_log_out()
    {
        var context = Context(Who.Carol, "user/*.rs");
        AccessPolicy.Decide(context, AccessRequest.Search("Observation")).For("Observation").IsUnrestricted.ShouldBeTrue();
        var system = AccessPolicy.Decide(context, AccessRequest.SearchSystem());
        system.IsAllowed.ShouldBeTrue();
        system.For("Patient").IsUnrestricted.ShouldBeTrue();
        system.For("AuditEvent").IsAllowed.ShouldBeFalse();
    }

    [Fact]
    public void A_system_search_over_many_types_leaves_the_log_out_for_a_clinician_and_keeps_it_for_an_administrator()
    {
        string[] types = ["Patient", "Observation", "AuditEvent"];
        var clinician = AccessPolicy.Decide(Context(Who.Carol, "user/*.rs"), AccessRequest.SearchSystem(types));
        clinician.IsAllowed.ShouldBeTrue();
        clinician.AllowedTypes.ShouldBe(["Patient", "Observation"], ignoreOrder: true);
        var admin = AccessPolicy.Decide(Context(Who.Admin, "user/*.rs"), AccessRequest.SearchSystem(types));
        admin.AllowedTypes.ShouldBe(types, ignoreOrder: true);
        AccessPolicy.Decide(Context(Who.Carol, "user/*.rs"), AccessRequest.SearchSystem("AuditEvent")).IsAllowed.ShouldBeFalse();
    }
}
