using Ignis.Server.Fhir;

namespace Ignis.Server.Hosting.Interfaces;

/// <summary>
/// The two interfaces (seed 002): the secure one (https) and the insecure one (plain http, loopback by default).
/// Both serve the same FHIR API, OAuth endpoints and pages; they differ in transport and in what they do with
/// requests that carry no credentials. Section "Ignis:Interfaces".
/// </summary>
public sealed class InterfacesOptions
{
    public const string Section = "Ignis:Interfaces";

    public InterfaceSettings Insecure { get; set; } = new() { Urls = "http://localhost:8080" };

    public InterfaceSettings Secure { get; set; } = new() { Urls = "https://localhost:8443" };

    /// <summary>The resource types that <see cref="AnonymousAccess.Limit"/> lets anyone read and search.</summary>
    public string[] PublicResourceTypes { get; set; } =
        ["CapabilityStatement", "ValueSet", "CodeSystem", "StructureDefinition", "SearchParameter"];

    public InterfaceSettings Of(IgnisInterface which) => which == IgnisInterface.Secure ? Secure : Insecure;
}

public sealed class InterfaceSettings
{
    /// <summary>Where the interface listens (';'-separated); empty: not at all. Ignored when --urls or ASPNETCORE_URLS is set.</summary>
    public string Urls { get; set; } = "";

    /// <summary>Requests without credentials, or with a client certificate the server does not recognise; default Ignis:Fhir:Anonymous.</summary>
    public AnonymousAccess? Anonymous { get; set; }

    /// <summary>Accept <see cref="AnonymousAccess.Allow"/> on a non-loopback address (a warning is logged at start).</summary>
    public bool ForceAllow { get; set; }
}

/// <summary>Which interface a request came in on.</summary>
public enum IgnisInterface
{
    Insecure,
    Secure,
}

public static class IgnisInterfaces
{
    /// <summary>
    /// The interface of a request: secure when the client reached the server over TLS, directly or through a
    /// trusted proxy that said so (X-Forwarded-Proto https, applied by the forwarded-headers middleware).
    /// </summary>
    public static IgnisInterface Of(HttpContext http) => http.Request.IsHttps ? IgnisInterface.Secure : IgnisInterface.Insecure;

    /// <summary>The anonymous-access policy of the interface a request came in on.</summary>
    public static AnonymousAccess AnonymousPolicy(HttpContext http, IgnisOptions ignis, InterfacesOptions interfaces) =>
        interfaces.Of(Of(http)).Anonymous ?? ignis.Fhir.Anonymous;
}

/// <summary>The server certificate of the secure interface and what it asks of clients. Section "Ignis:Tls".</summary>
public sealed class TlsOptions
{
    public const string Section = "Ignis:Tls";

    /// <summary>A PFX file, or a PEM certificate (with <see cref="KeyPath"/> or the key in the same file). Unset: a self-signed certificate under {DataDirectory}/tls.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is a separate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Ask TLS clients for a certificate on the secure interface (never require one).</summary>
    public bool RequestClientCertificate { get; set; } = true;
}

/// <summary>
/// X-Forwarded-For/Proto/Host from a reverse proxy, trusted only from the addresses listed here (none by default:
/// the headers are ignored). Section "Ignis:ForwardedHeaders".
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "Ignis:ForwardedHeaders";

    /// <summary>IP addresses of trusted proxies, e.g. 10.0.0.5 or ::1.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR form, e.g. 10.0.0.0/8.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row may append to the headers (1: only the nearest).</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>Host values accepted in X-Forwarded-Host (empty: any, from trusted proxies only).</summary>
    public string[] AllowedHosts { get; set; } = [];
}
