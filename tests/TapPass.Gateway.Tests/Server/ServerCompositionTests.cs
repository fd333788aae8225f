using System.Collections;
using Microsoft.Extensions.Configuration;
using TapPass.Server;

namespace TapPass.Gateway.Tests.Server;

public sealed class ServerCompositionTests
{
    [Fact]
    public void Environment_TapPassVariables_MapToTheTapPassSection()
    {
        var builder = new ConfigurationBuilder();
        ServerComposition.AddTapPassEnvironment(builder, new Hashtable
        {
            ["TAPPASS_AUDIT__PATH"] = "/data/audit.db",
            ["TAPPASS_PROVIDER__KIND"] = "openai",
            ["TAPPASS_PROVIDER__MODELS__gpt-4o-mini"] = "llama3.1:8b",
            ["TAPPASS_KEYS__0__KEY"] = "tp_x",
            ["TAPPASS_KEYS__0__AGENTID"] = "bot",
            ["PATH"] = "/usr/bin",
        });

        var options = builder.Build().GetSection(ServerOptions.SectionName).Get<ServerOptions>()!;

        options.Audit.Path.Should().Be("/data/audit.db");
        options.Provider.Kind.Should().Be("openai");
        options.Provider.Models.Should().Contain("gpt-4o-mini", "llama3.1:8b");
        options.Keys.Should().ContainSingle().Which.AgentId.Should().Be("bot");
        options.Audit.CaptureContent.Should().BeFalse();
    }

    [Fact]
    public void GenerateKey_HasPrefixEntropyAndChecksum()
    {
        var keys = Enumerable.Range(0, 50).Select(_ => ServerComposition.GenerateKey()).ToList();

        keys.Should().OnlyHaveUniqueItems();
        keys.Should().OnlyContain(k => k.StartsWith("tp_") && k.Length == 52 && k.Skip(3).All(char.IsAsciiLetterOrDigit));
        keys.Should().OnlyContain(k => ServerComposition.HasValidChecksum(k));
        var tampered = keys[0][..10] + (keys[0][10] == 'a' ? 'b' : 'a') + keys[0][11..];
        ServerComposition.HasValidChecksum(tampered).Should().BeFalse();
    }

    [Theory]
    [InlineData("magic", null, null, "Kind")]
    [InlineData("openai", "ftp://x", "k", "BaseUrl")]
    [InlineData("openai", null, null, "ApiKey")]
    public void Validate_RejectsBadProviderSettings(string kind, string? baseUrl, string? apiKey, string mention)
    {
        var options = new ServerOptions { Provider = new ProviderOptions { Kind = kind, BaseUrl = baseUrl, ApiKey = apiKey } };

        ServerComposition.Validate(options).Should().Contain(mention);
    }

    [Fact]
    public void Validate_KeyNeedsExactlyOneSecretAndAnAgent()
    {
        ServerComposition.Validate(new ServerOptions { Keys = [new ApiKeyOptions { AgentId = "a" }] }).Should().NotBeNull();
        ServerComposition.Validate(new ServerOptions { Keys = [new ApiKeyOptions { Key = "tp_1", KeySha256 = "ab", AgentId = "a" }] }).Should().NotBeNull();
        ServerComposition.Validate(new ServerOptions { Keys = [new ApiKeyOptions { Key = "tp_1" }] }).Should().NotBeNull();
        ServerComposition.Validate(new ServerOptions { Keys = [new ApiKeyOptions { Key = "tp_1", AgentId = "a" }] }).Should().BeNull();
        ServerComposition.Validate(new ServerOptions()).Should().BeNull();
    }

    [Fact]
    public async Task Main_UnknownVerb_ReturnsUsageError()
    {
        (await Program.Main(["frobnicate"])).Should().Be(2);
        (await Program.Main(["help"])).Should().Be(0);
    }
}
