using Ignis.Server.Portal;

namespace Ignis.Server.Pages.Shared;

/// <summary>The app form's fields, named as RFC 7591 names them where it can (client_name, redirect_uris, scope, jwks_uri).</summary>
public static class AppFormBinding
{
    public static AppForm Read(IFormCollection form) => new()
    {
        Name = form["client_name"].LastOrDefault(),
        Kind = form["app_type"].LastOrDefault() ?? "",
        RedirectUris = form["redirect_uris"].LastOrDefault(),
        LaunchUrl = form["launch_uri"].LastOrDefault(),
        LogoUrl = form["logo_uri"].LastOrDefault(),
        Scopes = form["scope"].LastOrDefault(),
        Jwks = form["jwks"].LastOrDefault(),
        JwksUri = form["jwks_uri"].LastOrDefault(),
        RefreshTokens = form["refresh_tokens"].LastOrDefault() == "true",
    };
}
