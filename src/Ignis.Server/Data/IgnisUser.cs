using Microsoft.AspNetCore.Identity;

namespace Ignis.Server.Data;

/// <summary>A person who signs in: a patient, a clinician, a client developer or an administrator.</summary>
public sealed class IgnisUser : IdentityUser
{
    /// <summary>The FHIR resource that represents the user, relative to the FHIR base ("Patient/alice", "Practitioner/carol").</summary>
    public string? FhirUser { get; set; }

    /// <summary>The Patient id when <see cref="FhirUser"/> is a Patient, else null.</summary>
    public string? PatientId => FhirUser is { } f && f.StartsWith("Patient/", StringComparison.Ordinal) ? f["Patient/".Length..] : null;
}

/// <summary>The roles of DESIGN.md.</summary>
public static class IgnisRoles
{
    public const string Admin = "admin";
    public const string Developer = "developer";
    public const string Clinician = "clinician";
    public const string Patient = "patient";

    public static readonly string[] All = [Admin, Developer, Clinician, Patient];
}
