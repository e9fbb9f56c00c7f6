using Ignis.Server.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Tests.Auth;

/// <summary>The path comparison that replaces OpenIddict's InferEndpointType decides as OpenIddict's handler does.</summary>
public sealed class InferEndpointTypeByPathTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private static readonly string[] PathBases = ["", "/ignis", "/Ignis"];

    private static readonly string[] Paths =
    [
        "/oauth/token", "/OAuth/TOKEN", "/oauth/token/", "/oauth/token//", "/oauth/tokens", "/oauth/toke", "/oauth//token",
        "/oauth/authorize", "/oauth/introspect", "/oauth/revoke", "/oauth/userinfo", "/oauth/logout", "/oauth/jwks",
        "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/oauth/%74oken", "/oauth/token%2F",
        "/", "/fhir/Patient", "/ignis/oauth/token", "/ignisoauth/token", "/oauth/token/extra", "/oauth",
    ];

    public static TheoryData<string, string> Requests()
    {
        var data = new TheoryData<string, string>();
        foreach (var pathBase in PathBases)
            foreach (var path in Paths)
                data.Add(pathBase, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_server_endpoints_are_recognized_as_OpenIddict_recognizes_them(string pathBase, string path)
    {
        var options = fixture.Server.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        // The deployment's base may carry a path (PathBase), written in another case than the request.
        foreach (var requestBase in new[] { pathBase, pathBase.ToUpperInvariant() })
            (await InferAsync(new InferEndpointTypeByPath(), options, pathBase, requestBase + path))
                .ShouldBe(await InferAsync(new InferEndpointType(), options, pathBase, requestBase + path), $"{pathBase} {requestBase + path}");
    }

    [Fact]
    public async Task The_token_endpoint_is_recognized_under_a_path_base_and_other_paths_are_no_endpoint_even_on_a_second_pass()
    {
        var options = fixture.Server.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        (await InferAsync(new InferEndpointTypeByPath(), options, "/ignis", "/ignis/oauth/token")).ShouldBe("Token/Token");
        (await InferAsync(new InferEndpointTypeByPath(), options, "/ignis", "/ignis/oauth/token/")).ShouldBe("Token/Token");
        (await InferAsync(new InferEndpointTypeByPath(), options, "", "/oauth/token")).ShouldBe("Token/Token");
        // The error page a rejected authorization request is executed again on is no endpoint.
        (await InferAsync(new InferEndpointTypeByPath(), options, "", "/oauth/tokens")).ShouldBe("Unknown/Unknown");
        (await InferAsync(new InferEndpointTypeByPath(), options, "", "/authorize/error")).ShouldBe("Unknown/Unknown");
    }

    [Theory]
    [InlineData("connect/token/")]
    [InlineData("https://login.example.org/connect/token")]
    [InlineData("/connect/token")]
    [InlineData("../connect/token")]
    [InlineData("connect/./token")]
    [InlineData("connect/t%6Fken")]
    public async Task Other_kinds_of_endpoint_uris_are_recognized_as_OpenIddict_recognizes_them(string tokenUri)
    {
        var options = new OpenIddictServerOptions();
        options.TokenEndpointUris.Add(new Uri(tokenUri, UriKind.RelativeOrAbsolute));
        options.AuthorizationEndpointUris.Add(new Uri("connect/authorize", UriKind.Relative));
        foreach (var pathBase in PathBases)
            foreach (var path in new[] { "/connect/token", "/connect/token/", "/connect/authorize", "/connect/tokens", "/token" })
                (await InferAsync(new InferEndpointTypeByPath(), options, pathBase, pathBase + path))
                    .ShouldBe(await InferAsync(new InferEndpointType(), options, pathBase, pathBase + path), $"{tokenUri}: {pathBase + path}");
    }

    [Theory]
    [InlineData("oauth/token", true)]
    [InlineData(".well-known/openid-configuration", true)]
    [InlineData("oauth/token/", true)]
    [InlineData("/oauth/token", false)]
    [InlineData("oauth//token", false)]
    [InlineData("oauth/../token", false)]
    [InlineData("./token", false)]
    [InlineData("oauth/t%6Fken", false)]
    [InlineData("oauth/token?x=1", false)]
    [InlineData("", false)]
    public void Only_plain_relative_paths_are_compared_as_strings(string uri, bool plain) =>
        InferEndpointTypeByPath.IsPlainRelativePath(new Uri(uri, UriKind.Relative)).ShouldBe(plain);

    /// <summary>
    /// The endpoint a handler infers for a request, with BaseUri and RequestUri made as OpenIddict's ASP.NET Core host makes
    /// them; once for a new transaction and once for one whose first pass found the authorization endpoint (a request the
    /// status code pages execute again on their error page), each answer as "first/second".
    /// </summary>
    private static async Task<string> InferAsync(
        IOpenIddictServerHandler<ProcessRequestContext> handler, OpenIddictServerOptions options, string pathBase, string pathAndQuery)
    {
        var origin = "https://fhir.example.org:8443";
        var answers = new List<OpenIddictServerEndpointType>();
        foreach (var before in new[] { OpenIddictServerEndpointType.Unknown, OpenIddictServerEndpointType.Authorization })
        {
            var transaction = new OpenIddictServerTransaction { Options = options, Logger = NullLogger.Instance, EndpointType = before };
            var context = new ProcessRequestContext(transaction)
            {
                BaseUri = new Uri(origin + (pathBase.Length == 0 ? "/" : pathBase)),
                RequestUri = new Uri(origin + pathAndQuery),
            };
            await handler.HandleAsync(context);
            answers.Add(context.EndpointType);
        }
        return string.Join('/', answers);
    }
}
