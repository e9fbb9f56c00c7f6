using System.Globalization;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Serialization;

/// <summary>
/// A resource's JSON serialized before its version and time are known, i.e. before the write gate: meta.versionId and
/// meta.lastUpdated hold placeholders that <see cref="Fill"/> replaces with the version's values. Inside the gate a write
/// then copies a string instead of walking the whole resource (serializing was ~40 µs of a write's serial time).
/// </summary>
internal sealed class JsonTemplate
{
    private const string VersionPlaceholder = "ignis-version-placeholder";
    // 0001-01-01T00:00:00.1234567+00:00: no time Ignis writes (whole microseconds) looks like it.
    private static readonly DateTimeOffset TimeValue = new(1_234_567, TimeSpan.Zero);
    private static readonly string TimePlaceholder = new Instant(TimeValue).ToString()!;
    private const string VersionKey = "\"versionId\":\"";
    private const string TimeKey = "\"lastUpdated\":\"";

    private readonly string _json;
    private readonly int _version; // where the version's placeholder starts
    private readonly int _time;    // where the time's placeholder starts

    private JsonTemplate(string id, string json, int version, int time)
    {
        Id = id;
        _json = json;
        _version = version;
        _time = time;
    }

    /// <summary>The id the resource had when it was serialized (the template is only good for a write with that id).</summary>
    public string Id { get; }

    /// <summary>
    /// The JSON of <paramref name="body"/> with placeholders for its version and time (its meta is left as it was), or
    /// null when the placeholders cannot be found once each (then the write serializes inside the gate, as before).
    /// </summary>
    public static JsonTemplate? Create(Resource body)
    {
        if (string.IsNullOrEmpty(body.Id)) return null;
        var meta = body.Meta;
        var (version, time) = (meta?.VersionIdElement, meta?.LastUpdatedElement);
        body.Meta ??= new Meta();
        body.Meta.VersionId = VersionPlaceholder;
        body.Meta.LastUpdated = TimeValue;
        string json;
        try
        {
            json = FhirSerializer.ToJson(body);
        }
        finally
        {
            if (meta is null) body.Meta = null;
            else
            {
                meta.VersionIdElement = version;
                meta.LastUpdatedElement = time;
            }
        }
        var v = Find(json, VersionKey + VersionPlaceholder + "\"");
        var t = Find(json, TimeKey + TimePlaceholder + "\"");
        if (v < 0 || t < v) return null;
        return new JsonTemplate(body.Id, json, v + VersionKey.Length, t + TimeKey.Length);
    }

    // Where the text occurs, if exactly once; otherwise -1.
    private static int Find(string json, string text)
    {
        var at = json.IndexOf(text, StringComparison.Ordinal);
        return at >= 0 && json.IndexOf(text, at + 1, StringComparison.Ordinal) < 0 ? at : -1;
    }

    /// <summary>The JSON with meta.versionId = <paramref name="version"/> and meta.lastUpdated = <paramref name="ticks"/> (UTC).</summary>
    public string Fill(int version, long ticks)
    {
        var versionText = version.ToString(CultureInfo.InvariantCulture);
        var timeText = new Instant(new DateTimeOffset(ticks, TimeSpan.Zero)).ToString()!;
        var length = _json.Length - VersionPlaceholder.Length - TimePlaceholder.Length + versionText.Length + timeText.Length;
        return string.Create(length, (Template: this, versionText, timeText), static (span, s) =>
        {
            var json = s.Template._json.AsSpan();
            var (v, t) = (s.Template._version, s.Template._time);
            json[..v].CopyTo(span);
            span = span[v..];
            s.versionText.CopyTo(span);
            span = span[s.versionText.Length..];
            var middle = json[(v + VersionPlaceholder.Length)..t];
            middle.CopyTo(span);
            span = span[middle.Length..];
            s.timeText.CopyTo(span);
            json[(t + TimePlaceholder.Length)..].CopyTo(span[s.timeText.Length..]);
        });
    }
}
