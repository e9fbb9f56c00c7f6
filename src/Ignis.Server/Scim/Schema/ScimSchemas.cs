using System.Text.Json.Nodes;

namespace Ignis.Server.Scim.Schema;

/// <summary>The schemas and resource types this server serves (RFC 7643 §4, §8.7).</summary>
public static class ScimSchemas
{
    public const string UserUrn = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string GroupUrn = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseUserUrn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    /// <summary>Ignis's own extension: the FHIR resource the user is (fhirUser) and the Ignis roles.</summary>
    public const string IgnisUserUrn = "urn:ietf:params:scim:schemas:extension:ignis:2.0:User";

    public const string ListResponseUrn = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string SearchRequestUrn = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    public const string PatchOpUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ErrorUrn = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ServiceProviderConfigUrn = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceTypeUrn = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string SchemaUrn = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    private static ScimAttribute Str(string name, string description, bool caseExact = false) =>
        new(name) { Description = description, CaseExact = caseExact };

    private static ScimAttribute Primary => new("primary", ScimType.Boolean)
    {
        Description = "Whether this is the primary value of the attribute; true at most once.",
    };

    private static ScimAttribute MultiValue(string name, string description, string[] types, ScimType valueType = ScimType.String, string[]? referenceTypes = null) =>
        new(name, ScimType.Complex)
        {
            MultiValued = true,
            Description = description,
            SubAttributes =
            [
                new("value", valueType) { Description = "The value.", ReferenceTypes = referenceTypes ?? [] },
                Str("display", "A human-readable name, primarily used for display purposes."),
                new("type") { Description = "A label indicating the attribute's function.", CanonicalValues = types },
                Primary,
            ],
        };

    /// <summary>id, externalId and meta: on every resource, outside any schema (RFC 7643 §3.1).</summary>
    public static readonly IReadOnlyList<ScimAttribute> Common =
    [
        new("schemas", ScimType.Reference)
        {
            Description = "The schema URNs the resource uses.", MultiValued = true,
            CaseExact = true, Mutability = Mutability.ReadOnly, Returned = Returned.Always, ReferenceTypes = ["uri"],
        },
        new("id")
        {
            Description = "Unique identifier for the resource, assigned by the service provider.",
            CaseExact = true, Mutability = Mutability.ReadOnly, Returned = Returned.Always, Uniqueness = Uniqueness.Server,
        },
        Str("externalId", "An identifier for the resource as defined by the provisioning client.", caseExact: true),
        new("meta", ScimType.Complex)
        {
            Description = "Resource metadata.",
            Mutability = Mutability.ReadOnly,
            SubAttributes =
            [
                new("resourceType") { CaseExact = true, Mutability = Mutability.ReadOnly, Description = "The name of the resource type." },
                new("created", ScimType.DateTime) { Mutability = Mutability.ReadOnly, Description = "When the resource was added." },
                new("lastModified", ScimType.DateTime) { Mutability = Mutability.ReadOnly, Description = "When the resource was last changed." },
                new("location", ScimType.Reference) { CaseExact = true, Mutability = Mutability.ReadOnly, ReferenceTypes = ["uri"], Description = "The URI of the resource." },
                new("version") { CaseExact = true, Mutability = Mutability.ReadOnly, Description = "The version (entity tag) of the resource." },
            ],
        },
    ];

