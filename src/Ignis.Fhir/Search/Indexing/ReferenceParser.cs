using System.Collections.Frozen;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>What a literal reference string (Reference.reference) points at.</summary>
/// <param name="TargetType">The resource type, when the reference is "Type/id" or ends with it.</param>
/// <param name="TargetId">The logical id, with <paramref name="TargetType"/>.</param>
/// <param name="Url">The absolute URL (without a trailing "/_history/version"), or the reference as written when it is not "Type/id".</param>
internal readonly record struct ParsedReference(string? TargetType, string? TargetId, string? Url)
{
    public bool IsEmpty => TargetType is null && Url is null;
}

internal static class ReferenceParser
{
    private static readonly FrozenSet<string> ResourceTypes =
        ModelInfo.SupportedResources.Where(ModelInfo.IsKnownResource).ToFrozenSet(StringComparer.Ordinal);

    public static bool IsResourceType(string name) => ResourceTypes.Contains(name);

    /// <summary>
    /// "Patient/1", "Patient/1/_history/2" → local; "http://x/fhir/Patient/1" → Url plus Patient/1;
    /// "urn:uuid:..." → Url only; "#c1" (contained) and "" → empty.
    /// </summary>
    public static ParsedReference Parse(string? reference)
    {
        if (string.IsNullOrWhiteSpace(reference) || reference[0] == '#') return default;

        var value = reference;
        var history = value.IndexOf("/_history/", StringComparison.Ordinal);
        if (history > 0) value = value[..history];

        var absolute = value.Contains("://", StringComparison.Ordinal) || value.StartsWith("urn:", StringComparison.OrdinalIgnoreCase);
        var (type, id) = LastTypeAndId(value);
        if (absolute) return new ParsedReference(type, id, value);
        if (type is not null && value.Length == type.Length + 1 + id!.Length) return new ParsedReference(type, id, null);
        return new ParsedReference(null, null, value);
    }

    /// <summary>The resource type a reference names, for resolve() in search expressions; null for contained or unknown.</summary>
    public static string? TargetTypeOf(string? reference) => Parse(reference).TargetType;

    private static (string? Type, string? Id) LastTypeAndId(string value)
    {
        var lastSlash = value.LastIndexOf('/');
        if (lastSlash <= 0 || lastSlash == value.Length - 1) return (null, null);
        var prevSlash = value.LastIndexOf('/', lastSlash - 1);
        var type = value[(prevSlash + 1)..lastSlash];
        if (!IsResourceType(type)) return (null, null);
        var id = value[(lastSlash + 1)..];
        return IsId(id) ? (type, id) : (null, null);
    }

    // FHIR id: [A-Za-z0-9\-\.]{1,64}
    private static bool IsId(string id)
    {
        if (id.Length is 0 or > 64) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')) return false;
        }
        return true;
    }

    /// <summary>Splits "url|version" (canonical) into its parts.</summary>
    public static (string Url, string? Version) SplitCanonical(string canonical)
    {
        var bar = canonical.IndexOf('|');
        return bar < 0 ? (canonical, null) : (canonical[..bar], bar + 1 < canonical.Length ? canonical[(bar + 1)..] : null);
    }
}
