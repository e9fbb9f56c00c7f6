namespace Ignis.Smart.Scopes;

/// <summary>The part of a clinical scope before the slash.</summary>
public enum ScopeContext
{
    /// <summary><c>patient/</c>: data of the patient in context (the launch patient).</summary>
    Patient,
    /// <summary><c>user/</c>: data the signed-in user may reach.</summary>
    User,
    /// <summary><c>system/</c>: data a backend client may reach, with no user.</summary>
    System,
}

/// <summary>Which SMART version's permission syntax a clinical scope was written in.</summary>
public enum ScopeSyntax
{
    /// <summary>SMART v1: <c>.read</c>, <c>.write</c>, <c>.*</c>.</summary>
    V1,
    /// <summary>SMART v2: <c>.cruds</c> letters, optionally with a granular <c>?query</c>.</summary>
    V2,
}

/// <summary>What a parsed scope is.</summary>
public enum ScopeKind
{
    /// <summary><c>patient/</c>, <c>user/</c> or <c>system/</c> access to FHIR resources (<see cref="ClinicalScope"/>).</summary>
    Clinical,
    /// <summary><c>launch</c>: the app takes part in an EHR launch.</summary>
    Launch,
    /// <summary><c>launch/patient</c>: the app needs a patient in context.</summary>
    LaunchPatient,
    /// <summary><c>launch/encounter</c>: the app needs an encounter in context.</summary>
    LaunchEncounter,
    /// <summary><c>openid</c>.</summary>
    OpenId,
    /// <summary><c>fhirUser</c>.</summary>
    FhirUser,
    /// <summary><c>profile</c> (OpenID Connect).</summary>
    Profile,
    /// <summary><c>offline_access</c>: a refresh token that outlives the sign-in session.</summary>
    OfflineAccess,
    /// <summary><c>online_access</c>: a refresh token that ends with the sign-in session.</summary>
    OnlineAccess,
    /// <summary>A plain scope this library does not interpret (e.g. <c>scim</c>, <c>introspection</c>);
    /// the server decides whether it may be granted.</summary>
    Other,
}
