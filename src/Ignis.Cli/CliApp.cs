namespace Ignis.Cli;

public static class CliApp
{
    public static Task<int> RunAsync(string[] args, CliEnvironment env) => Task.FromResult(0);
}

public sealed class CliEnvironment
{
    public static CliEnvironment FromProcess() => new();
}
