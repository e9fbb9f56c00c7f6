using Ignis.Client.Login;
using Ignis.Client.Storage;

namespace Ignis.Client;

/// <summary>How a <see cref="SmartClient"/> reaches the server and signs users in.</summary>
public sealed class SmartClientOptions
{
    /// <summary>The FHIR base URL, e.g. <c>https://ehr.example.org/fhir</c> (in an EHR launch: the <c>iss</c> parameter).</summary>
    public required string FhirBaseUrl { get; set; }

    /// <summary>The client id the app was registered with at this server.</summary>
    public required string ClientId { get; set; }

    /// <summary>A client secret, for the rare native app registered as confidential; null for public clients (the normal case).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The scopes to ask for. Add <c>offline_access</c> (or <c>online_access</c>) to get a refresh token.</summary>
    public string Scope { get; set; } = "openid fhirUser offline_access launch/patient patient/*.rs";

    /// <summary>Opens the authorize URL; the system browser unless replaced.</summary>
    public IBrowserLauncher Browser { get; set; } = new SystemBrowserLauncher();

    /// <summary>Where sessions are kept between runs; the encrypted per-user store unless replaced.</summary>
    public ITokenStore? TokenStore { get; set; }

    /// <summary>The handler under discovery, token and revocation requests (proxies, certificates, tests).</summary>
    public HttpMessageHandler? BackchannelHandler { get; set; }

    /// <summary>The path of the loopback redirect URI (<c>http://127.0.0.1:{port}{path}</c>); register <c>http://127.0.0.1{path}</c>.</summary>
    public string RedirectPath { get; set; } = "/callback";

    /// <summary>Shown on the "you can close this tab" page.</summary>
    public string AppName { get; set; } = "the app";

    /// <summary>How long to wait for the user to finish signing in.</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Access tokens are refreshed when they expire within this margin, before a request is sent.</summary>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The clock (tests move it).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}

/// <summary>What to ask for in one sign-in.</summary>
public sealed class LoginOptions
{
    /// <summary>
    /// The name the session is saved under in the token store. Null: the <c>sub</c> claim of the id token (or
    /// <c>default</c> without <c>openid</c>). Use the person's name in a shared-device app.
    /// </summary>
    public string? User { get; set; }

    /// <summary>The <c>launch</c> parameter of an EHR launch; null for a standalone launch.</summary>
    public string? Launch { get; set; }

    /// <summary>Scopes for this sign-in, instead of <see cref="SmartClientOptions.Scope"/>.</summary>
    public string? Scope { get; set; }

    /// <summary>Extra authorize request parameters (e.g. <c>prompt</c>, <c>login_hint</c>).</summary>
    public IDictionary<string, string> ExtraParameters { get; } = new Dictionary<string, string>();
}
