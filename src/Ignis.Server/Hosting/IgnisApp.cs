using Ignis.Fhir.Search;
using Ignis.Server.Auth;
using Ignis.Server.Fhir;
using Ignis.Server.Hosting.Interfaces;
using Ignis.Server.Portal;
using Ignis.Server.Scim;

namespace Ignis.Server.Hosting;

/// <summary>The whole server, as Program.cs runs it and as tests start it on a loopback port.</summary>
public static class IgnisApp
{
    public static WebApplication Build(string[] args)
    {
        var timings = new StartupTimings();
        timings.Mark("main");
        // The FHIR model and search parameter definitions take a third of the start-up CPU and depend on nothing the
        // host builds: on a second core while the host, the auth tables and the keys are set up (InitializeIgnis).
        var fhirModel = Task.Run(() => SearchParameterRegistry.Default);
        ConfigFileWatching.UsePolling();
        var builder = WebApplication.CreateBuilder(CommandLine.Normalize(args));
        builder.Services.AddSingleton(timings);
        builder.AddIgnisHosting();
        builder.Services.AddIgnisFhir();
        builder.AddIgnisAuth();
        builder.AddIgnisScim();
        builder.AddIgnisPortal();

        timings.Mark("services added");
        var app = builder.Build();
        timings.Mark("host built");
        app.RequireLoopbackForAnonymousAccess();
        app.UseIgnisForwardedHeaders();
        app.UseIgnisErrorHandling();
        app.UseIgnisAuth();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapFhir();
        app.MapIgnisAuth();
        app.MapScim();
        app.InitializeIgnis(fhirModel);
        timings.Mark("initialized");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Start-up leaves ~20 MiB of garbage (the EF Core model and migrations, the FHIR definitions, the demo
            // seeding, what the hosted services did when they started) that an idle server would otherwise keep
            // committed: collected once, when every hosted service has started, and the memory given back.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            // The same for the C heap: what the JIT, EF Core's migrations and the demo seeding freed goes back (3.5 MiB
            // of RSS after a fresh --demo start, measured on an idle server, docs/benchmarks.md session 5).
            NativeHeap.Trim();
            timings.Mark("listening, start-up garbage collected");
        });
        return app;
    }
}
