using System.Net;
using System.Security.Cryptography.X509Certificates;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Hosting.Interfaces;

/// <summary>The secure and insecure interfaces: where they listen, the server certificate, client certificates, forwarded headers.</summary>
public static partial class InterfaceHosting
{
    /// <summary>
    /// Listens on the insecure interface (http://localhost:8080) and the secure one (https://localhost:8443) unless
    /// --urls or ASPNETCORE_URLS say where; every https address is served with the configured certificate or the
    /// self-signed one, and asks for (never requires) a client certificate.
    /// </summary>
    public static WebApplicationBuilder AddIgnisInterfaces(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<InterfacesOptions>().Bind(builder.Configuration.GetSection(InterfacesOptions.Section))
            .Validate(o => o.PublicResourceTypes.All(t => !string.IsNullOrWhiteSpace(t)), InterfacesOptions.Section + ":PublicResourceTypes must list resource type names.")
            .ValidateOnStart();
        services.AddOptions<TlsOptions>().Bind(builder.Configuration.GetSection(TlsOptions.Section));
        services.AddOptions<ForwardedHeadersSettings>().Bind(builder.Configuration.GetSection(ForwardedHeadersSettings.Section))
            .Validate(o => o.ForwardLimit > 0, ForwardedHeadersSettings.Section + ":ForwardLimit must be at least 1.")
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), ForwardedHeadersSettings.Section + ":KnownProxies must be IP addresses, e.g. 10.0.0.5.")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), ForwardedHeadersSettings.Section + ":KnownNetworks must be CIDR networks, e.g. 10.0.0.0/8.")
            .ValidateOnStart();
        services.AddSingleton<ServerCertificateProvider>();

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            var interfaces = builder.Configuration.GetSection(InterfacesOptions.Section).Get<InterfacesOptions>() ?? new InterfacesOptions();
            var urls = string.Join(';', new[] { interfaces.Insecure.Urls, interfaces.Secure.Urls }.Where(u => !string.IsNullOrWhiteSpace(u)));
            if (urls.Length == 0)
                throw new InvalidOperationException($"Both {InterfacesOptions.Section}:Insecure:Urls and {InterfacesOptions.Section}:Secure:Urls are empty: the server would not listen anywhere.");
            builder.WebHost.UseUrls(urls);
        }
        var kestrelDefaultCertificate = builder.Configuration.GetSection("Kestrel:Certificates:Default").Exists();
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https =>
        {
            var tls = k.ApplicationServices.GetRequiredService<IOptions<TlsOptions>>().Value;
            // Kestrel's own Kestrel:Certificates:Default, when given, is used as ASP.NET Core documents it.
            if (!kestrelDefaultCertificate) https.ServerCertificate = k.ApplicationServices.GetRequiredService<ServerCertificateProvider>().Certificate;
            if (tls.RequestClientCertificate)
            {
                // RFC 8705 and the certificate allow-list: the certificate is asked for, never required, and every
                // check of it is Ignis's own (self-signed certificates are legitimate for self_signed_tls_client_auth).
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }
        }));
        return builder;
    }

    /// <summary>X-Forwarded-For/Proto/Host, applied only for requests from the configured proxies.</summary>
    public static WebApplication UseIgnisForwardedHeaders(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value;
        if (settings.KnownProxies.Length == 0 && settings.KnownNetworks.Length == 0) return app;
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            ForwardLimit = settings.ForwardLimit,
            AllowedHosts = [.. settings.AllowedHosts],
        };
        // ASP.NET Core trusts loopback by default; only what the admin listed is trusted here.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in settings.KnownProxies) options.KnownProxies.Add(IPAddress.Parse(proxy));
        foreach (var network in settings.KnownNetworks) options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        app.UseForwardedHeaders(options);
        return app;
    }

    /// <summary>
    /// Anonymous=Allow switches access control off on an interface; it is accepted only when each address of that
    /// interface is loopback, unless the admin forces it (Ignis:Interfaces:&lt;name&gt;:ForceAllow), which is logged.
    /// </summary>
    public static WebApplication RequireLoopbackForAnonymousAllow(this WebApplication app)
    {
        var ignis = app.Services.GetRequiredService<IOptions<IgnisOptions>>().Value;
        var interfaces = app.Services.GetRequiredService<IOptions<InterfacesOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Startup");
        var urls = app.Configuration["urls"] ?? app.Configuration["ASPNETCORE_URLS"]
            ?? string.Join(';', new[] { interfaces.Insecure.Urls, interfaces.Secure.Urls }.Where(u => !string.IsNullOrWhiteSpace(u)));
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var which = url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? IgnisInterface.Secure : IgnisInterface.Insecure;
            var settings = interfaces.Of(which);
            if ((settings.Anonymous ?? ignis.Fhir.Anonymous) != AnonymousAccess.Allow) continue;
            if (IsLoopback(url))
            {
                LogAllowOnLoopback(logger, which, url);
                continue;
            }
            if (!settings.ForceAllow)
                throw new InvalidOperationException(
                    $"Anonymous=Allow turns access control off on the {which.ToString().ToLowerInvariant()} interface and is accepted only on loopback addresses; " +
                    $"it would also listen on {url}. Use Reject or Limit ({InterfacesOptions.Section}:{which}:Anonymous), listen on 127.0.0.1/localhost only, " +
                    $"or set {InterfacesOptions.Section}:{which}:ForceAllow=true if anyone on that network may read and change every record.");
            LogAllowForced(logger, which, url);
        }
        return app;
    }

    public static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"), UriKind.Absolute, out var uri)) return false;
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "The {Interface} interface ({Url}) serves the FHIR API without access control (Anonymous=Allow, loopback only)")]
    private static partial void LogAllowOnLoopback(ILogger logger, IgnisInterface @interface, string url);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Critical, Message = "The {Interface} interface ({Url}) serves the FHIR API WITHOUT ACCESS CONTROL to the network (Anonymous=Allow with ForceAllow)")]
    private static partial void LogAllowForced(ILogger logger, IgnisInterface @interface, string url);
}

/// <summary>The secure interface's certificate, loaded (or made) once when the first https address is bound.</summary>
public sealed class ServerCertificateProvider(IOptions<TlsOptions> tls, IOptions<IgnisOptions> ignis, ILoggerFactory loggers)
{
    private readonly Lazy<X509Certificate2> _certificate = new(() =>
        ServerCertificate.Load(tls.Value, ignis.Value.DataDirectory, loggers.CreateLogger("Ignis.Startup")));

    public X509Certificate2 Certificate => _certificate.Value;
}
