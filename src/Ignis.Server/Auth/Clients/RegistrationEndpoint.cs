using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

/// <summary>
/// Dynamic client registration: RFC 7591 at POST /oauth/register and RFC 7592 management (GET, PUT, DELETE at the
/// registration_client_uri with the registration access token). The HTTP side only; the rules live in
/// <see cref="ClientRegistry"/>.
/// </summary>
public sealed class RegistrationEndpoint(
    ClientRegistry registry,
    IgnisApplicationManager applications,
    UserManager<IgnisUser> users,
    IOptionsMonitor<AuthOptions> options,
    Ignis.Server.Audit.SecurityLog log)
{
    public const string Path = "/oauth/register";
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>RFC 7591 §3.1: registers a client; 201 with the client information response (§3.2.1).</summary>
    public async Task<IResult> RegisterAsync(HttpContext http)
    {
        var (registrant, refusal) = await IdentifyRegistrantAsync(http);
        if (refusal is not null) return refusal;
        var (body, invalid) = await ReadBodyAsync(http);
        if (invalid is not null) return invalid;

        var metadata = ClientMetadataJson.Read(body!, out var error);
        if (error is not null) return Error(error);
        var result = await registry.RegisterAsync(metadata, registrant!, http.RequestAborted);
        if (!result.Succeeded) return Error(result.Error!);
        await RecordAsync(http, Ignis.Server.Audit.SecurityEventKind.ClientRegistered, registrant!, result.Client!, $"RFC 7591 registration ({registrant!.Kind}); status {result.Client!.Status}");
        return Information(http, result, StatusCodes.Status201Created);
    }

    /// <summary>RFC 7592 §2.1: reads the client's current registration.</summary>
    public async Task<IResult> ReadAsync(HttpContext http, string clientId)
    {
        var (client, refusal) = await AuthenticateClientAsync(http, clientId);
        if (refusal is not null) return refusal;
        return Information(http, new ClientResult(client, null), StatusCodes.Status200OK);
    }

    /// <summary>RFC 7592 §2.2: replaces the client's metadata; fields left out are removed.</summary>
    public async Task<IResult> UpdateAsync(HttpContext http, string clientId)
    {
        var (client, refusal) = await AuthenticateClientAsync(http, clientId);
        if (refusal is not null) return refusal;
        var (body, invalid) = await ReadBodyAsync(http);
        if (invalid is not null) return invalid;

        // §2.2: the request names the client, and a client_secret it sends must be the current one.
        if (body!["client_id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String || id.GetValue<string>() != client!.ClientId)
            return Error(ClientError.InvalidMetadata("The update must carry 'client_id', equal to this client's id."));
        if (body["client_secret"] is { } sent)
        {
            var application = await applications.FindByClientIdAsync(clientId, http.RequestAborted);
            if (sent.GetValueKind() != JsonValueKind.String || application is null
                || !await applications.ValidateClientSecretAsync(application, sent.GetValue<string>(), http.RequestAborted))
                return Error(ClientError.InvalidMetadata("'client_secret' does not match the client's current secret."));
        }
        var metadata = ClientMetadataJson.Read(body, out var error);
        if (error is not null) return Error(error);
        var result = await registry.UpdateAsync(clientId, metadata, Registrant.Client, http.RequestAborted);
        if (!result.Succeeded) return result.Error!.Code == ClientError.NotFoundCode ? InvalidToken(http) : Error(result.Error);
        await RecordAsync(http, Ignis.Server.Audit.SecurityEventKind.ClientChanged, Registrant.Client, result.Client!, $"RFC 7592 update; status {result.Client!.Status}");
        return Information(http, result, StatusCodes.Status200OK);
    }

    /// <summary>RFC 7592 §2.3: deletes the client and revokes everything it holds; 204.</summary>
    public async Task<IResult> DeleteAsync(HttpContext http, string clientId)
    {
        var (_, refusal) = await AuthenticateClientAsync(http, clientId);
        if (refusal is not null) return refusal;
        var result = await registry.DeleteAsync(clientId, http.RequestAborted);
        if (!result.Succeeded) return InvalidToken(http);
        await RecordAsync(http, Ignis.Server.Audit.SecurityEventKind.ClientDeleted, Registrant.Client, result.Client!, "RFC 7592 delete; every token revoked");
        NoStore(http);
        return Results.NoContent();
    }

    /// <summary>The security log entry of a registration change: the user behind it (if any), or the client itself.</summary>
    private async Task RecordAsync(HttpContext http, Ignis.Server.Audit.SecurityEventKind kind, Registrant registrant, RegisteredClient client, string detail)
    {
        var app = new Ignis.Server.Audit.SecurityParty(client.ClientId, client.Metadata.ClientName ?? client.ClientId);
        var user = registrant.UserId is { Length: > 0 } id && await users.FindByIdAsync(id) is { } u ? new Ignis.Server.Audit.SecurityParty(u.Id, u.UserName ?? u.Id) : null;
        log.Record(http, new Ignis.Server.Audit.SecurityEvent(kind)
        {
            User = user,
            Client = registrant.Kind == RegistrantKind.Client ? app : null,
            TargetClient = app,
            Detail = detail,
        });
    }

    /// <summary>
    /// Who registers: a holder of an initial access token, a developer (or administrator) signed in with the session
    /// cookie, or, where registration is open, anyone.
    /// </summary>
    private async Task<(Registrant?, IResult?)> IdentifyRegistrantAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return (null, Challenge(http, "invalid_request", "Only Bearer credentials are accepted here."));
            var token = header["Bearer ".Length..].Trim();
            if (IsInitialAccessToken(token)) return (Registrant.InitialAccessToken, null);
            // A user's access token is not accepted: it was issued to an app, for the FHIR API, and whatever its scopes
            // say, the app holding it must not register clients in the user's name.
            return (null, Challenge(http, Errors.InvalidToken,
                "The bearer token is not an initial access token. Developers register signed in (the session cookie), not with an app's access token."));
        }

        var session = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Succeeded && await users.GetUserAsync(session.Principal!) is { } user)
        {
            var (registrant, refusal) = await AsUserAsync(user);
            if (registrant is not null || options.CurrentValue.Registration.Open != true) return (registrant, refusal);
        }
        if (options.CurrentValue.Registration.Open == true) return (Registrant.Anonymous, null);
        return (null, Challenge(http, null, "Registration needs an initial access token (Authorization: Bearer ...) or a signed-in developer."));
    }

    private async Task<(Registrant?, IResult?)> AsUserAsync(IgnisUser user)
    {
        if (await users.IsInRoleAsync(user, IgnisRoles.Admin)) return (Registrant.Administrator(user.Id), null);
        if (await users.IsInRoleAsync(user, IgnisRoles.Developer)) return (Registrant.Developer(user.Id), null);
        return (null, Results.Json(new { error = Errors.AccessDenied, error_description = "Registering clients needs the developer role." },
            statusCode: StatusCodes.Status403Forbidden));
    }

    private bool IsInitialAccessToken(string token)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var match = false;
        foreach (var configured in options.CurrentValue.Registration.InitialAccessTokens)
            match |= CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
        return match;
    }

    /// <summary>RFC 7592 §1: the registration access token, checked against the client named in the URL.</summary>
    private async Task<(RegisteredClient?, IResult?)> AuthenticateClientAsync(HttpContext http, string clientId)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return (null, Challenge(http, null, "Send the registration access token: Authorization: Bearer ..."));
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return (null, Challenge(http, "invalid_request", "Only Bearer credentials are accepted here."));
        var client = await registry.AuthenticateRegistrationAsync(clientId, header["Bearer ".Length..].Trim(), http.RequestAborted);
        // §2.1: an unknown client and a wrong token get the same 401, so neither reveals which clients exist.
        return client is null ? (null, InvalidToken(http)) : (client, null);
    }

    private static IResult InvalidToken(HttpContext http) =>
        Challenge(http, Errors.InvalidToken, "The registration access token is not valid for this client.");

    private static async Task<(JsonObject?, IResult?)> ReadBodyAsync(HttpContext http)
    {
        if (http.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return (null, Error(ClientError.InvalidMetadata("Send the client metadata as a JSON object (Content-Type: application/json).")));
        if (http.Request.ContentLength > MaxBodyBytes)
            return (null, Error(ClientError.InvalidMetadata($"The client metadata is larger than {MaxBodyBytes} bytes.")));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
                return (null, Error(ClientError.InvalidMetadata($"The client metadata is larger than {MaxBodyBytes} bytes.")));
        }
        try
        {
            if (JsonNode.Parse(buffer.ToArray()) is JsonObject body) return (body, null);
        }
        catch (JsonException)
        {
        }
        return (null, Error(ClientError.InvalidMetadata("The body is not a JSON object.")));
    }

    /// <summary>RFC 7591 §3.2.1 (and RFC 7592 §3): the registered metadata, plus what was issued now.</summary>
    private static IResult Information(HttpContext http, ClientResult result, int status)
    {
        var client = result.Client!;
        var json = ClientMetadataJson.Write(client, RegistrationClientUri(http, client.ClientId));
        if (result.ClientSecret is { } secret) json["client_secret"] = secret;
        if (result.RegistrationAccessToken is { } token) json["registration_access_token"] = token;
        NoStore(http);
        return Results.Json(json, statusCode: status);
    }

    public static string RegistrationClientUri(HttpContext http, string clientId) =>
        SmartDiscovery.Origin(http) + Path + "/" + Uri.EscapeDataString(clientId);

    /// <summary>RFC 7591 §3.2.2: 400 with the error code and description.</summary>
    private static IResult Error(ClientError error) =>
        Results.Json(new { error = error.Code, error_description = error.Description }, statusCode: error.Code == ClientError.NotFoundCode ? 404 : 400);

    /// <summary>RFC 6750 §3: 401 with a Bearer challenge (an error code only when credentials were sent).</summary>
    private static IResult Challenge(HttpContext http, string? error, string description)
    {
        var realm = SmartDiscovery.Origin(http);
        http.Response.Headers.WWWAuthenticate = error is null
            ? $"Bearer realm=\"{realm}\""
            : $"Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\"";
        NoStore(http);
        return Results.Json(new { error = error ?? Errors.InvalidRequest, error_description = description }, statusCode: StatusCodes.Status401Unauthorized);
    }

    private static void NoStore(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
    }
}
