namespace Ignis.Server.Hosting;

/// <summary>
/// Ignis's own flags, taken out of the arguments before the ASP.NET Core command-line provider reads
/// them: that provider pairs "--demo --urls X" as demo=--urls and silently loses --urls.
/// </summary>
public static class CommandLine
{
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--demo":
                    result.Add("--Ignis:Demo=true");
                    break;
                case "--data" when i + 1 < args.Length:
                    result.Add($"--Ignis:DataDirectory={args[++i]}");
                    break;
                default:
                    if (args[i].StartsWith("--data=", StringComparison.Ordinal))
                        result.Add("--Ignis:DataDirectory=" + args[i]["--data=".Length..]);
                    else
                        result.Add(args[i]);
                    break;
            }
        }
        return [.. result];
    }
}
