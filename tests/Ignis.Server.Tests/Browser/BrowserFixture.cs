using System.Net;
using System.Net.Sockets;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Ignis.Server.Tests.Browser;

/// <summary>
/// One demo server (--demo) and one headless Debian Chromium, driven through Debian's ChromeDriver, per test
/// class; plus the app's redirect_uri, a loopback listener that answers every request with a blank page so the
/// browser settles on the redirect URL with its code or error.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string ChromeDriverPath = "/usr/bin/chromedriver";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly HttpListener _callback = new();
    private string _profile = "";

    public IgnisServer Server { get; private set; } = null!;
    public ChromeDriver Driver { get; private set; } = null!;
    /// <summary>A loopback redirect_uri of the demo app (native: any port, RFC 8252 §7.3).</summary>
    public string RedirectUri { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        // Fail, never skip: a machine without the browser must not look green.
        foreach (var path in new[] { ChromiumPath, ChromeDriverPath })
            if (!File.Exists(path))
                throw new InvalidOperationException(
                    $"{path} is missing. The browser tests drive Debian's chromium with chromium-driver: run scripts/test.sh, which installs them (apt-get install chromium chromium-driver).");

        var server = IgnisServer.StartAsync("--demo");
        var driver = Task.Run(StartChromium);
        try
        {
            StartCallbackListener();
            await Task.WhenAll(server, driver);
        }
        catch
        {
            if (driver.IsCompletedSuccessfully) driver.Result.Quit();
            if (server.IsCompletedSuccessfully) await server.Result.DisposeAsync();
            _callback.Close();
            throw;
        }
        Server = server.Result;
        Driver = driver.Result;
    }

    private ChromeDriver StartChromium() => LaunchChromium(out _profile);

    /// <summary>A headless Debian Chromium with a fresh profile (delete <paramref name="profile"/> after Quit).</summary>
    internal static ChromeDriver LaunchChromium(out string profile)
    {
        profile = Directory.CreateTempSubdirectory("ignis-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // The flags this machine needs: no sandbox as root, no GPU, and no background connections to the
        // closed network; a fresh profile every run.
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", $"--user-data-dir={profile}", "--window-size=1000,900");
        // Naming the driver's path keeps Selenium Manager (which would download a driver) out of it.
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriverPath)!, Path.GetFileName(ChromeDriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var chrome = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        chrome.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        return chrome;
    }

    private void StartCallbackListener() => RedirectUri = StartAppCallback(_callback);

    /// <summary>Serves a SMART app's redirect_uri ("Back in the app.") on a free loopback port; returns the redirect_uri.</summary>
    internal static string StartAppCallback(HttpListener listener)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                var body = "<!doctype html><title>app</title><p>Back in the app.</p>"u8.ToArray();
                context.Response.ContentType = "text/html";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        return $"http://127.0.0.1:{port}/callback";
    }

    /// <summary>Forgets every cookie, so each test signs in from scratch.</summary>
    public void SignOutEverywhere() => Driver.ExecuteCdpCommand("Network.clearBrowserCookies", new Dictionary<string, object?>());

    public void Open(string url) => Driver.Navigate().GoToUrl(new Uri(Server.Origin, url));

    public void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited {Patience.TotalSeconds} s for {what}; the browser is on {Driver.Url}:\n{Driver.PageSource}");
            Thread.Sleep(50);
        }
    }

    public void WaitForPage(string path) => WaitFor(() => new Uri(Driver.Url).AbsolutePath == path, $"the page {path}");

    /// <summary>Waits until the browser lands on the app's redirect_uri and returns its query.</summary>
    public IDictionary<string, string> WaitForRedirectToApp()
    {
        WaitFor(() => Driver.Url.StartsWith(RedirectUri + "?", StringComparison.Ordinal), "the redirect to the app");
        return QueryHelpers.ParseQuery(new Uri(Driver.Url).Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
    }

    public void SignIn(string user, string password)
    {
        WaitForPage("/account/login");
        var username = Driver.FindElement(By.Name("username"));
        username.Clear();
        username.SendKeys(user);
        Driver.FindElement(By.Name("password")).SendKeys(password);
        Driver.FindElement(By.XPath("//form[.//input[@name='username']]//button[@type='submit']")).Click();
    }

    public async ValueTask DisposeAsync()
    {
        _callback.Stop();
        _callback.Close();
        if (Driver is not null)
        {
            Driver.Quit();
            Driver.Dispose();
        }
        if (Server is not null) await Server.DisposeAsync();
        try { if (_profile.Length > 0) Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
