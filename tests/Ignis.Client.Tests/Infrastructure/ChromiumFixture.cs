using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Ignis.Client.Tests.Infrastructure;

/// <summary>
/// One headless Debian Chromium per test class, driven through Debian's ChromeDriver (the flags of
/// tests/Ignis.Server.Tests/Browser/BrowserFixture.cs: no sandbox as root, no GPU, no background connections).
/// </summary>
public sealed class ChromiumFixture : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string ChromeDriverPath = "/usr/bin/chromedriver";

    private readonly string _profile;

    public ChromiumFixture()
    {
        // Fail, never skip: a machine without the browser must not look green.
        foreach (var path in new[] { ChromiumPath, ChromeDriverPath })
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} is missing: run scripts/test.sh, which installs chromium and chromium-driver.");
        _profile = Directory.CreateTempSubdirectory("ignis-client-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", $"--user-data-dir={_profile}", "--window-size=1000,900");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriverPath)!, Path.GetFileName(ChromeDriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
    }

    public ChromeDriver Driver { get; }

    public void ForgetCookies() => Driver.ExecuteCdpCommand("Network.clearBrowserCookies", new Dictionary<string, object?>());

    public void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 20 s for {what}; the browser is on {Driver.Url}:\n{Driver.PageSource}");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The system browser, played by headless Chromium: goes to the authorize URL the SDK opens, signs in on the login
/// page, allows on the consent page, and ends on the SDK's loopback page.
/// </summary>
public sealed class ChromiumLauncher(ChromiumFixture chromium, string user, string password) : Ignis.Client.Login.IBrowserLauncher
{
    public Uri? AuthorizeUrl { get; private set; }
    public string? FinalText { get; private set; }
    public string? FinalUrl { get; private set; }
    public bool SawConsentPage { get; private set; }

    public Task LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken) => Task.Run(() =>
    {
        AuthorizeUrl = authorizeUrl;
        var driver = chromium.Driver;
        driver.Navigate().GoToUrl(authorizeUrl);
        chromium.WaitFor(() => new Uri(driver.Url).AbsolutePath == "/account/login", "the login page");
        driver.FindElement(By.Name("username")).SendKeys(user);
        driver.FindElement(By.Name("password")).SendKeys(password);
        driver.FindElement(By.XPath("//form[.//input[@name='username']]//button[@type='submit']")).Click();
        // The consent page, unless the user already allowed these scopes (remembered consent issues the code at once).
        chromium.WaitFor(() => new Uri(driver.Url).AbsolutePath == "/authorize/consent" || new Uri(driver.Url).Host == "127.0.0.1" && new Uri(driver.Url).AbsolutePath == "/callback",
            "the consent page or the app's loopback page");
        if (new Uri(driver.Url).AbsolutePath == "/authorize/consent")
        {
            SawConsentPage = true;
            driver.FindElement(By.CssSelector("button[name=decision][value=allow]")).Click();
        }
        chromium.WaitFor(() => new Uri(driver.Url).Host == "127.0.0.1" && new Uri(driver.Url).AbsolutePath == "/callback"
            && driver.FindElement(By.TagName("body")).Text.Contains("close this tab"), "the app's loopback page");
        FinalUrl = driver.Url;
        FinalText = driver.FindElement(By.TagName("body")).Text;
    }, cancellationToken);
}
