using System.Diagnostics;

namespace Ignis.Client.Login;

/// <summary>
/// Opens the authorization URL where the user can sign in. Native apps use the system browser (RFC 8252 §7, never an
/// embedded web view); tests and kiosk apps plug in their own.
/// </summary>
public interface IBrowserLauncher
{
    /// <summary>Shows <paramref name="authorizeUrl"/> to the user. Returns once the browser was started, not when sign-in ends.</summary>
    Task LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken);
}

/// <summary>
/// The user's default browser: <c>xdg-open</c> on Linux (override with the <c>BROWSER</c> variable), <c>open</c> on
/// macOS, the shell on Windows.
/// </summary>
public sealed class SystemBrowserLauncher : IBrowserLauncher
{
    /// <inheritdoc />
    public Task LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        var url = authorizeUrl.AbsoluteUri;
        ProcessStartInfo start;
        if (OperatingSystem.IsWindows())
            start = new ProcessStartInfo(url) { UseShellExecute = true };
        else if (OperatingSystem.IsMacOS())
            start = new ProcessStartInfo("open", [url]);
        else
            start = new ProcessStartInfo(Environment.GetEnvironmentVariable("BROWSER") is { Length: > 0 } browser ? browser : "xdg-open", [url]);
        start.RedirectStandardOutput = !start.UseShellExecute;
        start.RedirectStandardError = !start.UseShellExecute;
        try
        {
            using var process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SmartClientException($"No browser could be started ({start.FileName}: {e.Message}). Open this address yourself: {url}", e);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Does not open anything: hands the URL to a callback (for example to print it, for a terminal on another machine).</summary>
public sealed class CallbackBrowserLauncher(Func<Uri, CancellationToken, Task> show) : IBrowserLauncher
{
    /// <inheritdoc />
    public Task LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) => show(authorizeUrl, cancellationToken);
}
