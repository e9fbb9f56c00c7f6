using System.Text.Json.Nodes;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim;

/// <summary>The scimType values of RFC 7644 §3.12 (Table 9).</summary>
public static class ScimErrorType
{
    public const string InvalidFilter = "invalidFilter";
    public const string TooMany = "tooMany";
    public const string Uniqueness = "uniqueness";
    public const string Mutability = "mutability";
    public const string InvalidSyntax = "invalidSyntax";
    public const string InvalidPath = "invalidPath";
    public const string NoTarget = "noTarget";
    public const string InvalidValue = "invalidValue";
    public const string InvalidVersion = "invalidVers";
    public const string Sensitive = "sensitive";
}

/// <summary>
/// A request the SCIM service refuses: answered with the RFC 7644 §3.12 error body
/// (urn:ietf:params:scim:api:messages:2.0:Error) and the status it carries. Never a 500.
/// </summary>
public sealed class ScimException(int status, string? scimType, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string? ScimType { get; } = scimType;
    public string Detail { get; } = detail;

    /// <summary>The WWW-Authenticate challenge of a 401 or 403 (RFC 6750 §3).</summary>
    public string? Challenge { get; init; }

    public JsonObject ToJson()
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ErrorUrn),
            ["status"] = Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (ScimType is not null) body["scimType"] = ScimType;
        body["detail"] = Detail;
        return body;
    }

    public static ScimException BadRequest(string scimType, string detail) => new(400, scimType, detail);
    public static ScimException NotFound(string detail) => new(404, null, detail);
    public static ScimException Conflict(string detail) => new(409, ScimErrorType.Uniqueness, detail);
    public static ScimException PreconditionFailed(string detail) => new(412, null, detail);
}
