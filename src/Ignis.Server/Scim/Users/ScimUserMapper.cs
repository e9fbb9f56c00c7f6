using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ignis.Server.Data;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim.Users;

/// <summary>A role as a SCIM Group: its id and name.</summary>
public sealed record RoleRef(string Id, string Name);

/// <summary>What a SCIM User resource asks of an account beyond its columns: the roles and a new password.</summary>
public sealed record UserWrite(IReadOnlyList<string> Roles, string? Password);

/// <summary>
/// Maps an <see cref="IgnisUser"/> to its SCIM User resource and back. Columns hold what Ignis itself uses or
/// what clients filter on most (userName, externalId, active, name parts, displayName, emails, phone numbers,
/// fhirUser); the other attributes (nickName, title, addresses, the enterprise extension, ...) are kept as given
/// in one JSON column.
/// </summary>
public static partial class ScimUserMapper
{
    private static readonly string[] ColumnAttributes =
        ["id", "externalId", "meta", "userName", "name", "displayName", "active", "password", "emails", "phoneNumbers", "groups"];

    private static readonly (string Scim, Func<IgnisUser, string?> Get, Action<IgnisUser, string?> Set)[] NameParts =
    [
        ("formatted", u => u.FormattedName, (u, v) => u.FormattedName = v),
        ("familyName", u => u.FamilyName, (u, v) => u.FamilyName = v),
        ("givenName", u => u.GivenName, (u, v) => u.GivenName = v),
        ("middleName", u => u.MiddleName, (u, v) => u.MiddleName = v),
        ("honorificPrefix", u => u.HonorificPrefix, (u, v) => u.HonorificPrefix = v),
        ("honorificSuffix", u => u.HonorificSuffix, (u, v) => u.HonorificSuffix = v),
    ];

    public static string ETag(long version) => $"W/\"{version}\"";

