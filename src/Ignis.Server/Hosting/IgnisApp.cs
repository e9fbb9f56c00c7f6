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
        ConfigFileWatching.UsePolling();
        var builder = WebApplication.CreateBuilder(CommandLine.Normalize(args));
        builder.AddIgnisHosting();
        builder.Services.AddIgnisFhir();
        builder.AddIgnisAuth();
        builder.AddIgnisScim();
        builder.AddIgnisPortal();

        var app = builder.Build();
        app.RequireLoopbackForAnonymousAccess();
        app.UseIgnisForwardedHeaders();
        app.UseIgnisErrorHandling();
        app.UseIgnisAuth();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapFhir();
        app.MapIgnisAuth();
        app.MapScim();
        app.InitializeIgnis();
        return app;
    }
}
