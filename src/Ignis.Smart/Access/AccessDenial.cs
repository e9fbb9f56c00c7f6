using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>Why access was denied. The names are stable identifiers; the server maps each to its answer.</summary>
public enum AccessDenialCode
{
    /// <summary>No granted scope (that counts for this caller) gives the permission on the type: 403.</summary>
    NoScope = 1,
    /// <summary>The resource as it would be written is outside the rows the scopes allow (another patient's
    /// compartment, or not matching the granular filter): 403.</summary>
    WriteOutsideGrant = 2,
    /// <summary>The existing resource a write would change or delete is outside the rows the scopes allow
    /// (e.g. moving a resource out of the patient's compartment starts from outside it after the move; a
    /// resource of another patient is outside from the start): 403.</summary>
    ExistingOutsideGrant = 3,
}

/// <summary>A denial: what was missing, for which type and permission.</summary>
/// <param name="Code">The stable reason.</param>
/// <param name="ResourceType">The type the denial is about.</param>
/// <param name="Permission">The permission that was needed.</param>
public sealed record AccessDenial(AccessDenialCode Code, string ResourceType, ScopePermissions Permission)
{
    /// <summary>A sentence for the OperationOutcome; never includes token or patient data.</summary>
    public string Message => Code switch
    {
        AccessDenialCode.NoScope => $"No granted scope allows '{Permission.ToLetters()}' on {ResourceType}.",
        AccessDenialCode.WriteOutsideGrant => $"The {ResourceType} as written is outside what the granted scopes allow for '{Permission.ToLetters()}'.",
        AccessDenialCode.ExistingOutsideGrant => $"The existing {ResourceType} is outside what the granted scopes allow for '{Permission.ToLetters()}'.",
        _ => "Access denied.",
    };
}
