using Ignis.Cli;
using Ignis.Client.Login;

namespace Ignis.Client.Tests.Cli;

/// <summary>Runs the ignis command line in-process through its entry point, with its own home folder and captured output.</summary>
public sealed class CliRunner : IDisposable
{
    public CliRunner(IBrowserLauncher? browser = null)
    {
        Home = Directory.CreateTempSubdirectory("ignis-cli-home-").FullName;
        Browser = browser;
    }

    public string Home { get; }
    public IBrowserLauncher? Browser { get; set; }
    public Func<HttpMessageHandler>? HttpHandler { get; set; }
    public string Input { get; set; } = "";

    /// <summary>Where standard error goes (default: a fresh StringWriter per run).</summary>
    public Func<StringWriter>? ErrorWriter { get; set; }

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(CancellationToken.None, args);

    public async Task<CliResult> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = ErrorWriter?.Invoke() ?? new StringWriter();
        var env = new CliEnvironment
        {
            Out = output, Error = error, In = new StringReader(Input), Home = Home, Browser = Browser, HttpHandler = HttpHandler,
        };
        var code = await CliApp.RunAsync(args, env, cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public string PathIn(string name) => Path.Combine(Home, name);

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public CliResult ShouldSucceed()
    {
        ExitCode.ShouldBe(0, $"stdout:\n{Out}\nstderr:\n{Error}");
        return this;
    }

    public System.Text.Json.Nodes.JsonNode Json => System.Text.Json.Nodes.JsonNode.Parse(Out) ?? throw new InvalidOperationException("no JSON: " + Out);

    /// <summary>Errors are one line, prefixed "ignis: ".</summary>
    public void ShouldFailWith(int exitCode, string contains)
    {
        ExitCode.ShouldBe(exitCode, $"stdout:\n{Out}\nstderr:\n{Error}");
        var lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(1, Error);
        lines[0].ShouldStartWith("ignis: ");
        lines[0].ShouldContain(contains);
    }
}
