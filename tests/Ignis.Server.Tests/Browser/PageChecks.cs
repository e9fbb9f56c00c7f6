using System.Globalization;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Ignis.Server.Tests.Browser;

/// <summary>
/// What every page must do in the browser, checked on each page a test visits: POST forms carry the antiforgery
/// token, every visible form control has a label, and nothing runs a script. Also saves a full-page screenshot
/// of the page under the test output (screenshots/), which docs/screenshots/ copies.
/// </summary>
public static partial class PageChecks
{
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static void Check(ChromeDriver driver, string? screenshot = null)
    {
        foreach (var form in driver.FindElements(By.CssSelector("form")))
        {
            if (!string.Equals(form.GetDomAttribute("method"), "post", StringComparison.OrdinalIgnoreCase)) continue;
            form.FindElements(By.CssSelector("input[type=hidden][name=__RequestVerificationToken]")).Count
                .ShouldBe(1, $"a POST form on {driver.Url} has no antiforgery token: {form.GetDomProperty("outerHTML")}");
        }
        foreach (var control in driver.FindElements(By.CssSelector("input, select, textarea")))
        {
            var type = control.GetDomAttribute("type");
            if (type is "hidden" or "submit" or "button") continue;
            HasLabel(driver, control).ShouldBeTrue($"a form control on {driver.Url} has no label: {control.GetDomProperty("outerHTML")}");
        }
        NoAlert(driver);
        if (screenshot is not null) Screenshot(driver, screenshot);
    }

    private static bool HasLabel(ChromeDriver driver, IWebElement control)
    {
        if (!string.IsNullOrEmpty(control.GetDomAttribute("aria-label")) || !string.IsNullOrEmpty(control.GetDomAttribute("aria-labelledby"))) return true;
        var id = control.GetDomAttribute("id");
        if (!string.IsNullOrEmpty(id) && driver.FindElements(By.CssSelector($"label[for='{id}']")).Count > 0) return true;
        return control.FindElements(By.XPath("ancestor::label")).Count > 0;
    }

    /// <summary>No JavaScript dialog is open (an injected script would have opened one).</summary>
    public static void NoAlert(ChromeDriver driver) =>
        Should.Throw<NoAlertPresentException>(() => driver.SwitchTo().Alert(), $"a script ran on {driver.Url}");

    /// <summary>A PNG of the whole page (beyond the window), as screenshots/{name}.png.</summary>
    public static void Screenshot(ChromeDriver driver, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var metrics = (Dictionary<string, object?>)driver.ExecuteCdpCommand("Page.getLayoutMetrics", [])!;
        var size = (Dictionary<string, object?>)metrics["cssContentSize"]!;
        var width = Convert.ToDouble(size["width"], CultureInfo.InvariantCulture);
        var height = Math.Min(Convert.ToDouble(size["height"], CultureInfo.InvariantCulture), 4000);
        var shot = (Dictionary<string, object?>)driver.ExecuteCdpCommand("Page.captureScreenshot", new Dictionary<string, object?>
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object?> { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        })!;
        File.WriteAllBytes(Path.Combine(ScreenshotDirectory, name + ".png"), Convert.FromBase64String((string)shot["data"]!));
    }

    /// <summary>WCAG 2.1 contrast ratio of an element's text colour on its (nearest opaque) background.</summary>
    public static double Contrast(ChromeDriver driver, IWebElement element)
    {
        var foreground = Parse(element.GetCssValue("color"));
        var background = (1.0, 1.0, 1.0);
        for (var e = element; e is not null; e = Parent(e))
        {
            var value = e.GetCssValue("background-color");
            var (r, g, b, a) = ParseWithAlpha(value);
            if (a > 0.99)
            {
                background = (r, g, b);
                break;
            }
            if (e.TagName == "html") break;
        }
        var l1 = Luminance(foreground);
        var l2 = Luminance(background);
        return (Math.Max(l1, l2) + 0.05) / (Math.Min(l1, l2) + 0.05);
    }

    private static IWebElement? Parent(IWebElement e) => e.TagName == "html" ? null : e.FindElement(By.XPath(".."));

    private static (double, double, double) Parse(string css)
    {
        var (r, g, b, _) = ParseWithAlpha(css);
        return (r, g, b);
    }

    private static (double R, double G, double B, double A) ParseWithAlpha(string css)
    {
        var m = ColorPattern().Match(css);
        if (!m.Success) throw new InvalidOperationException($"Unexpected colour {css}");
        double C(int i) => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) / 255.0;
        var a = m.Groups[4].Success ? double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) : 1.0;
        return (C(1), C(2), C(3), a);
    }

    private static double Luminance((double R, double G, double B) c)
    {
        static double Channel(double v) => v <= 0.03928 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        return 0.2126 * Channel(c.R) + 0.7152 * Channel(c.G) + 0.0722 * Channel(c.B);
    }

    [GeneratedRegex(@"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)")]
    private static partial Regex ColorPattern();
}
