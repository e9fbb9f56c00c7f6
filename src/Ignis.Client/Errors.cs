namespace Ignis.Client;

/// <summary>Base class of the errors Ignis.Client raises for OAuth and SMART problems.</summary>
public class SmartClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SmartClientException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The user has to sign in (again): there is no saved session, or the refresh token was refused
/// (expired, revoked, rotated away by another device). Catch it and start <see cref="SmartClient.LoginAsync"/>.
/// </summary>
public sealed class SignInRequiredException : SmartClientException
{
    /// <summary>Creates the exception.</summary>
    public SignInRequiredException(string message, string? error = null, Exception? inner = null) : base(message, inner) => Error = error;

    /// <summary>The OAuth error code the token endpoint answered (usually <c>invalid_grant</c>), when there was one.</summary>
    public string? Error { get; }
}

/// <summary>The authorization or token endpoint answered an OAuth error (RFC 6749 §4.1.2.1, §5.2).</summary>
public sealed class SmartAuthorizationException : SmartClientException
{
    /// <summary>Creates the exception.</summary>
    public SmartAuthorizationException(string error, string? description)
        : base(description is { Length: > 0 } ? $"{error}: {description}" : error)
    {
        Error = error;
        ErrorDescription = description;
    }

    /// <summary>The OAuth error code, e.g. <c>access_denied</c>, <c>invalid_scope</c>, <c>invalid_client</c>.</summary>
    public string Error { get; }

    /// <summary>The server's human-readable description, when it sent one.</summary>
    public string? ErrorDescription { get; }
}

/// <summary>The FHIR server publishes neither a SMART configuration nor OAuth URIs in its CapabilityStatement.</summary>
public sealed class SmartDiscoveryException : SmartClientException
{
    /// <summary>Creates the exception.</summary>
    public SmartDiscoveryException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The token store could not be read or written (for example, its key is missing or the file was tampered with).</summary>
public sealed class TokenStoreException : SmartClientException
{
    /// <summary>Creates the exception.</summary>
    public TokenStoreException(string message, Exception? inner = null) : base(message, inner) { }
}
