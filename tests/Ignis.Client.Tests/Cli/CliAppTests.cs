using System.Net;
using System.Text.Json.Nodes;
using Ignis.Cli;
using Ignis.Client.Storage;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests.Cli;

/// <summary>The app-side commands end to end against the real server.</summary>
public sealed class CliAppTests(DemoServerFixture fixture, ChromiumFixture chromium) : IClassFixture<DemoServerFixture>, IClassFixture<ChromiumFixture>
{
    private IgnisServer Server => fixture.Server;

    private async Task<CliRunner> SignedInAsync(string user)
    {
        var cli = new CliRunner(new FormBrowserLauncher(Server, user, $"{user}-demo-pass"));
        (await cli.RunAsync("login", Server.FhirBase)).ShouldSucceed();
        return cli;
    }

    [Fact]
    public async Task Login_in_headless_Chromium_then_whoami_shows_the_user_patient_and_scopes()
    {
        using var cli = new CliRunner(new ChromiumLauncher(chromium, "alice", "alice-demo-pass"));

        var login = (await cli.RunAsync("login", Server.FhirBase + "/", "--scope", "openid fhirUser offline_access launch/patient patient/*.rs")).ShouldSucceed();

        login.Error.ShouldContain("Opening the browser");
        login.Out.ShouldContain("Patient/alice");
        var me = (await cli.RunAsync("whoami", "--json")).ShouldSucceed().Json;
        me["server"]!.GetValue<string>().ShouldBe(Server.FhirBase);
        me["patient"]!.GetValue<string>().ShouldBe("alice");
        me["fhirUser"]!.GetValue<string>().ShouldBe(Server.FhirBase + "/Patient/alice");
        me["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldContain("patient/*.rs");
        me["refreshToken"]!.GetValue<bool>().ShouldBeTrue();
        var table = (await cli.RunAsync("whoami")).ShouldSucceed().Out;
        table.ShouldStartWith("FIELD");
        table.ShouldContain("patient");
    }

    [Fact]
    public async Task Login_with_no_browser_prints_the_address_and_completes_when_a_person_opens_it()
    {
        var person = new FormBrowserLauncher(Server, "dave", "dave-demo-pass");
        var watcher = new AddressWatcher(person);
        using var cli = new CliRunner { ErrorWriter = () => watcher };

        var result = await cli.RunAsync("login", Server.FhirBase, "--no-browser", "--timeout", "30", "--scope", "openid fhirUser launch/patient patient/*.rs");

        (watcher.Opened is not null).ShouldBeTrue(result.Error);
        await watcher.Opened!;
        var login = result.ShouldSucceed();
        login.Error.ShouldContain("Open this address in a browser on this machine to sign in:");
        person.AuthorizeUrl.ShouldNotBeNull();
        person.CallbackText.ShouldContain("You can close this tab and return to the ignis command line");
        (await cli.RunAsync("whoami", "--json")).ShouldSucceed().Json["patient"]!.GetValue<string>().ShouldBe("dave");
    }

    /// <summary>Standard error as a person reads it: when the sign-in address appears, they open it.</summary>
    private sealed class AddressWatcher(FormBrowserLauncher person) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            var match = System.Text.RegularExpressions.Regex.Match(value ?? "", @"http://\S+/oauth/authorize\S*");
            if (match.Success) Opened = Task.Run(() => person.LaunchAsync(new Uri(match.Value), CancellationToken.None));
        }

        public Task? Opened { get; private set; }
    }

    [Fact]
    public async Task A_clinician_gets_searches_puts_deletes_and_logs_out_and_the_server_revokes_the_session()
    {
        using var cli = await SignedInAsync("carol");

        var patient = (await cli.RunAsync("get", "Patient/alice")).ShouldSucceed().Out;
        patient.ShouldContain("resourceType");
        patient.ShouldContain("alice");
        (await cli.RunAsync("get", "Patient/alice", "--json")).ShouldSucceed().Json["id"]!.GetValue<string>().ShouldBe("alice");

        var labs = (await cli.RunAsync("search", "Observation", "patient=alice", "category=laboratory")).ShouldSucceed();
        labs.Out.ShouldStartWith("RESOURCE");
        labs.Out.ShouldContain("Observation/");
        var bundle = (await cli.RunAsync("search", "Observation", "patient=alice", "category=laboratory", "--all", "--json")).ShouldSucceed().Json;
        var entries = bundle["entry"]!.AsArray();
        entries.Count.ShouldBeGreaterThan(0);
        foreach (var entry in entries)
            entry!["resource"]!["category"]!.ToJsonString().ShouldContain("laboratory");

        var file = cli.PathIn("patient.json");
        await File.WriteAllTextAsync(file, """{"resourceType":"Patient","id":"cli-put","name":[{"family":"Puttington","given":["Cli"]}]}""");
        (await cli.RunAsync("put", file)).ShouldSucceed().Out.ShouldContain("Saved Patient/cli-put (version 1)");
        (await cli.RunAsync("get", "Patient/cli-put")).ShouldSucceed().Out.ShouldContain("Puttington");
        await File.WriteAllTextAsync(file, """{"resourceType":"Patient","name":[{"family":"Newcomer"}]}""");
        var created = (await cli.RunAsync("put", file, "--json")).ShouldSucceed().Json;
        created["id"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        (await cli.RunAsync("get", "Patient/" + created["id"]!.GetValue<string>())).ShouldSucceed().Out.ShouldContain("Newcomer");
        (await cli.RunAsync("delete", "Patient/cli-put")).ShouldSucceed().Out.ShouldContain("Deleted Patient/cli-put");
        (await cli.RunAsync("get", "Patient/cli-put")).ShouldFailWith(ExitCodes.Refused, "410");

        var store = new EncryptedFileTokenStore(Path.Combine(cli.Home, "tokens"), new KeyFileKeyProvider(Path.Combine(cli.Home, "tokens", StoreKeys.KeyFileName)));
        var saved = (await store.LoadAsync((await store.ListAsync()).Single()))!;
        (await cli.RunAsync("logout")).ShouldSucceed().Out.ShouldContain("the server revoked the tokens");

        (await store.ListAsync()).ShouldBeEmpty();
        (await (await new SmartApp(Server).RefreshAsync(saved.RefreshToken!)).BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        (await cli.RunAsync("whoami")).ShouldFailWith(ExitCodes.SignInRequired, "not signed in");
    }

    [Fact]
    public async Task Errors_are_one_line_with_the_documented_exit_codes()
    {
        using var fresh = new CliRunner();
        (await fresh.RunAsync("get", "Patient/alice")).ShouldFailWith(ExitCodes.SignInRequired, "ignis login");
        (await fresh.RunAsync("login", "not a url")).ShouldFailWith(ExitCodes.Usage, "not an http(s) URL");
        var unknown = await fresh.RunAsync("frobnicate");
        unknown.ExitCode.ShouldBe(ExitCodes.Usage);
        unknown.Error.ShouldContain("frobnicate");

        using var cli = await SignedInAsync("alice");
        (await cli.RunAsync("get", "Patient/nobody-here")).ShouldFailWith(ExitCodes.Refused, "404");
        (await cli.RunAsync("get", "Patient/dave")).ShouldFailWith(ExitCodes.Refused, "404");
        (await cli.RunAsync("search", "Observation", "patient")).ShouldFailWith(ExitCodes.Usage, "name=value");
        (await cli.RunAsync("put", cli.PathIn("missing.json"))).ShouldFailWith(ExitCodes.Usage, "no such file");
        await File.WriteAllTextAsync(cli.PathIn("bad.json"), "{ not json");
        (await cli.RunAsync("put", cli.PathIn("bad.json"))).ShouldFailWith(ExitCodes.Usage, "not JSON");
        (await cli.RunAsync("delete", "Patient")).ShouldFailWith(ExitCodes.Usage, "Type/id");
    }

    [Fact]
    public async Task Export_writes_the_patients_record_as_ndjson_by_compartment_searches()
    {
        using var cli = await SignedInAsync("alice");
        var file = cli.PathIn("alice.ndjson");

        var result = (await cli.RunAsync("export", "--output", file)).ShouldSucceed();

        var lines = (await File.ReadAllLinesAsync(file)).Select(l => JsonNode.Parse(l)!).ToList();
        lines[0]["resourceType"]!.GetValue<string>().ShouldBe("Patient");
        lines[0]["id"]!.GetValue<string>().ShouldBe("alice");
        var types = lines.Select(l => l["resourceType"]!.GetValue<string>()).ToHashSet();
        types.ShouldContain("Observation");
        types.ShouldContain("Condition");
        types.ShouldContain("Encounter");
        types.ShouldContain("Immunization");
        foreach (var resource in lines.Skip(1)) resource.ToJsonString().ShouldContain("Patient/alice");
        result.Out.ShouldContain($"Exported {lines.Count} resources of Patient/alice");

        // The same count as the server's own search.
        using var http = (await new SmartClient(new SmartClientOptions
        {
            FhirBaseUrl = Server.FhirBase, ClientId = "demo-app", TokenStore = new InMemoryTokenStore(),
            Browser = new FormBrowserLauncher(Server, "alice", "alice-demo-pass"), Scope = "openid launch/patient patient/*.rs",
        }).LoginAsync()).CreateHttpClient();
        var observations = JsonNode.Parse(await http.GetStringAsync("Observation?patient=alice&_summary=count"))!["total"]!.GetValue<int>();
        lines.Count(l => l["resourceType"]!.GetValue<string>() == "Observation").ShouldBe(observations);
    }

    [Fact]
    public async Task An_interrupted_import_resumes_at_the_saved_position_and_sends_nothing_twice()
    {
        using var cli = await SignedInAsync("carol");
        var file = cli.PathIn("load.ndjson");
        await File.WriteAllLinesAsync(file, Enumerable.Range(1, 35).Select(i =>
            $$"""{"resourceType":"Patient","id":"import-{{i}}","name":[{"family":"Imported","given":["N{{i}}"]}]}"""));
        using var stop = new CancellationTokenSource();
        var batches = 0;
        cli.HttpHandler = () => new ObservingHandler(request =>
        {
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.TrimEnd('/').EndsWith("/fhir") && Interlocked.Increment(ref batches) == 3)
                stop.Cancel(); // Ctrl+C while the third batch is on its way
            return Task.CompletedTask;
        });

        var first = await cli.RunAsync(stop.Token, "import", file, "--batch-size", "10", "--progress");

        first.ExitCode.ShouldBe(ExitCodes.Failed);
        first.Error.ShouldContain("[##########");
        var state = JsonNode.Parse(await File.ReadAllTextAsync(file + ".ignis-import"))!;
        state["Next"]!.GetValue<int>().ShouldBe(20);

        batches = 0;
        var second = (await cli.RunAsync("import", file, "--batch-size", "10")).ShouldSucceed();

        second.Error.ShouldContain("Resuming");
        second.Error.ShouldContain("at resource 21 of 35");
        second.Out.ShouldContain("Imported 35 of 35 resources");
        batches.ShouldBe(2);
        File.Exists(file + ".ignis-import").ShouldBeFalse();
        var found = (await cli.RunAsync("search", "Patient", "family=Imported", "--count", "100", "--json")).ShouldSucceed().Json;
        found["entry"]!.AsArray().Count.ShouldBe(35);
    }

    [Fact]
    public async Task Importing_a_file_with_a_bad_line_imports_the_rest_and_exits_with_partial()
    {
        using var cli = await SignedInAsync("carol");
        var file = cli.PathIn("mixed.ndjson");
        await File.WriteAllLinesAsync(file,
        [
            """{"resourceType":"Patient","id":"mixed-1"}""",
            "this is not json",
            """{"resourceType":"Patient","id":"mixed-2","gender":"sometimes"}""",
            """{"resourceType":"Observation","id":"mixed-3","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/mixed-1"}}""",
        ]);

        var result = await cli.RunAsync("import", file, "--json");

        result.ExitCode.ShouldBe(ExitCodes.Partial, result.Error);
        result.Json["imported"]!.GetValue<int>().ShouldBe(2);
        result.Json["failed"]!.GetValue<int>().ShouldBe(2);
        var errors = await File.ReadAllLinesAsync(file + ".errors.ndjson");
        errors.Length.ShouldBe(2);
        errors[0].ShouldContain("\"position\":2");
        errors[1].ShouldContain("\"position\":3");
        (await cli.RunAsync("get", "Observation/mixed-3")).ShouldSucceed();
    }

    [Fact]
    public async Task A_transaction_bundle_is_put_whole()
    {
        using var cli = await SignedInAsync("carol");
        var file = cli.PathIn("tx.json");
        await File.WriteAllTextAsync(file, """
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"fullUrl":"urn:uuid:6a1e0c55-7e0f-4d4e-9f5d-1c0a4f1f0a01","resource":{"resourceType":"Patient","name":[{"family":"Transactional"}]},"request":{"method":"POST","url":"Patient"}},
              {"resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"urn:uuid:6a1e0c55-7e0f-4d4e-9f5d-1c0a4f1f0a01"}},"request":{"method":"POST","url":"Observation"}}]}
            """);

        (await cli.RunAsync("import", file)).ShouldSucceed().Out.ShouldContain("Imported 2 of 2");
        var found = (await cli.RunAsync("search", "Patient", "family=Transactional", "--json")).ShouldSucceed().Json;
        var id = found["entry"]![0]!["resource"]!["id"]!.GetValue<string>();
        (await cli.RunAsync("search", "Observation", $"subject=Patient/{id}", "--json")).ShouldSucceed().Json["entry"]!.AsArray().Count.ShouldBe(1);
    }
}
