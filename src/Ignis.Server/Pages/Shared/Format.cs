using System.Globalization;

namespace Ignis.Server.Pages.Shared;

/// <summary>Dates as the pages show them: UTC, unambiguous, short.</summary>
public static class Format
{
    public static string When(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string When(DateTimeOffset at) => When(at.UtcDateTime);

    /// <summary>"1 token", "3 tokens".</summary>
    public static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";
}
