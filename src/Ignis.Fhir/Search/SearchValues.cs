using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ignis.Fhir.Search;

/// <summary>
/// Value conversions shared by index extraction (write time) and query parsing (read time), so that a
/// value means the same thing on both sides.
/// </summary>
public static partial class SearchValues
{
    /// <summary>Lower-cases and removes accents (diacritics): "Müller" → "muller". Used for string search.</summary>
    public static string NormalizeString(string value)
    {
        var decomposed = value.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var ch = c is >= '\u00C0' and < '\u0180' && LatinFold[c - 0xC0] != '.' ? LatinFold[c - 0xC0] : c;
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    // With InvariantGlobalization, string.Normalize does not decompose, so accented Latin letters (U+00C0..U+017F)
    // are folded by this table too: each is the base letter Unicode decomposition gives, '.' where there is none.
    private const string LatinFold =
        "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.yAaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh.." +
        "IiIiIiIiI...JjKk.LlLlLl....NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";

    // FHIR date, dateTime and instant: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm(:ss(.fff...))(Z|+hh:mm).
    // Search values may also omit seconds (R4 search allows hh:mm).
    [GeneratedRegex(@"^(?<y>\d{4})(-(?<m>\d{2})(-(?<d>\d{2})(T(?<h>\d{2}):(?<mi>\d{2})(:(?<s>\d{2})(\.(?<f>\d{1,9}))?)?(?<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DatePattern();

    /// <summary>
    /// The inclusive range of UTC ticks that a FHIR date/dateTime/instant covers at its precision:
    /// "2020" → all of 2020; "2020-03-04T10:00Z" → that minute. Times without a zone are taken as UTC.
    /// </summary>
    public static bool TryParseDateRange(string value, out long lo, out long hi)
    {
        lo = hi = 0;
        var m = DatePattern().Match(value);
        if (!m.Success) return false;
        try
        {
            var year = int.Parse(m.Groups["y"].Value, CultureInfo.InvariantCulture);
            if (year < 1) return false;
            DateTime start;
            DateTime end;
            if (!m.Groups["m"].Success)
            {
                start = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc);
                end = start.AddYears(1);
            }
            else
            {
                var month = int.Parse(m.Groups["m"].Value, CultureInfo.InvariantCulture);
                if (!m.Groups["d"].Success)
                {
                    start = new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc);
                    end = start.AddMonths(1);
                }
                else
                {
                    var day = int.Parse(m.Groups["d"].Value, CultureInfo.InvariantCulture);
                    if (!m.Groups["h"].Success)
                    {
                        start = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc);
                        end = start.AddDays(1);
                    }
                    else
                    {
                        var hour = int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture);
                        var minute = int.Parse(m.Groups["mi"].Value, CultureInfo.InvariantCulture);
                        var offset = TimeSpan.Zero;
                        var tz = m.Groups["tz"].Value;
                        if (tz.Length > 1)
                        {
                            var sign = tz[0] == '-' ? -1 : 1;
                            offset = sign * new TimeSpan(int.Parse(tz[1..3], CultureInfo.InvariantCulture), int.Parse(tz[4..6], CultureInfo.InvariantCulture), 0);
                        }
                        if (hour == 24 && minute == 0) { hour = 0; } // not valid FHIR; rejected below by DateTime
                        var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
                        if (!m.Groups["s"].Success)
                        {
                            start = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
                            end = start.AddMinutes(1);
                        }
                        else
                        {
                            var second = int.Parse(m.Groups["s"].Value, CultureInfo.InvariantCulture);
                            local = local.AddSeconds(second);
                            if (!m.Groups["f"].Success)
                            {
                                start = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
                                end = start.AddSeconds(1);
                            }
                            else
                            {
                                var f = m.Groups["f"].Value;
                                var digits = Math.Min(f.Length, 7);
                                var fractionTicks = long.Parse(f[..digits].PadRight(7, '0'), CultureInfo.InvariantCulture);
                                start = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc).AddTicks(fractionTicks);
                                end = start.AddTicks((long)Math.Pow(10, 7 - digits));
                            }
                        }
                    }
                }
            }
            lo = start.Ticks;
            hi = end.Ticks - 1;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>
    /// The range a decimal covers at its stated precision (FHIR search §3.1.1.4.1.1): "100" → [99.5, 100.5),
    /// "100.00" → [99.995, 100.005). Returned as an inclusive pair of doubles.
    /// </summary>
    public static (double Lo, double Hi) NumberRange(decimal value)
    {
        var scale = (value.Scale);
        var half = 0.5m / Pow10(scale);
        return ((double)(value - half), (double)(value + half));
    }

    /// <summary>Parses a decimal as written in a search value or resource, keeping its precision (scale).</summary>
    public static bool TryParseDecimal(string value, out decimal result) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out result);

    private static decimal Pow10(int n)
    {
        var r = 1m;
        for (var i = 0; i < n; i++) r *= 10m;
        return r;
    }
}
