namespace Ignis.Server.Hosting;

/// <summary>
/// appsettings.json is watched for changes by polling its timestamp (every 4 s) rather than by inotify. ASP.NET Core
/// watches the configuration files through a FileSystemWatcher on the whole content root, subfolders included, and the
/// data folder is a subfolder by default (Ignis:DataDirectory "data"): every SQLite page write then woke the watcher
/// thread and cost the writing thread a kernel notification, 5-7 % of the CPU of a backend-services token request
/// (docs/benchmarks.md, issue 4). Polling still reloads a changed file. An explicit DOTNET_USE_POLLING_FILE_WATCHER
/// setting wins.
/// </summary>
public static class ConfigFileWatching
{
    public const string Variable = "DOTNET_USE_POLLING_FILE_WATCHER";

    public static void UsePolling()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null) Environment.SetEnvironmentVariable(Variable, "true");
    }
}
