using Microsoft.AspNetCore.Identity;

namespace Ignis.Server.Data;

/// <summary>A person who signs in: a patient, a clinician, a client developer or an administrator.</summary>
public sealed class IgnisUser : IdentityUser
{
    /// <summary>The FHIR resource that represents the user, relative to the FHIR base ("Patient/alice", "Practitioner/carol").</summary>
    public string? FhirUser { get; set; }

    /// <summary>false: the account is disabled (no sign-in, no token); SCIM "active" (RFC 7643 §4.1.1).</summary>
    public bool Active { get; set; } = true;

    /// <summary>The provisioning client's id for the user (SCIM "externalId").</summary>
    public string? ExternalId { get; set; }

    /// <summary>SCIM "displayName".</summary>
    public string? DisplayName { get; set; }

    /// <summary>The parts of the user's name (SCIM "name").</summary>
    public string? FormattedName { get; set; }
    public string? GivenName { get; set; }
    public string? FamilyName { get; set; }
    public string? MiddleName { get; set; }
    public string? HonorificPrefix { get; set; }
    public string? HonorificSuffix { get; set; }

    /// <summary>SCIM "emails" as a JSON array; <see cref="IdentityUser.Email"/> holds the primary one.</summary>
    public string? EmailsJson { get; set; }

    /// <summary>SCIM "phoneNumbers" as a JSON array; <see cref="IdentityUser.PhoneNumber"/> holds the primary one.</summary>
    public string? PhoneNumbersJson { get; set; }

    /// <summary>The other SCIM attributes (nickName, title, addresses, the enterprise extension, ...) as a JSON object.</summary>
    public string? ScimAttributesJson { get; set; }

    /// <summary>When the user was created and last changed (UTC), and a number that grows with every change (the SCIM ETag).</summary>
    public DateTime Created { get; set; }
    public DateTime Modified { get; set; }
    public long Version { get; set; }

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
