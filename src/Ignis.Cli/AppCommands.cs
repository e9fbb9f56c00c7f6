using System.Text.Json.Nodes;
using Ignis.Client;
using Ignis.Client.Login;

namespace Ignis.Cli;

/// <summary>The app-side commands: they work against any SMART on FHIR server.</summary>
internal static class AppCommands
{
    public static async Task<int> LoginAsync(CliEnvironment env, string fhirBase, string clientId, string? scope, string? user, string? launch,
        bool noBrowser, TimeSpan timeout, bool json, CancellationToken ct)
    {
        string server;
        try { server = SmartConfiguration.NormalizeBase(fhirBase); }
        catch (ArgumentException e) { throw new CliException(ExitCodes.Usage, e.Message); }
        IBrowserLauncher browser = noBrowser
            ? new CallbackBrowserLauncher((url, _) => { env.Error.WriteLine($"Open this address in a browser on this machine to sign in:\n{url.AbsoluteUri}"); return Task.CompletedTask; })
            : new CallbackBrowserLauncher(async (url, ct) =>
            {
                env.Error.WriteLine($"Opening the browser to sign in to {server} ...");
                try
                {
                    await (env.Browser ?? new SystemBrowserLauncher()).LaunchAsync(url, ct);
                    env.Error.WriteLine($"If no browser opened, open this address on this machine:\n{url.AbsoluteUri}");
                }
                catch (SmartClientException)
                {
                    // No browser here (a server, an SSH session): the listener keeps waiting for whoever opens the address.
                    env.Error.WriteLine($"No browser could be started. Open this address in a browser on this machine to sign in:\n{url.AbsoluteUri}");
                }
            });
        // An EHR launch needs the launch scope to receive the EHR's context.
        if (launch is not null && scope is null) scope = CliDefaults.Scope + " launch";
        var profile = new CliProfile(server, user ?? "", clientId);
        using var client = profile.Client(env, browser, scope);
        client.Options.LoginTimeout = timeout;
        SmartSession session;
        try
        {
            session = await client.LoginAsync(new LoginOptions { User = user, Launch = launch }, ct);
        }
        catch (SmartDiscoveryException e) { throw new CliException(ExitCodes.Failed, e.Message); }
        catch (SmartAuthorizationException e) { throw new CliException(ExitCodes.Refused, "sign-in refused: " + e.Message); }
        catch (TimeoutException e) { throw new CliException(ExitCodes.Failed, e.Message); }
        (profile with { User = session.Key.User }).Save(env);
        Describe(env, session, json);
        return ExitCodes.Ok;
    }

    public static async Task<int> WhoAmIAsync(CliEnvironment env, bool json, CancellationToken ct)
    {
        var (_, client, session) = await CliProfile.SessionAsync(env, ct);
        using (client) Describe(env, session, json);
        return ExitCodes.Ok;
    }

