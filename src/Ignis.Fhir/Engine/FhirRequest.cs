using Hl7.Fhir.Model;

namespace Ignis.Fhir.Engine;

public enum Interaction
{
    Capabilities, Read, VRead, Create, Update, ConditionalUpdate, Patch, ConditionalPatch, Delete, ConditionalDelete,
    SearchType, SearchSystem, SearchCompartment, HistoryInstance, HistoryType, HistorySystem, Bundle,
}

public enum PreferReturn { Representation, Minimal, OperationOutcome }

/// <summary>
/// One FHIR interaction, independent of HTTP: what the REST layer parses from a request and what a
/// batch or transaction entry becomes.
/// </summary>
public sealed class FhirRequest
{
    public required Interaction Interaction { get; init; }
    public required string Method { get; init; }
    public string? Type { get; init; }
    public string? Id { get; init; }
    public int? Version { get; init; }
    /// <summary>For compartment search: the compartment type (e.g. Patient); Id holds its id and Type the searched type.</summary>
    public string? CompartmentType { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; init; } = [];
    public Resource? Body { get; set; }

    /// <summary>
    /// The index rows of <see cref="Body"/>, extracted before the write gate is entered so that the serialized part
    /// of a write stays short; null when they must be extracted inside (the body changes after it was taken).
    /// </summary>
    internal Ignis.Fhir.Search.Indexing.ResourceIndex? PrecomputedIndex { get; set; }

    /// <summary>
    /// The JSON of an update's <see cref="Body"/>, serialized before the write gate with placeholders for its version and
    /// time; null when it must be serialized inside (as <see cref="PrecomputedIndex"/>, it goes when the body changes).
    /// </summary>
    internal Ignis.Fhir.Serialization.JsonTemplate? PrecomputedJson { get; set; }
    /// <summary>The raw body for a JSON Patch.</summary>
    public byte[]? PatchBody { get; init; }
    public string? IfMatch { get; init; }
    public string? IfNoneExist { get; init; }
    public string? IfNoneMatch { get; init; }
    public DateTimeOffset? IfModifiedSince { get; init; }
    public PreferReturn Prefer { get; init; } = PreferReturn.Representation;
    public bool StrictHandling { get; init; }

    /// <summary>Who asks and with which grant; null when access is not controlled (no authorization server, internal calls).</summary>
    public Ignis.Smart.Access.AccessContext? Access { get; init; }

    /// <summary>The access decision for this interaction, made by <see cref="FhirService"/> before it runs.</summary>
    public Ignis.Smart.Access.AccessDecision? Decision { get; internal set; }

    public string? QueryValue(string name) => Query.LastOrDefault(kv => kv.Key == name).Value;

    /// <summary>
    /// Works out the interaction from a method and a path relative to the FHIR base ("Patient/1/_history/2",
    /// "Patient?name=x"). Used by the REST layer and for Bundle entries. Returns null when nothing matches.
    /// </summary>
    public static (Interaction Interaction, string? Type, string? Id, int? Version, string? CompartmentType)? Route(string method, string[] segments)
    {
        var m = method.ToUpperInvariant();
        var read = m is "GET" or "HEAD";
        if (read && segments is [var vt, var vid, "_history", var v])
        {
            // A malformed version id becomes version 0, which never exists (404).
            var version = int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 0;
            return (Interaction.VRead, vt, vid, version, null);
        }
        return (m, segments) switch
        {
            ("GET" or "HEAD", []) => (Interaction.SearchSystem, null, null, null, null),
            ("POST", []) => (Interaction.Bundle, null, null, null, null),
            ("GET" or "HEAD", ["metadata"]) => (Interaction.Capabilities, null, null, null, null),
            ("GET" or "HEAD", ["_history"]) => (Interaction.HistorySystem, null, null, null, null),
            ("POST", ["_search"]) => (Interaction.SearchSystem, null, null, null, null),
            ("GET" or "HEAD", [var t]) => (Interaction.SearchType, t, null, null, null),
            ("POST", [var t]) => (Interaction.Create, t, null, null, null),
            ("PUT", [var t]) => (Interaction.ConditionalUpdate, t, null, null, null),
            ("PATCH", [var t]) => (Interaction.ConditionalPatch, t, null, null, null),
            ("DELETE", [var t]) => (Interaction.ConditionalDelete, t, null, null, null),
            ("POST", [var t, "_search"]) => (Interaction.SearchType, t, null, null, null),
            ("GET" or "HEAD", [var t, "_history"]) => (Interaction.HistoryType, t, null, null, null),
            ("GET" or "HEAD", [var t, var id]) => (Interaction.Read, t, id, null, null),
            ("PUT", [var t, var id]) => (Interaction.Update, t, id, null, null),
            ("PATCH", [var t, var id]) => (Interaction.Patch, t, id, null, null),
            ("DELETE", [var t, var id]) => (Interaction.Delete, t, id, null, null),
            ("GET" or "HEAD", [var t, var id, "_history"]) => (Interaction.HistoryInstance, t, id, null, null),
            ("GET" or "HEAD", [var c, var id, var t]) when !t.StartsWith('_') => (Interaction.SearchCompartment, t, id, null, c),
            ("POST", [var c, var id, var t, "_search"]) => (Interaction.SearchCompartment, t, id, null, c),
            _ => null,
        };
    }
}

/// <summary>The result of an interaction: status, body and the headers FHIR defines for it.</summary>
public sealed class FhirResponse
{
    public int Status { get; init; }
    /// <summary>A resource to serialize (Bundle, CapabilityStatement, a parsed resource).</summary>
    public Resource? Resource { get; init; }
    /// <summary>A stored version whose JSON can be sent as it is (the fast read path).</summary>
    public Storage.StoredResource? Stored { get; init; }
    public OperationOutcome? Outcome { get; init; }
    public string? Location { get; init; }
    public string? ETag { get; init; }
    public DateTimeOffset? LastModified { get; init; }

    public static FhirResponse Error(FhirException e) => new() { Status = (int)e.Status, Outcome = e.Outcome };

    public static string ETagFor(int version) => $"W/\"{version}\"";
}