    /// <summary>The full SCIM representation (every attribute the user has; never the password).</summary>
    public static JsonObject ToJson(IgnisUser user, IReadOnlyList<RoleRef> roles, string scimBase)
    {
        var json = new JsonObject { ["schemas"] = new JsonArray(ScimSchemas.UserUrn), ["id"] = user.Id };
        if (!string.IsNullOrEmpty(user.ExternalId)) json["externalId"] = user.ExternalId;
        json["userName"] = user.UserName;
        var name = new JsonObject();
        foreach (var (scim, get, _) in NameParts)
            if (get(user) is { Length: > 0 } v) name[scim] = v;
        if (name.Count > 0) json["name"] = name;
        if (!string.IsNullOrEmpty(user.DisplayName)) json["displayName"] = user.DisplayName;

        JsonObject? enterprise = null;
        if (Parse(user.ScimAttributesJson) is JsonObject extra)
        {
            foreach (var (key, value) in extra.ToList())
            {
                extra.Remove(key);
                if (key == ScimSchemas.EnterpriseUserUrn) enterprise = value as JsonObject;
                else json[key] = value;
            }
        }
        json["active"] = user.Active;
        if (Parse(user.EmailsJson) is JsonArray { Count: > 0 } emails) json["emails"] = emails;
        else if (!string.IsNullOrEmpty(user.Email)) json["emails"] = new JsonArray(new JsonObject { ["value"] = user.Email, ["primary"] = true });
        if (Parse(user.PhoneNumbersJson) is JsonArray { Count: > 0 } phones) json["phoneNumbers"] = phones;
        else if (!string.IsNullOrEmpty(user.PhoneNumber)) json["phoneNumbers"] = new JsonArray(new JsonObject { ["value"] = user.PhoneNumber, ["primary"] = true });
        if (roles.Count > 0)
            json["groups"] = new JsonArray([.. roles.Select(r => (JsonNode)new JsonObject
            {
                ["value"] = r.Id, ["$ref"] = $"{scimBase}/Groups/{r.Id}", ["display"] = r.Name, ["type"] = "direct",
            })]);

        var schemas = (JsonArray)json["schemas"]!;
        if (enterprise is { Count: > 0 })
        {
            schemas.Add(ScimSchemas.EnterpriseUserUrn);
            json[ScimSchemas.EnterpriseUserUrn] = enterprise;
        }
        var ignis = new JsonObject();
        if (!string.IsNullOrEmpty(user.FhirUser)) ignis["fhirUser"] = user.FhirUser;
        if (roles.Count > 0) ignis["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)r.Name)]);
        if (ignis.Count > 0)
        {
            schemas.Add(ScimSchemas.IgnisUserUrn);
            json[ScimSchemas.IgnisUserUrn] = ignis;
        }
        json["meta"] = new JsonObject
        {
            ["resourceType"] = "User",
            ["created"] = ScimJson.FormatDate(user.Created),
            ["lastModified"] = ScimJson.FormatDate(user.Modified),
            ["location"] = $"{scimBase}/Users/{user.Id}",
            ["version"] = ETag(user.Version),
        };
        return json;
    }

    /// <summary>
    /// Writes a canonical User resource (see <see cref="ScimJson.ReadResource"/>) onto the account. Attributes the
    /// resource leaves out become unassigned.
    /// </summary>
    public static UserWrite Apply(JsonObject resource, IgnisUser user, string fhirBase)
    {
        var userName = resource["userName"] is JsonValue u && u.GetValueKind() == JsonValueKind.String ? u.GetValue<string>().Trim() : "";
        if (userName.Length == 0) throw ScimException.BadRequest(ScimErrorType.InvalidValue, "userName is required.");
        user.UserName = userName;
        user.ExternalId = Text(resource["externalId"]);
        user.DisplayName = Text(resource["displayName"]);
        var name = resource["name"] as JsonObject;
        foreach (var (scim, _, set) in NameParts) set(user, Text(name?[scim]));
        if (resource["active"] is JsonValue active) user.Active = active.GetValue<bool>();

        var emails = resource["emails"] as JsonArray;
        user.EmailsJson = emails is { Count: > 0 } ? emails.ToJsonString() : null;
        user.Email = PrimaryValue(emails);
        var phones = resource["phoneNumbers"] as JsonArray;
        user.PhoneNumbersJson = phones is { Count: > 0 } ? phones.ToJsonString() : null;
        user.PhoneNumber = PrimaryValue(phones);

        var extra = new JsonObject();
        foreach (var attribute in ScimSchemas.User.Attributes)
            if (!ColumnAttributes.Contains(attribute.Name) && resource[attribute.Name] is { } value)
                extra[attribute.Name] = value.DeepClone();
        if (resource[ScimSchemas.EnterpriseUserUrn] is JsonObject { Count: > 0 } enterprise)
            extra[ScimSchemas.EnterpriseUserUrn] = enterprise.DeepClone();
        user.ScimAttributesJson = extra.Count > 0 ? extra.ToJsonString() : null;

        var ignis = resource[ScimSchemas.IgnisUserUrn] as JsonObject;
        user.FhirUser = FhirUser(Text(ignis?["fhirUser"]), fhirBase);
        var roles = new List<string>();
        foreach (var role in (ignis?["roles"] as JsonArray ?? []).Select(r => r!.GetValue<string>()))
        {
            var known = Data.IgnisRoles.All.FirstOrDefault(r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase))
                ?? throw ScimException.BadRequest(ScimErrorType.InvalidValue,
                    $"'{role}' is not an Ignis role; roles are {string.Join(", ", Data.IgnisRoles.All)}.");
            if (!roles.Contains(known)) roles.Add(known);
        }
        return new UserWrite(roles, Text(resource["password"]));
    }

    /// <summary>fhirUser relative to the FHIR base: Patient/123; an absolute URL under this server's base is accepted.</summary>
    public static string? FhirUser(string? value, string fhirBase)
    {
        if (value is null) return null;
        if (value.StartsWith(fhirBase + "/", StringComparison.Ordinal)) value = value[(fhirBase.Length + 1)..];
        if (!FhirUserPattern().IsMatch(value))
            throw ScimException.BadRequest(ScimErrorType.InvalidValue,
                $"fhirUser must be a Patient, Practitioner, PractitionerRole, RelatedPerson or Person reference such as Patient/123 (relative to {fhirBase}).");
        return value;
    }

    private static string? PrimaryValue(JsonArray? values)
    {
        var chosen = values?.OfType<JsonObject>().FirstOrDefault(ScimJson.IsPrimary) ?? values?.OfType<JsonObject>().FirstOrDefault();
        return Text(chosen?["value"]);
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s ? s : null;

    private static JsonNode? Parse(string? json) => string.IsNullOrEmpty(json) ? null : JsonNode.Parse(json);

    [GeneratedRegex("^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)/[A-Za-z0-9\\-.]{1,64}$")]
    private static partial Regex FhirUserPattern();
}