    private static void Describe(CliEnvironment env, SmartSession session, bool json)
    {
        var t = session.Tokens;
        var keyLocation = (CliProfile.Store(env) as Ignis.Client.Storage.EncryptedFileTokenStore)?.KeyDescription;
        if (json)
        {
            Output.Json(env.Out, new JsonObject
            {
                ["server"] = t.FhirBaseUrl,
                ["user"] = session.Key.User,
                ["clientId"] = t.ClientId,
                ["fhirUser"] = t.FhirUser,
                ["name"] = t.Claim("name") ?? t.Claim("preferred_username"),
                ["patient"] = t.Patient,
                ["encounter"] = t.Encounter,
                ["fhirContext"] = t.FhirContext is { } fc ? JsonNode.Parse(fc) : null,
                ["scopes"] = new JsonArray([.. t.Scopes.Select(s => (JsonNode?)s)]),
                ["accessTokenExpiresAt"] = t.ExpiresAt?.ToString("O"),
                ["refreshToken"] = t.RefreshToken is not null,
                ["tokenStoreKey"] = keyLocation,
            });
            return;
        }
        Output.Fields(env.Out,
        [
            ("server", t.FhirBaseUrl),
            ("user", session.Key.User),
            ("name", t.Claim("name") ?? t.Claim("preferred_username")),
            ("fhirUser", t.FhirUser),
            ("patient", t.Patient),
            ("encounter", t.Encounter),
            ("client", t.ClientId),
            ("scopes", t.Scope),
            ("access token expires", t.ExpiresAt?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz")),
            ("refresh token", t.RefreshToken is null ? "no (sign in again when the access token expires)" : "yes (kept encrypted)"),
            ("token store key", keyLocation),
        ]);
    }

    public static async Task<int> LogoutAsync(CliEnvironment env, CancellationToken ct)
    {
        var (_, client, session) = await CliProfile.SessionAsync(env, ct);
        using (client)
        {
            var revoked = await session.SignOutAsync(ct);
            CliProfile.Clear(env);
            env.Out.WriteLine(revoked
                ? $"Signed out of {session.Key.FhirBaseUrl}; the server revoked the tokens and they are deleted here."
                : $"Signed out of {session.Key.FhirBaseUrl}; the tokens are deleted here, but the server did not confirm revoking them.");
        }
        return ExitCodes.Ok;
    }

    /// <summary>Runs <paramref name="action"/> with an HttpClient on the current session's FHIR base.</summary>
    public static async Task<int> WithFhirAsync(CliEnvironment env, Func<HttpClient, Task<int>> action, CancellationToken ct)
    {
        var (_, client, session) = await CliProfile.SessionAsync(env, ct);
        using (client)
        using (var http = session.CreateHttpClient(env.NewHandler()))
        {
            http.Timeout = TimeSpan.FromMinutes(5);
            try
            {
                return await action(http);
            }
            catch (SignInRequiredException e)
            {
                throw new CliException(ExitCodes.SignInRequired, e.Message);
            }
        }
    }

    public static Task<int> GetAsync(CliEnvironment env, string reference, bool json, CancellationToken ct) => WithFhirAsync(env, async http =>
    {
        var body = await Fhir.SendAsync(http, HttpMethod.Get, reference.TrimStart('/'), null, ct);
        if (json) Output.Json(env.Out, body);
        else if (body is JsonObject { } o && Output.Str(o["resourceType"]) == "Bundle") BundleTable(env, o);
        else if (body is JsonObject resource) Output.Fields(env.Out, Output.ResourceFields(resource));
        return ExitCodes.Ok;
    }, ct);

    public static Task<int> SearchAsync(CliEnvironment env, string type, string[] criteria, bool all, int? count, bool json, CancellationToken ct) => WithFhirAsync(env, async http =>
    {
        foreach (var c in criteria)
            if (!c.Contains('=')) throw new CliException(ExitCodes.Usage, $"'{c}' is not a search parameter; write name=value, e.g. patient=alice");
        var query = string.Join('&', criteria.Select(c => Uri.EscapeDataString(c[..c.IndexOf('=')]) + "=" + Uri.EscapeDataString(c[(c.IndexOf('=') + 1)..])));
        if (count is { } n) query += (query.Length > 0 ? "&" : "") + "_count=" + n;
        var url = type + (query.Length > 0 ? "?" + query : "");
        var bundle = (JsonObject)(await Fhir.SendAsync(http, HttpMethod.Get, url, null, ct))!;
        if (all)
        {
            var entries = bundle["entry"] as JsonArray ?? [];
            var page = bundle;
            while (NextLink(page) is { } next)
            {
                page = (JsonObject)(await Fhir.SendAsync(http, HttpMethod.Get, next, null, ct))!;
                foreach (var e in page["entry"] as JsonArray ?? []) entries.Add(e?.DeepClone());
            }
            bundle["entry"] = entries;
            bundle.Remove("link");
        }
        if (json) Output.Json(env.Out, bundle);
        else BundleTable(env, bundle);
        return ExitCodes.Ok;
    }, ct);

    internal static string? NextLink(JsonObject bundle) =>
        (bundle["link"] as JsonArray ?? []).OfType<JsonObject>().Where(l => Output.Str(l["relation"]) == "next").Select(l => Output.Str(l["url"])).FirstOrDefault();

    private static void BundleTable(CliEnvironment env, JsonObject bundle)
    {
        var resources = (bundle["entry"] as JsonArray ?? []).OfType<JsonObject>().Select(e => e["resource"]).OfType<JsonObject>().ToList();
        Output.Table(env.Out, ["resource", "summary", "last updated"], resources.Select(r => (IReadOnlyList<string?>)
            [$"{Output.Str(r["resourceType"])}/{Output.Str(r["id"])}", Output.Summary(r), Output.Str(r["meta"]?["lastUpdated"])]));
        var total = bundle["total"] is JsonValue t ? t.ToString() : null;
        var more = NextLink(bundle) is not null ? " (more pages: add --all)" : "";
        env.Error.WriteLine($"{resources.Count} shown{(total is null ? "" : $" of {total}")}{more}");
    }

    public static Task<int> PutAsync(CliEnvironment env, string file, bool json, CancellationToken ct) => WithFhirAsync(env, async http =>
    {
        var resource = ReadResource(file);
        var type = Output.Str(resource["resourceType"])!;
        var id = Output.Str(resource["id"]);
        JsonNode? result;
        string what;
        if (type == "Bundle" && Output.Str(resource["type"]) is "transaction" or "batch")
        {
            result = await Fhir.SendAsync(http, HttpMethod.Post, "", resource, ct);
            what = $"{Output.Str(resource["type"])} of {(resource["entry"] as JsonArray)?.Count ?? 0} entries";
        }
        else if (id is not null)
        {
            result = await Fhir.SendAsync(http, HttpMethod.Put, $"{type}/{id}", resource, ct, "return=representation");
            what = $"{type}/{id}";
        }
        else
        {
            result = await Fhir.SendAsync(http, HttpMethod.Post, type, resource, ct, "return=representation");
            what = $"{type}/{Output.Str(result?["id"])}";
        }
        if (json) Output.Json(env.Out, result);
        else env.Out.WriteLine($"Saved {what}{(Output.Str(result?["meta"]?["versionId"]) is { } v ? $" (version {v})" : "")}");
        return ExitCodes.Ok;
    }, ct);

    public static Task<int> DeleteAsync(CliEnvironment env, string reference, bool json, CancellationToken ct) => WithFhirAsync(env, async http =>
    {
        if (reference.Split('/', StringSplitOptions.RemoveEmptyEntries).Length != 2)
            throw new CliException(ExitCodes.Usage, $"'{reference}' is not Type/id");
        await Fhir.SendAsync(http, HttpMethod.Delete, reference.TrimStart('/'), null, ct);
        if (json) Output.Json(env.Out, new JsonObject { ["deleted"] = reference });
        else env.Out.WriteLine($"Deleted {reference}");
        return ExitCodes.Ok;
    }, ct);

    internal static JsonObject ReadResource(string file)
    {
        if (!File.Exists(file)) throw new CliException(ExitCodes.Usage, $"{file}: no such file");
        try
        {
            if (JsonNode.Parse(File.ReadAllText(file)) is JsonObject o && Output.Str(o["resourceType"]) is { Length: > 0 }) return o;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CliException(ExitCodes.Usage, $"{file}: not JSON ({e.Message})");
        }
        throw new CliException(ExitCodes.Usage, $"{file}: not a FHIR resource (no resourceType)");
    }

    public static async Task<int> TokenAsync(CliEnvironment env, string? server, Uri? tokenUrl, string clientId, string keyFile, string? keyId,
        string scope, string? assertionType, string? assertionAudience, bool json, CancellationToken ct)
    {
        server ??= CliProfile.Load(env)?.Server;
        if (server is null && tokenUrl is null) throw new CliException(ExitCodes.Usage, "say which server: --server <fhir-base> or --token-url <url>");
        if (!File.Exists(keyFile)) throw new CliException(ExitCodes.Usage, $"{keyFile}: no such file");
        ClientAssertionKey key;
        try { key = ClientAssertionKey.FromFile(keyFile, keyId); }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException or System.Text.Json.JsonException)
        {
            throw new CliException(ExitCodes.Usage, $"{keyFile}: {e.Message}");
        }
        using var backend = new BackendServicesClient(new BackendServicesOptions
        {
            FhirBaseUrl = server,
            TokenEndpoint = tokenUrl,
            ClientId = clientId,
            Key = key,
            Scope = scope,
            BackchannelHandler = env.NewHandler(),
            AssertionType = assertionType ?? "JWT",
            AssertionAudience = assertionAudience,
        });
        BackendToken token;
        try { token = await backend.GetTokenAsync(ct); }
        catch (SmartAuthorizationException e) { throw new CliException(ExitCodes.Refused, "token refused: " + e.Message); }
        catch (SmartDiscoveryException e) { throw new CliException(ExitCodes.Failed, e.Message); }
        catch (HttpRequestException e) { throw new CliException(ExitCodes.Failed, e.Message); }
        if (json)
            Output.Json(env.Out, new JsonObject { ["access_token"] = token.AccessToken, ["scope"] = token.Scope, ["expires_at"] = token.ExpiresAt?.ToString("O"), ["kid"] = key.KeyId, ["alg"] = key.Algorithm });
        else env.Out.WriteLine(token.AccessToken);
        return ExitCodes.Ok;
    }
}
