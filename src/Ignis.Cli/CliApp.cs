using System.CommandLine;
using Ignis.Client;

namespace Ignis.Cli;

/// <summary>The <c>ignis</c> command line: parsing, dispatch, one-line errors and exit codes.</summary>
public static class CliApp
{
    /// <summary>Runs one command line; returns its exit code (<see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken = default)
    {
        var root = Build(env);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) env.Error.WriteLine("ignis: " + error.Message);
            env.Error.WriteLine("Run 'ignis --help' (or 'ignis <command> --help') for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = env.Out, Error = env.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (CliException e)
        {
            env.Error.WriteLine("ignis: " + e.Message);
            return e.ExitCode;
        }
        catch (SignInRequiredException e)
        {
            env.Error.WriteLine("ignis: " + e.Message);
            return ExitCodes.SignInRequired;
        }
        catch (OperationCanceledException)
        {
            env.Error.WriteLine("ignis: cancelled");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is SmartClientException or HttpRequestException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            env.Error.WriteLine("ignis: " + e.Message.ReplaceLineEndings(" "));
            return ExitCodes.Failed;
        }
    }

    private static RootCommand Build(CliEnvironment env)
    {
        var json = new Option<bool>("--json") { Description = "Write JSON for scripts instead of tables", Recursive = true };
        var root = new RootCommand("ignis: administer an Ignis server's database, and work with any SMART on FHIR server.") { json };

        // ---- app side
        var fhirBase = new Argument<string>("fhir-base") { Description = "The FHIR base URL, e.g. http://localhost:8080/fhir" };
        var clientId = new Option<string>("--client-id") { Description = "The client id registered at the server", DefaultValueFactory = _ => CliDefaults.ClientId };
        var scope = new Option<string?>("--scope") { Description = $"Scopes to ask for (default: \"{CliDefaults.Scope}\")" };
        var user = new Option<string?>("--user") { Description = "Save the session under this name (default: the id token's subject)" };
        var launch = new Option<string?>("--launch") { Description = "The launch id of an EHR launch" };
        var noBrowser = new Option<bool>("--no-browser") { Description = "Print the sign-in address instead of opening a browser" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the sign-in to finish", DefaultValueFactory = _ => 300 };
        var login = new Command("login", "Sign in to a SMART server in the browser and keep the session (encrypted) for the other commands")
        {
            fhirBase, clientId, scope, user, launch, noBrowser, timeout,
        };
        login.SetAction((r, ct) => AppCommands.LoginAsync(env, r.GetValue(fhirBase)!, r.GetValue(clientId)!, r.GetValue(scope), r.GetValue(user),
            r.GetValue(launch), r.GetValue(noBrowser), TimeSpan.FromSeconds(Math.Max(1, r.GetValue(timeout))), r.GetValue(json), ct));
        root.Subcommands.Add(login);

        var whoami = new Command("whoami", "Show the signed-in user, the launch context and the scopes");
        whoami.SetAction((r, ct) => AppCommands.WhoAmIAsync(env, r.GetValue(json), ct));
        root.Subcommands.Add(whoami);

        var logout = new Command("logout", "Revoke the session's tokens at the server and delete them here");
        logout.SetAction((_, ct) => AppCommands.LogoutAsync(env, ct));
        root.Subcommands.Add(logout);

        var reference = new Argument<string>("reference") { Description = "Type/id, Type/id/_history/version, or a relative URL" };
        var get = new Command("get", "Read a resource") { reference };
        get.SetAction((r, ct) => AppCommands.GetAsync(env, r.GetValue(reference)!, r.GetValue(json), ct));
        root.Subcommands.Add(get);

        var type = new Argument<string>("type") { Description = "The resource type, e.g. Observation" };
        var criteria = new Argument<string[]>("criteria") { Description = "Search parameters as name=value, e.g. patient=alice category=laboratory", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Follow the next links and show every page" };
        var count = new Option<int?>("--count") { Description = "Page size (_count)" };
        var search = new Command("search", "Search a resource type") { type, criteria, all, count };
        search.SetAction((r, ct) => AppCommands.SearchAsync(env, r.GetValue(type)!, r.GetValue(criteria) ?? [], r.GetValue(all), r.GetValue(count), r.GetValue(json), ct));
        root.Subcommands.Add(search);

        var file = new Argument<string>("file") { Description = "A JSON resource (with an id: update; without: create), or a transaction/batch Bundle" };
        var put = new Command("put", "Create or update a resource from a file") { file };
        put.SetAction((r, ct) => AppCommands.PutAsync(env, r.GetValue(file)!, r.GetValue(json), ct));
        root.Subcommands.Add(put);

        var deleteRef = new Argument<string>("reference") { Description = "Type/id" };
        var delete = new Command("delete", "Delete a resource") { deleteRef };
        delete.SetAction((r, ct) => AppCommands.DeleteAsync(env, r.GetValue(deleteRef)!, r.GetValue(json), ct));
        root.Subcommands.Add(delete);

        var importFile = new Argument<string>("file") { Description = "An NDJSON file (one resource a line) or a Bundle" };
        var batchSize = new Option<int>("--batch-size") { Description = "Resources per batch request", DefaultValueFactory = _ => 100 };
        var restart = new Option<bool>("--restart") { Description = "Start from the beginning even if an earlier import of this file stopped half-way" };
        var progress = new Option<bool>("--progress") { Description = "Draw the progress bar even when standard error is not a terminal" };
        var import = new Command("import", "Load resources, with a progress bar; an interrupted import resumes where it stopped") { importFile, batchSize, restart, progress };
        import.SetAction((r, ct) => ImportCommand.RunAsync(env, r.GetValue(importFile)!, r.GetValue(batchSize), r.GetValue(restart), r.GetValue(progress), r.GetValue(json), ct));
        root.Subcommands.Add(import);

        var patient = new Option<string?>("--patient") { Description = "The Patient id (default: the session's patient)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write NDJSON to this file (default: standard output)" };
        var types = new Option<string[]>("--type") { Description = "Only these resource types (repeatable)", AllowMultipleArgumentsPerToken = true };
        var export = new Command("export", "Export a patient's record as NDJSON (compartment searches)") { patient, output, types };
        export.SetAction((r, ct) => ExportCommand.RunAsync(env, r.GetValue(patient), r.GetValue(output), r.GetValue(types) ?? [], r.GetValue(json), ct));
        root.Subcommands.Add(export);

        var server = new Option<string?>("--server") { Description = "The FHIR base URL (default: the signed-in server)" };
        var tokenUrl = new Option<Uri?>("--token-url") { Description = "The token endpoint, to skip discovery" };
        var backendClient = new Option<string>("--client-id") { Description = "The backend client's id", Required = true };
        var key = new Option<string>("--key") { Description = "The private key: PEM (RSA or EC P-384) or a JWK/JWKS JSON file", Required = true };
        var kid = new Option<string?>("--kid") { Description = "The key id the server knows the key by (default: the JWK's kid or the RFC 7638 thumbprint)" };
        var backendScope = new Option<string>("--scope") { Description = "Scopes to ask for", DefaultValueFactory = _ => "system/*.rs" };
        var assertionType = new Option<string?>("--assertion-typ") { Description = "The client assertion's typ header (default JWT, as SMART requires)" };
        var assertionAud = new Option<string?>("--assertion-aud") { Description = "The client assertion's aud (default: the token endpoint, as SMART requires)" };
        var token = new Command("token", "Get a backend-services access token (client_credentials with a private_key_jwt assertion) and print it")
        {
            server, tokenUrl, backendClient, key, kid, backendScope, assertionType, assertionAud,
        };
        token.SetAction((r, ct) => AppCommands.TokenAsync(env, r.GetValue(server), r.GetValue(tokenUrl), r.GetValue(backendClient)!, r.GetValue(key)!,
            r.GetValue(kid), r.GetValue(backendScope)!, r.GetValue(assertionType), r.GetValue(assertionAud), r.GetValue(json), ct));
        root.Subcommands.Add(token);

        // ---- admin
        var data = new Option<string>("--data") { Description = "The server's data folder (as the server's --data)", DefaultValueFactory = _ => "data", Recursive = true };
        var setting = new Option<string[]>("--setting") { Description = "A server setting as Key=Value (repeatable), e.g. Ignis:Storage:ConnectionString=/srv/ignis.db", Recursive = true };

        var users = new Command("users", "Manage the server's users (on its database)") { data, setting };
        var userName = new Argument<string>("name") { Description = "The user name" };
        var password = new Option<string?>("--password") { Description = "The password" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var role = new Option<string>("--role") { Description = "patient, clinician, developer or admin", DefaultValueFactory = _ => "patient" };
        var fhirUser = new Option<string?>("--fhir-user") { Description = "The user's FHIR resource, e.g. Patient/alice" };
        var usersAdd = new Command("add", "Add a user") { userName, password, passwordStdin, role, fhirUser };
        usersAdd.SetAction((r, ct) => AdminCommands.UsersAddAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(userName)!, r.GetValue(password),
            r.GetValue(passwordStdin), r.GetValue(role)!, r.GetValue(fhirUser), r.GetValue(json), ct));
        var usersList = new Command("list", "List users");
        usersList.SetAction((r, ct) => AdminCommands.UsersListAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(json), ct));
        var usersLock = new Command("lock", "Lock a user out and end their tokens and sessions") { userName };
        usersLock.SetAction((r, ct) => AdminCommands.UsersLockAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(userName)!, unlock: false, r.GetValue(json), ct));
        var usersUnlock = new Command("unlock", "Let a locked user sign in again") { userName };
        usersUnlock.SetAction((r, ct) => AdminCommands.UsersLockAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(userName)!, unlock: true, r.GetValue(json), ct));
        var usersDelete = new Command("delete", "Delete a user, revoking their tokens") { userName };
        usersDelete.SetAction((r, ct) => AdminCommands.UsersDeleteAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(userName)!, r.GetValue(json), ct));
        users.Subcommands.Add(usersAdd);
        users.Subcommands.Add(usersList);
        users.Subcommands.Add(usersLock);
        users.Subcommands.Add(usersUnlock);
        users.Subcommands.Add(usersDelete);
        root.Subcommands.Add(users);

        var clients = new Command("clients", "Manage the server's OAuth clients (on its database)") { data, setting };
        var clientIdArg = new Argument<string>("client-id") { Description = "The client id" };
        var clientName = new Option<string>("--name") { Description = "The name users see on the consent page", Required = true };
        var isPublic = new Option<bool>("--public") { Description = "A public client (native or browser app: PKCE, no secret)" };
        var redirect = new Option<string[]>("--redirect-uri") { Description = "A redirect URI (repeatable); http://127.0.0.1/callback accepts any loopback port", AllowMultipleArgumentsPerToken = true };
        var secret = new Option<bool>("--secret") { Description = "A confidential client with a generated secret (client_secret_basic), shown once" };
        var jwks = new Option<string?>("--jwks") { Description = "A JWK Set file with the client's public keys (private_key_jwt)" };
        var jwksUri = new Option<string?>("--jwks-uri") { Description = "Where the client publishes its public keys (private_key_jwt)" };
        var clientScopes = new Option<string[]>("--scope") { Description = "Scopes the client may get (repeatable), e.g. system/*.rs", AllowMultipleArgumentsPerToken = true };
        var grant = new Option<string[]>("--grant") { Description = "authorization_code, refresh_token, client_credentials (repeatable)", AllowMultipleArgumentsPerToken = true };
        var launchUri = new Option<string?>("--launch-uri") { Description = "The app's SMART launch URL (for EHR launch)" };
        var clientsAdd = new Command("add", "Register a client (the server makes its id, and its secret with --secret)") { clientName, isPublic, redirect, secret, jwks, jwksUri, clientScopes, grant, launchUri };
        clientsAdd.SetAction((r, ct) => AdminCommands.ClientsAddAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(clientName)!,
            r.GetValue(isPublic), r.GetValue(redirect) ?? [], r.GetValue(secret), r.GetValue(jwks), r.GetValue(jwksUri), r.GetValue(clientScopes) ?? [],
            r.GetValue(grant) ?? [], r.GetValue(launchUri), r.GetValue(json), ct));
        var clientsList = new Command("list", "List clients");
        clientsList.SetAction((r, ct) => AdminCommands.ClientsListAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(json), ct));
        var clientsDelete = new Command("delete", "Delete a client, revoking every token issued to it") { clientIdArg };
        clientsDelete.SetAction((r, ct) => AdminCommands.ClientsDeleteAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(clientIdArg)!, r.GetValue(json), ct));
        clients.Subcommands.Add(clientsAdd);
        clients.Subcommands.Add(clientsList);
        clients.Subcommands.Add(clientsDelete);
        root.Subcommands.Add(clients);

        var keys = new Command("keys", "The server's token signing keys") { data, setting };
        var keep = new Option<int>("--keep") { Description = "How many retired keys to keep published", DefaultValueFactory = _ => 1 };
        var activateAfter = new Option<TimeSpan?>("--activate-after") { Description = "PostgreSQL: when the new key starts signing (default twice Ignis:Auth:KeyRefreshInterval)" };
        var rotate = new Command("rotate", "Make a new signing key; the old one stays published and accepted") { keep, activateAfter };
        rotate.SetAction((r, ct) => AdminCommands.KeysRotateAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(keep), r.GetValue(activateAfter), r.GetValue(json), ct));
        keys.Subcommands.Add(rotate);
        root.Subcommands.Add(keys);

        var db = new Command("db", "The server's database") { data, setting };
        var migrate = new Command("migrate", "Create the database or upgrade its schema");
        migrate.SetAction((r, ct) => AdminCommands.DbMigrateAsync(env, r.GetValue(data)!, r.GetValue(setting) ?? [], r.GetValue(json), ct));
        db.Subcommands.Add(migrate);
        root.Subcommands.Add(db);
        return root;
    }
}
