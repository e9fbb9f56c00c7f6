using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Tests.External;

/// <summary>A mistaken "Ignis:External" section stops the start with a message that names the key to fix.</summary>
public sealed class ExternalConfigurationTests
{
    public static TheoryData<string[], string> Mistakes => new()
    {
        { ["--Ignis:External:Providers:corp:Authority=http://idp.example.org", "--Ignis:External:Providers:corp:ClientId=x"],
            "Ignis:External:Providers:corp:Authority must be the provider's https issuer URL (plain http only on a loopback address)" },
        { ["--Ignis:External:Providers:Corp:Authority=https://idp.example.org", "--Ignis:External:Providers:Corp:ClientId=x"],
            "Ignis:External:Providers:Corp: the name must be lower-case" },
        { ["--Ignis:External:Issuers:corp:Issuer=https://idp.example.org", "--Ignis:External:Issuers:corp:JwksUri=http://idp.example.org/jwks",
           "--Ignis:External:Issuers:corp:Audiences:0=fhir", "--Ignis:External:Issuers:corp:Scopes=user/*.rs"],
            "Ignis:External:Issuers:corp:JwksUri must be an https URL (plain http only on a loopback address)" },
        { ["--Ignis:External:Issuers:corp:Issuer=https://idp.example.org", "--Ignis:External:Issuers:corp:JwksUri=https://idp.example.org/jwks",
           "--Ignis:External:Issuers:corp:Audiences:0=fhir", "--Ignis:External:Issuers:corp:Scopes=user/*.rs", "--Ignis:External:Issuers:corp:Algorithms:0=HS256"],
            "Ignis:External:Issuers:corp:Algorithms: HS256 is not allowed" },
        { ["--Ignis:External:Issuers:corp:Issuer=https://idp.example.org", "--Ignis:External:Issuers:corp:JwksUri=https://idp.example.org/jwks",
           "--Ignis:External:Issuers:corp:Scopes=user/*.rs"],
            "Ignis:External:Issuers:corp:Audiences must name at least one audience" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task The_server_refuses_to_start_and_names_the_key(string[] args, string message)
    {
        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await (await IgnisServer.StartAsync(args)).DisposeAsync());
        error.Message.ShouldContain(message);
    }
}
