// Registers the private_key_jwt client of the Backend Services benchmark in an Ignis data folder, through
// OpenIddict's application manager, before the server starts (what the registration endpoint or an admin
// would do; the benchmark measures the token endpoint, not registration).
//
//   Ignis.Bench.Backend register --data DIR --client-id ID --jwks PUBLIC_JWKS_FILE --scopes "a b"
using System.Text.Json;
using Ignis.Server.Auth;
using Ignis.Server.Hosting;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

if (args.Length < 1 || args[0] != "register") return Usage();
string? Arg(string name) { var i = Array.IndexOf(args, name); return i > 0 && i + 1 < args.Length ? args[i + 1] : null; }
var data = Arg("--data");
var clientId = Arg("--client-id");
var jwksFile = Arg("--jwks");
var scopes = Arg("--scopes");
if (data is null || clientId is null || jwksFile is null || scopes is null) return Usage();

var app = IgnisApp.Build(["--urls", "http://127.0.0.1:0", "--data", data, "--Logging:LogLevel:Default=Warning"]);
await using (var scope = app.Services.CreateAsyncScope())
{
    var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
    if (await applications.FindByClientIdAsync(clientId) is { } existing) await applications.DeleteAsync(existing);
    var descriptor = new OpenIddictApplicationDescriptor
    {
        ClientId = clientId,
        DisplayName = "Backend Services benchmark client",
        ClientType = ClientTypes.Confidential,
        JsonWebKeySet = new JsonWebKeySet(await File.ReadAllTextAsync(jwksFile)),
        Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
    };
    descriptor.Properties[ClientProperties.TokenEndpointAuthMethod] = JsonSerializer.SerializeToElement(ClientAuthenticationMethods.PrivateKeyJwt);
    foreach (var s in scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries)) descriptor.Permissions.Add(Permissions.Prefixes.Scope + s);
    await applications.CreateAsync(descriptor);
}
await app.DisposeAsync();
Console.WriteLine($"registered {clientId} in {data}");
return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: Ignis.Bench.Backend register --data DIR --client-id ID --jwks PUBLIC_JWKS_FILE --scopes \"a b\"");
    return 2;
}
