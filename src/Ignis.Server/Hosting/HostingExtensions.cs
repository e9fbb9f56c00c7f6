using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Server.Auth;
using Ignis.Server.Demo;
using Ignis.Server.Fhir;
using Ignis.Server.Hosting.Interfaces;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>Options, the default listening address and Kestrel limits.</summary>
    public static WebApplicationBuilder AddIgnisHosting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IgnisOptions>().Bind(builder.Configuration.GetSection(IgnisOptions.Section))
            .Validate(o => o.Fhir.MaxBodyBytes > 0, "Ignis:Fhir:MaxBodyBytes must be a positive number of bytes.")
            .Validate(o => Ignis.Server.Data.AuthDatabase.ParseProvider(o.Storage.Provider) is not null, "Ignis:Storage:Provider must be 'sqlite' or 'postgres'.")
            .Validate(o => Ignis.Server.Data.AuthDatabase.ParseProvider(o.Storage.Provider) != Ignis.Server.Data.StorageProvider.Postgres || !string.IsNullOrWhiteSpace(o.Storage.ConnectionString),
                "Ignis:Storage:ConnectionString must be set with Ignis:Storage:Provider=postgres, e.g. Host=db.example.org;Database=ignis;Username=ignis;Password=...")
            .ValidateOnStart();
        // The insecure (loopback http) and secure (https) interfaces, unless --urls or ASPNETCORE_URLS say otherwise.
        builder.AddIgnisInterfaces();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // the FHIR layer enforces Ignis:Fhir:MaxBodyBytes with an OperationOutcome
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return builder;
    }

    /// <summary>Anonymous=Allow is accepted only on loopback addresses unless forced (see <see cref="InterfaceHosting"/>).</summary>
    public static WebApplication RequireLoopbackForAnonymousAccess(this WebApplication app) => app.RequireLoopbackForAnonymousAllow();

    /// <summary>
    /// Turns an unexpected exception into a 500 without internals (an OperationOutcome under /fhir), and a lost
    /// database into a 503 (<see cref="DatabaseOutage"/>).
    /// </summary>
    public static WebApplication UseIgnisErrorHandling(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException && DatabaseOutage.IsOutage(http, e))
            {
                await DatabaseOutage.WriteAsync(http, e);
            }
            catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
            {
                var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Errors");
                LogUnhandled(logger, e, http.Request.Method, http.Request.Path);
                http.Response.Clear();
                await FhirContent.WriteErrorAsync(http, FhirFormat.Json, 500, OperationOutcome.IssueType.Exception,
                    "The server could not complete the request. The error has been logged.");
            }
        });
        return app;
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Database {Path}: schema version {From} -> {To}")]
    private static partial void LogMigrated(ILogger logger, string path, int from, int to);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Demo data seeded: {Count} resources")]
    private static partial void LogSeeded(ILogger logger, int count);

    /// <summary>
    /// Creates or upgrades the database, then seeds the demo data when asked and the database is empty. The FHIR side
    /// (model, store, demo record) runs on a pool thread while this one does the auth side (EF Core model and
    /// migrations, signing keys, Data Protection); start-up returns when both are done and rethrows what either threw.
    /// </summary>
    public static WebApplication InitializeIgnis(this WebApplication app, Task<SearchParameterRegistry>? fhirModel = null)
    {
        // On PostgreSQL nodes that start together take turns: one migrates and seeds, the others then find it done.
        using var startup = app.Services.GetRequiredService<Ignis.Server.Data.AuthDatabase>().LockStartup();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Startup");
        var timings = app.Services.GetRequiredService<StartupTimings>();
        var options = app.Services.GetRequiredService<IOptions<IgnisOptions>>().Value;

        // The signing keys are files next to a SQLite database (made on the first start: an RSA key takes up to a
        // second): loaded meanwhile. On PostgreSQL they are rows, read or made after the auth migrations.
        var database = app.Services.GetRequiredService<Ignis.Server.Data.AuthDatabase>();
        var keys = database.IsPostgres ? Task.CompletedTask : Task.Run(() => _ = app.Services.GetRequiredService<KeyRing>().Current);
        var fhir = Task.Run(async () =>
        {
            if (fhirModel is not null) await fhirModel;
            var store = app.Services.GetRequiredService<IFhirStore>();
            var from = store.Migrate();
            LogMigrated(logger, store.Location, from, store.LatestSchemaVersion);
            timings.Mark("FHIR store migrated");
            var seeded = 0;
            if (options.Demo)
            {
                seeded = await DemoData.SeedIfEmptyAsync(app.Services.GetRequiredService<FhirService>());
                if (seeded > 0) LogSeeded(logger, seeded);
                timings.Mark("demo data");
            }
            app.Services.GetRequiredService<CapabilityStatementBuilder>().Warm();
            timings.Mark("capability statement warmed");
            return seeded;
        });
        // Demo users and clients only come with the demo record on an empty database, never onto real data.
        var auth = app.InitializeIgnisAuthAsync(seedDemo: SeededAsync(fhir));
        // All three end before start-up goes on or fails (never a thread left running behind a failed start); the
        // first failure is rethrown.
        Task.WhenAll(auth, fhir, keys).GetAwaiter().GetResult();
        timings.Mark("auth initialized");
        return app;
    }

    private static async Task<bool> SeededAsync(Task<int> fhir) => await fhir > 0;
}
