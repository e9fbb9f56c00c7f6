using Ignis.Server.Data;

namespace Ignis.Server.Pages.Shared;

/// <summary>Roles in words, for the admin pages.</summary>
public static class RoleText
{
    public static string Describe(string role) => role switch
    {
        IgnisRoles.Admin => "Administrator — manages users, apps and the security log",
        IgnisRoles.Developer => "App developer — registers and manages their own apps",
        IgnisRoles.Clinician => "Clinician — sees all patients' records, launches apps",
        IgnisRoles.Patient => "Patient — sees their own record",
        _ => role,
    };
}