    public static readonly ScimSchema User = new(UserUrn, "User", "User Account",
    [
        new("userName")
        {
            Required = true, Uniqueness = Uniqueness.Server,
            Description = "Unique identifier for the User, used to sign in. Case-insensitive; letters, digits and - . _ @ + only.",
        },
        new("name", ScimType.Complex)
        {
            Description = "The components of the user's real name.",
            SubAttributes =
            [
                Str("formatted", "The full name, formatted for display."),
                Str("familyName", "The family name."),
                Str("givenName", "The given name."),
                Str("middleName", "The middle name(s)."),
                Str("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
                Str("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
            ],
        },
        Str("displayName", "The name of the User, suitable for display to end-users."),
        Str("nickName", "The casual way to address the user."),
        new("profileUrl", ScimType.Reference) { ReferenceTypes = ["external"], Description = "A URI of the user's online profile." },
        Str("title", "The user's title, such as 'Vice President'."),
        Str("userType", "Used to identify the relationship between the organization and the user."),
        Str("preferredLanguage", "The preferred written or spoken language (RFC 7231 Accept-Language form)."),
        Str("locale", "The default location for localizing, e.g. 'en-US'."),
        Str("timezone", "The time zone in IANA form, e.g. 'Europe/Amsterdam'."),
        new("active", ScimType.Boolean) { Description = "Whether the user may sign in. false disables the account and ends its tokens and sessions." },
        new("password")
        {
            Mutability = Mutability.WriteOnly, Returned = Returned.Never,
            Description = "The password; follows the server's password policy, stored hashed, never returned.",
        },
        MultiValue("emails", "Email addresses for the user.", ["work", "home", "other"]),
        MultiValue("phoneNumbers", "Phone numbers for the user.", ["work", "home", "mobile", "fax", "pager", "other"]),
        MultiValue("ims", "Instant messaging addresses for the user.", ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        MultiValue("photos", "URLs of photos of the user.", ["photo", "thumbnail"], ScimType.Reference, ["external"]),
        new("addresses", ScimType.Complex)
        {
            MultiValued = true,
            Description = "Physical mailing addresses for this user.",
            SubAttributes =
            [
                Str("formatted", "The full mailing address, formatted for display."),
                Str("streetAddress", "The full street address component."),
                Str("locality", "The city or locality component."),
                Str("region", "The state or region component."),
                Str("postalCode", "The zip code or postal code component."),
                Str("country", "The country name component (ISO 3166-1 alpha-2)."),
                new("type") { Description = "A label indicating the attribute's function.", CanonicalValues = ["work", "home", "other"] },
                Primary,
            ],
        },
        new("groups", ScimType.Complex)
        {
            MultiValued = true, Mutability = Mutability.ReadOnly,
            Description = "The groups (Ignis roles) the user belongs to. Change them through the Group resources or the Ignis extension's roles.",
            SubAttributes =
            [
                new("value") { Mutability = Mutability.ReadOnly, Description = "The id of the group." },
                new("$ref", ScimType.Reference) { Mutability = Mutability.ReadOnly, ReferenceTypes = ["Group"], Description = "The URI of the group." },
                new("display") { Mutability = Mutability.ReadOnly, Description = "The name of the group." },
                new("type") { Mutability = Mutability.ReadOnly, CanonicalValues = ["direct", "indirect"], Description = "How the membership is derived." },
            ],
        },
        MultiValue("entitlements", "A list of entitlements for the user (stored, not interpreted by Ignis).", []),
        MultiValue("roles", "A list of roles for the user (stored, not interpreted: Ignis roles are in the Ignis extension).", []),
        MultiValue("x509Certificates", "A list of certificates issued to the user.", [], ScimType.Binary),
    ]);

    public static readonly ScimSchema EnterpriseUser = new(EnterpriseUserUrn, "EnterpriseUser", "Enterprise User",
    [
        Str("employeeNumber", "A string identifier, typically numeric or alphanumeric, assigned to a person."),
        Str("costCenter", "Identifies the name of a cost center."),
        Str("organization", "Identifies the name of an organization."),
        Str("division", "Identifies the name of a division."),
        Str("department", "Identifies the name of a department."),
        new("manager", ScimType.Complex)
        {
            Description = "The user's manager.",
            SubAttributes =
            [
                new("value") { Description = "The id of the manager's User resource." },
                new("$ref", ScimType.Reference) { ReferenceTypes = ["User"], Description = "The URI of the manager's User resource." },
                new("displayName") { Mutability = Mutability.ReadOnly, Description = "The display name of the manager." },
            ],
        },
    ]);

    public static readonly ScimSchema IgnisUser = new(IgnisUserUrn, "IgnisUser", "Ignis user: FHIR identity and roles",
    [
        new("fhirUser")
        {
            CaseExact = true,
            Description = "The FHIR resource that represents the user, relative to the FHIR base (Patient/123, Practitioner/abc); "
                + "an absolute URL under this server's FHIR base is accepted and stored relative.",
        },
        new("roles")
        {
            MultiValued = true,
            CanonicalValues = Data.IgnisRoles.All,
            Description = "The Ignis roles of the user (the same as Group membership).",
        },
    ]);

    public static readonly ScimSchema Group = new(GroupUrn, "Group", "Group: one per Ignis role; membership is the role",
    [
        new("displayName") { Required = true, Uniqueness = Uniqueness.Server, Description = "The role name (admin, developer, clinician, patient)." },
        new("members", ScimType.Complex)
        {
            MultiValued = true,
            Description = "The users that have the role.",
            SubAttributes =
            [
                new("value") { CaseExact = true, Mutability = Mutability.Immutable, Description = "The id of the User." },
                new("$ref", ScimType.Reference) { Mutability = Mutability.Immutable, ReferenceTypes = ["User"], Description = "The URI of the User." },
                new("display") { Mutability = Mutability.ReadOnly, Description = "The user name of the member." },
                new("type") { Mutability = Mutability.Immutable, CanonicalValues = ["User"], Description = "The type of the member (User)." },
            ],
        },
    ]);

    public static readonly ScimResourceType UserType = new("User", "/Users", "User Account", User, [EnterpriseUser, IgnisUser]);
    public static readonly ScimResourceType GroupType = new("Group", "/Groups", "Group (Ignis role)", Group, []);
    public static readonly IReadOnlyList<ScimResourceType> ResourceTypes = [UserType, GroupType];
    public static readonly IReadOnlyList<ScimSchema> All = [User, EnterpriseUser, IgnisUser, Group];

    /// <summary>The /Schemas representation of a schema (RFC 7643 §7).</summary>
    public static JsonObject ToJson(ScimSchema schema, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(SchemaUrn),
        ["id"] = schema.Id,
        ["name"] = schema.Name,
        ["description"] = schema.Description,
        ["attributes"] = new JsonArray([.. schema.Attributes.Select(AttributeJson)]),
        ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{baseUrl}/Schemas/{schema.Id}" },
    };

    public static JsonObject ToJson(ScimResourceType type, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ResourceTypeUrn),
        ["id"] = type.Id,
        ["name"] = type.Id,
        ["endpoint"] = type.Endpoint,
        ["description"] = type.Description,
        ["schema"] = type.Schema.Id,
        ["schemaExtensions"] = new JsonArray([.. type.Extensions.Select(e => (JsonNode)new JsonObject { ["schema"] = e.Id, ["required"] = false })]),
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/ResourceTypes/{type.Id}" },
    };

    private static JsonNode AttributeJson(ScimAttribute a)
    {
        var json = new JsonObject
        {
            ["name"] = a.Name,
            ["type"] = TypeName(a.Type),
            ["multiValued"] = a.MultiValued,
            ["description"] = a.Description,
            ["required"] = a.Required,
            ["caseExact"] = a.CaseExact,
            ["mutability"] = a.Mutability switch
            {
                Mutability.ReadOnly => "readOnly", Mutability.Immutable => "immutable", Mutability.WriteOnly => "writeOnly", _ => "readWrite",
            },
            ["returned"] = a.Returned switch { Returned.Always => "always", Returned.Never => "never", Returned.Request => "request", _ => "default" },
            ["uniqueness"] = a.Uniqueness switch { Uniqueness.Server => "server", Uniqueness.Global => "global", _ => "none" },
        };
        if (a.CanonicalValues.Count > 0) json["canonicalValues"] = new JsonArray([.. a.CanonicalValues.Select(v => (JsonNode)v)]);
        if (a.ReferenceTypes.Count > 0) json["referenceTypes"] = new JsonArray([.. a.ReferenceTypes.Select(v => (JsonNode)v)]);
        if (a.SubAttributes.Count > 0) json["subAttributes"] = new JsonArray([.. a.SubAttributes.Select(AttributeJson)]);
        return json;
    }

    public static string TypeName(ScimType type) => type switch
    {
        ScimType.DateTime => "dateTime",
        _ => type.ToString().ToLowerInvariant(),
    };
}
