using Ignis.Client.Login;

namespace Ignis.Cli;

/// <summary>What the command line talks to: its output streams, its home folder, the browser. Tests supply their own.</summary>
public sealed class CliEnvironment
{
    /// <summary>Standard output: results (tables, JSON, tokens).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error: errors, progress, prompts.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Standard input (for --password-stdin).</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>True when standard error is a terminal (progress bars are drawn only then).</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>
    /// The folder for the current-server setting (cli.json) and the token store: <c>IGNIS_HOME</c>, else
    /// <c>Ignis</c> under the user's local application data (the SDK's default token store is its <c>tokens</c> folder).
    /// </summary>
    public required string Home { get; init; }

    /// <summary>Opens the authorize URL for <c>ignis login</c>; null for the system browser.</summary>
    public IBrowserLauncher? Browser { get; init; }

    /// <summary>The handler under every HTTP request (tests count token requests with it); null for the default.</summary>
    public Func<HttpMessageHandler>? HttpHandler { get; init; }

    /// <summary>The environment of this process.</summary>
    public static CliEnvironment FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        ErrorIsTerminal = !Console.IsErrorRedirected,
        Home = Environment.GetEnvironmentVariable("IGNIS_HOME") is { Length: > 0 } home
            ? Path.GetFullPath(home)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "Ignis"),
    };

    internal HttpMessageHandler NewHandler() => HttpHandler?.Invoke() ?? new SocketsHttpHandler();
}

/// <summary>The exit codes scripts can rely on (docs/cli.md).</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;
    /// <summary>Something failed: the server could not be reached, answered 5xx, or an unexpected error.</summary>
    public const int Failed = 1;
    /// <summary>The command line or an input file is wrong.</summary>
    public const int Usage = 2;
    /// <summary>Not signed in, or the session has ended: run <c>ignis login</c>.</summary>
    public const int SignInRequired = 3;
    /// <summary>The server refused the request (4xx: not found, forbidden, invalid resource, conflict) or an admin change was refused.</summary>
    public const int Refused = 4;
    /// <summary>An import finished, but some resources were refused.</summary>
    public const int Partial = 5;
}

/// <summary>An error to report as one line with an exit code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
