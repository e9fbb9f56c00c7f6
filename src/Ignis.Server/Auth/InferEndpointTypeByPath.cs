using System.Runtime.CompilerServices;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's <see cref="InferEndpointType"/>, comparing paths as strings. OpenIddict's handler runs for every request the
/// authentication middleware sees, and for each relative endpoint URI it builds the absolute URI on the request's base
/// (two or three <see cref="Uri"/> objects) before comparing: 1.4 % of the CPU and 4 % of the allocations of a
/// backend-services token request (docs/benchmarks.md). The rule is OpenIddict's: the first endpoint, in OpenIddict's
/// order, one of whose URIs names the request's path on the request's base (ignoring case, and one trailing slash on
/// either side). A relative URI made only of path characters (no dot segments, escapes, query or fragment) resolves to
/// the base's path, a slash and itself, so that is what is compared; when any configured URI is absolute or another
/// kind of relative URI, OpenIddict's own handler decides.
/// </summary>
public sealed class InferEndpointTypeByPath : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<InferEndpointTypeByPath>()
            .SetOrder(InferEndpointType.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    private static readonly ConditionalWeakTable<OpenIddictServerOptions, Endpoint[]?> Tables = new();
    private readonly InferEndpointType _general = new();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.BaseUri is not { IsAbsoluteUri: true } baseUri || context.RequestUri is not { IsAbsoluteUri: true } requestUri)
            return default;
        if (Tables.GetValue(context.Options, Build) is not { } endpoints) return _general.HandleAsync(context);

        // Always set, as OpenIddict does: a request the status code pages execute again on another path is not the
        // endpoint the first pass found (the transaction is the same).
        context.EndpointType = Infer(baseUri.AbsolutePath, requestUri.AbsolutePath, endpoints);
        if (context.EndpointType != OpenIddictServerEndpointType.Unknown)
            context.Logger.LogInformation(6053, OpenIddictResources.GetResourceString(OpenIddictResources.ID6053), context.EndpointType);
        return default;
    }

    private static OpenIddictServerEndpointType Infer(string basePath, string requestPath, Endpoint[] endpoints)
    {
        var path = requestPath.AsSpan();
        // The endpoint URIs resolve to basePath + "/" + uri (CreateAbsoluteUri adds the slash when the base lacks it).
        var prefix = basePath.EndsWith('/') ? basePath.Length : basePath.Length + 1;
        if (path.Length < prefix || !path.StartsWith(basePath, StringComparison.OrdinalIgnoreCase)
            || (prefix > basePath.Length && path[basePath.Length] != '/'))
            return OpenIddictServerEndpointType.Unknown;
        var rest = path[prefix..];
        foreach (var endpoint in endpoints)
            foreach (var uri in endpoint.Paths)
                if (Matches(rest, uri)) return endpoint.Type;
        return OpenIddictServerEndpointType.Unknown;
    }

    /// <summary>OpenIddict's comparison of two paths: equal ignoring case, or one of them the other with a trailing slash.</summary>
    private static bool Matches(ReadOnlySpan<char> rest, string uri)
    {
        if (rest.Equals(uri, StringComparison.OrdinalIgnoreCase)) return true;
        if (rest.Length == uri.Length + 1) return rest[^1] == '/' && rest.StartsWith(uri, StringComparison.OrdinalIgnoreCase);
        if (uri.Length == rest.Length + 1) return uri[^1] == '/' && uri.AsSpan().StartsWith(rest, StringComparison.OrdinalIgnoreCase);
        return false;
    }

    private sealed record Endpoint(OpenIddictServerEndpointType Type, string[] Paths);

    /// <summary>The endpoints in OpenIddict's order, or null when a URI is not a plain relative path.</summary>
    private static Endpoint[]? Build(OpenIddictServerOptions o)
    {
        (OpenIddictServerEndpointType Type, List<Uri> Uris)[] all =
        [
            (OpenIddictServerEndpointType.Authorization, o.AuthorizationEndpointUris),
            (OpenIddictServerEndpointType.Configuration, o.ConfigurationEndpointUris),
            (OpenIddictServerEndpointType.DeviceAuthorization, o.DeviceAuthorizationEndpointUris),
            (OpenIddictServerEndpointType.EndSession, o.EndSessionEndpointUris),
            (OpenIddictServerEndpointType.EndUserVerification, o.EndUserVerificationEndpointUris),
            (OpenIddictServerEndpointType.Introspection, o.IntrospectionEndpointUris),
            (OpenIddictServerEndpointType.JsonWebKeySet, o.JsonWebKeySetEndpointUris),
            (OpenIddictServerEndpointType.PushedAuthorization, o.PushedAuthorizationEndpointUris),
            (OpenIddictServerEndpointType.Revocation, o.RevocationEndpointUris),
            (OpenIddictServerEndpointType.Token, o.TokenEndpointUris),
            (OpenIddictServerEndpointType.UserInfo, o.UserInfoEndpointUris),
        ];
        var endpoints = new List<Endpoint>();
        foreach (var (type, uris) in all)
        {
            if (uris.Count == 0) continue;
            if (!uris.TrueForAll(IsPlainRelativePath)) return null;
            endpoints.Add(new Endpoint(type, [.. uris.Select(u => u.OriginalString)]));
        }
        return [.. endpoints];
    }

    /// <summary>
    /// A relative URI that <see cref="Uri"/> resolves against a base by appending it unchanged: unreserved characters
    /// and slashes, not starting with one, no empty, "." or ".." segment.
    /// </summary>
    internal static bool IsPlainRelativePath(Uri uri)
    {
        if (uri.IsAbsoluteUri) return false;
        var s = uri.OriginalString;
        if (s.Length == 0 || s[0] == '/') return false;
        foreach (var c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '/')) return false;
        var segments = s.Split('/');
        for (var i = 0; i < segments.Length; i++)
            if (segments[i] is "." or ".." || (segments[i].Length == 0 && i < segments.Length - 1)) return false;
        return true;
    }
}
