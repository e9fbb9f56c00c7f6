using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Tests.External;

/// <summary>
/// JWTs from a trusted external issuer (a real oidc-provider, signing with its own published keys) as bearer tokens on
/// the FHIR API: accepted and mapped to the local user named by preferred_username, with the issuer's scopes
/// (user/*.rs) intersected with that user's rights; refused with 401 invalid_token for every way such a token can fail.
/// </summary>
public sealed class ExternalBearerTokenTests(ExternalIdentityFixture fixture) : IClassFixture<ExternalIdentityFixture>
{
    private IgnisServer Server => fixture.Server;
    private ExternalIdp Idp => fixture.Idp;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private Dictionary<string, object> Claims(string user, long? exp = null) => new()
    {
        ["iss"] = Idp.Issuer,
        ["aud"] = ExternalIdentityFixture.Audience,
        ["sub"] = "ext-" + user,
        ["preferred_username"] = user,
        ["iat"] = Now,
        ["exp"] = exp ?? Now + 300,
    };

    private async Task<HttpResponseMessage> ReadAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    private static async Task ShouldBeOkAsync(HttpResponseMessage response) =>
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

    private static async Task ShouldBeInvalidTokenAsync(HttpResponseMessage response)
    {
        await response.ShouldBeOutcomeAsync(401);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task A_patient_users_external_token_reads_her_own_record_and_nothing_else()
    {
        var token = await Idp.MintAsync(Claims("alice"));

        await ShouldBeOkAsync(await ReadAsync("Patient/alice", token));
        await ShouldBeOkAsync(await ReadAsync("Observation?patient=alice", token));
        // user/*.rs ∩ a patient's rights: dave's record is outside her compartment.
        await (await ReadAsync("Patient/dave", token)).ShouldBeOutcomeAsync(404);
    }

    [Fact]
    public async Task A_clinicians_external_token_signed_es256_reads_any_patient_but_cannot_write()
    {
        var token = await Idp.MintAsync(Claims("carol"), key: "ec");

        await ShouldBeOkAsync(await ReadAsync("Patient/dave", token));
        await ShouldBeOkAsync(await ReadAsync("Patient/alice", token));
        using var request = new HttpRequestMessage(HttpMethod.Post, "Patient") { Content = Http.Json("{\"resourceType\":\"Patient\"}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // The issuer's scopes are read-only (user/*.rs): a write is forbidden whatever the clinician may do.
        await (await Server.Client.SendAsync(request)).ShouldBeOutcomeAsync(403);
    }

    [Fact]
    public async Task The_issuers_keys_are_fetched_once_and_reused_for_later_tokens()
    {
        await ShouldBeOkAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(Claims("alice"))));
        var fetches = await Idp.JwksFetchesAsync();
        for (var i = 0; i < 3; i++)
            await ShouldBeOkAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(With(Claims("alice"), "jti", $"reuse-{i}"))));
        (await Idp.JwksFetchesAsync()).ShouldBe(fetches);
    }

    /// <summary>Each way to fail, and what the OperationOutcome says (so each row fails for its own reason).</summary>
    public static TheoryData<string, string> Failures => new()
    {
        { "bad signature", "signature is not valid" },
        { "wrong iss", "not valid" },
        { "wrong aud", "another audience" },
        { "expired", "expired" },
        { "nbf in the future", "not valid yet" },
        { "no exp", "no expiry" },
        { "unknown user", "user is not known" },
        { "alg none", "algorithm (none) is not accepted" },
        { "HS256 with the public key as secret", "algorithm (HS256) is not accepted" },
        { "RS256 with a key the issuer does not publish", "signing key is not one the issuer publishes" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task An_external_token_is_refused_with_invalid_token_when(string failure, string diagnostics)
    {
        // The same user and issuer succeed with a sound token, so each row fails for its own reason only.
        await ShouldBeOkAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(Claims("alice"))));

        var claims = Claims("alice");
        var token = failure switch
        {
            "bad signature" => Tamper(await Idp.MintAsync(claims)),
            "wrong iss" => await Idp.MintAsync(With(claims, "iss", "https://idp.example.org")),
            "wrong aud" => await Idp.MintAsync(With(claims, "aud", Server.FhirBase)),
            "expired" => await Idp.MintAsync(With(claims, "exp", Now - 120)),
            "nbf in the future" => await Idp.MintAsync(With(claims, "nbf", Now + 120)),
            "no exp" => await Idp.MintAsync(Without(claims, "exp")),
            "unknown user" => await Idp.MintAsync(With(claims, "preferred_username", "nobody")),
            "alg none" => Unsigned(claims),
            "HS256 with the public key as secret" => await HmacWithPublicKeyAsync(claims),
            "RS256 with a key the issuer does not publish" => await Idp.MintAsync(claims, key: "stranger"),
            _ => throw new ArgumentOutOfRangeException(nameof(failure)),
        };
        var response = await ReadAsync("Patient/alice", token);
        await ShouldBeInvalidTokenAsync(response);
        (await response.Content.ReadAsStringAsync()).ShouldContain(diagnostics);
    }

    [Fact]
    public async Task An_unknown_kid_makes_the_server_fetch_the_jwks_uri_once_more_and_then_refuse()
    {
        await ShouldBeOkAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(Claims("alice"))));
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // the fixture's JwksUriRefetchInterval
        var before = await Idp.JwksFetchesAsync();

        await ShouldBeInvalidTokenAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(Claims("alice"), key: "stranger")));
        (await Idp.JwksFetchesAsync()).ShouldBe(before + 1);

        // A second unknown kid right after does not make it fetch again (no fetch loop for made-up kids).
        await ShouldBeInvalidTokenAsync(await ReadAsync("Patient/alice", await Idp.MintAsync(With(Claims("alice"), "jti", "2"), key: "stranger")));
        (await Idp.JwksFetchesAsync()).ShouldBe(before + 1);
    }

    [Fact]
    public async Task A_disabled_or_locked_out_user_is_refused()
    {
        using var scope = Server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        var dave = (await users.FindByNameAsync("dave"))!;
        await ShouldBeOkAsync(await ReadAsync("Patient/dave", await Idp.MintAsync(Claims("dave"))));

        dave.Active = false;
        (await users.UpdateAsync(dave)).Succeeded.ShouldBeTrue();
        await ShouldBeInvalidTokenAsync(await ReadAsync("Patient/dave", await Idp.MintAsync(With(Claims("dave"), "jti", "disabled"))));
        dave.Active = true;
        (await users.UpdateAsync(dave)).Succeeded.ShouldBeTrue();

        (await users.SetLockoutEndDateAsync(dave, DateTimeOffset.UtcNow.AddHours(1))).Succeeded.ShouldBeTrue();
        await ShouldBeInvalidTokenAsync(await ReadAsync("Patient/dave", await Idp.MintAsync(With(Claims("dave"), "jti", "locked"))));
        (await users.SetLockoutEndDateAsync(dave, null)).Succeeded.ShouldBeTrue();

        await ShouldBeOkAsync(await ReadAsync("Patient/dave", await Idp.MintAsync(With(Claims("dave"), "jti", "again"))));
    }

    [Fact]
    public async Task Tokens_issued_before_the_user_was_signed_out_everywhere_stop_working_and_later_ones_work()
    {
        var before = await Idp.MintAsync(With(Claims("dave"), "iat", Now - 5));
        await ShouldBeOkAsync(await ReadAsync("Patient/dave", before));

        using (var scope = Server.Services.CreateScope())
        {
            var dave = (await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync("dave"))!;
            await scope.ServiceProvider.GetRequiredService<GrantRevocation>().SignOutEverywhereAsync(dave.Id);
        }
        await Task.Delay(ValidatedTokenCacheLifetime);

        await ShouldBeInvalidTokenAsync(await ReadAsync("Patient/dave", before));
        var after = await Idp.MintAsync(With(Claims("dave"), "iat", Now + 1));
        await ShouldBeOkAsync(await ReadAsync("Patient/dave", after));
    }

    private static readonly TimeSpan ValidatedTokenCacheLifetime = Ignis.Server.Fhir.ValidatedTokenCache.Lifetime + TimeSpan.FromMilliseconds(200);

    private static Dictionary<string, object> With(Dictionary<string, object> claims, string name, object value) =>
        new(claims) { [name] = value };

    private static Dictionary<string, object> Without(Dictionary<string, object> claims, string name)
    {
        var copy = new Dictionary<string, object>(claims);
        copy.Remove(name);
        return copy;
    }

    /// <summary>The payload changed after signing (alice's token claiming to be carol's), the signature kept.</summary>
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"alice\"", "\"carol\"");
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    private string Unsigned(Dictionary<string, object> claims) =>
        $"{Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Base64UrlEncoder.Encode(System.Text.Json.JsonSerializer.Serialize(claims))}.";

    /// <summary>The classic key confusion: HS256 with the issuer's published RSA key (its JWK JSON) as the HMAC secret.</summary>
    private async Task<string> HmacWithPublicKeyAsync(Dictionary<string, object> claims)
    {
        using var http = new HttpClient();
        var jwks = await http.GetStringAsync(Idp.JwksUri);
        var rsa = System.Text.Json.JsonDocument.Parse(jwks).RootElement.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("kty").GetString() == "RSA");
        var header = Base64UrlEncoder.Encode($"{{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"{rsa.GetProperty("kid").GetString()}\"}}");
        var payload = Base64UrlEncoder.Encode(System.Text.Json.JsonSerializer.Serialize(claims));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(rsa.GetRawText()), Encoding.ASCII.GetBytes(header + "." + payload));
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(mac)}";
    }
}
