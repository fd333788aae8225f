using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests;

public sealed class TapPassOptionsTests
{
    private const string Key = "tp_0123456789abcdefghijABCDEFGHIJ";

    private static TapPassOptions Resolve(Dictionary<string, string?> configuration, Action<TapPassOptions>? configure = null, bool embedded = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        services.AddLogging();
        if (embedded)
        {
            services.AddSingleton<ITapPassTransport>(new FakeTransport());
        }

        services.AddTapPass(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<TapPassOptions>>().Value;
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new TapPassOptions();

        options.Url.Should().BeNull();
        options.ApiKey.Should().BeNull();
        options.Model.Should().BeNull();
        options.Flags.Should().BeNull();
        options.AgentUuid.Should().BeNull();
        options.Timeout.Should().Be(TimeSpan.FromSeconds(30));
        options.MaxRetries.Should().Be(2);
        options.RespectBreakGlass.Should().BeFalse();
        options.RaiseOnRedaction.Should().BeFalse();
        options.MaxHistoryMessages.Should().Be(200);
        options.VerifyGatewayVersion.Should().BeTrue();
        options.AutoOpenSession.Should().BeFalse();
        options.BreakGlassRetryAfter.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Section_IsBound()
    {
        var options = Resolve(new()
        {
            ["TapPass:Url"] = "http://gateway.test:9620",
            ["TapPass:ApiKey"] = Key,
            ["TapPass:Model"] = "gpt-4o",
            ["TapPass:Flags"] = "pii=mask, mode=enforce",
            ["TapPass:Timeout"] = "00:00:10",
            ["TapPass:MaxRetries"] = "4",
            ["TapPass:AutoOpenSession"] = "true",
            ["TapPass:RaiseOnRedaction"] = "true",
        });

        options.Url.Should().Be("http://gateway.test:9620");
        options.ApiKey.Should().Be(Key);
        options.Model.Should().Be("gpt-4o");
        options.Flags.Should().Be("pii=mask, mode=enforce");
        options.Timeout.Should().Be(TimeSpan.FromSeconds(10));
        options.MaxRetries.Should().Be(4);
        options.AutoOpenSession.Should().BeTrue();
        options.RaiseOnRedaction.Should().BeTrue();
    }

    [Fact]
    public void EnvironmentVariables_FillWhatTheSectionLeavesUnset()
    {
        var options = Resolve(new()
        {
            ["TAPPASS_URL"] = "http://env.test:9620",
            ["TAPPASS_API_KEY"] = Key,
            ["TAPPASS_FLAGS"] = "mode=observe",
            ["TAPPASS_MODEL"] = "env-model",
            ["TAPPASS_AGENT_UUID"] = "3f2b7c1e-0000-4000-8000-000000000001",
            ["TapPass:Model"] = "section-model",
        });

        options.Url.Should().Be("http://env.test:9620");
        options.ApiKey.Should().Be(Key);
        options.Flags.Should().Be("mode=observe");
        options.AgentUuid.Should().Be("3f2b7c1e-0000-4000-8000-000000000001");
        options.Model.Should().Be("section-model", "the TapPass section wins over TAPPASS_* variables");
    }

    [Fact]
    public void ConfigureCallback_WinsOverConfiguration()
    {
        var options = Resolve(
            new() { ["TapPass:Url"] = "http://section.test", ["TAPPASS_API_KEY"] = Key },
            o => o.Url = "http://code.test");

        options.Url.Should().Be("http://code.test");
    }

    public static TheoryData<string, string?, string> InvalidSettings() => new()
    {
        { "TapPass:Url", "ftp://gateway.test", "TapPass:Url" },
        { "TapPass:Url", "not a url", "TapPass:Url" },
        { "TapPass:Url", "http://user:pw@gateway.test", "TapPass:Url" },
        { "TapPass:ApiKey", "sk-123", "TapPass:ApiKey" },
        { "TapPass:ApiKey", "tp_has space", "TapPass:ApiKey" },
        { "TapPass:Flags", "pii=sometimes", "TapPass:Flags" },
        { "TapPass:Flags", "colour=blue", "TapPass:Flags" },
        { "TapPass:AgentUuid", "agent-7", "TapPass:AgentUuid" },
        { "TapPass:Timeout", "00:00:00", "TapPass:Timeout" },
        { "TapPass:MaxRetries", "11", "TapPass:MaxRetries" },
        { "TapPass:MaxHistoryMessages", "0", "TapPass:MaxHistoryMessages" },
        { "TapPass:Model", "", "TapPass:Model" },
        { "TapPass:BreakGlassRetryAfter", "00:00:00", "TapPass:BreakGlassRetryAfter" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void InvalidSetting_FailsValidationNamingIt(string key, string? value, string named)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["TapPass:Url"] = "http://gateway.test",
            ["TapPass:ApiKey"] = Key,
            [key] = value,
        };
        if (key == "TapPass:Model")
        {
            configuration.Remove(key);
        }

        var act = () => Resolve(configuration, key == "TapPass:Model" ? o => o.Model = value : null);

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(named);
    }

    [Fact]
    public void NoUrlAndNoTransport_FailsWithAnActionableMessage()
    {
        var act = () => Resolve([]);

        act.Should().Throw<OptionsValidationException>().Which.Message.Should()
            .Contain("TAPPASS_URL").And.Contain("AddTapPassEmbeddedGateway");
    }

    [Fact]
    public void UrlWithoutApiKey_Fails()
    {
        var act = () => Resolve(new() { ["TapPass:Url"] = "http://gateway.test" });

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("ApiKey");
    }

    [Fact]
    public void InvalidApiKey_IsNeverEchoedInTheMessage()
    {
        var act = () => Resolve(new() { ["TapPass:Url"] = "http://gateway.test", ["TapPass:ApiKey"] = "sk-verysecretvalue" });

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().NotContain("verysecretvalue");
    }

    [Fact]
    public void EmbeddedTransport_NeedsNeitherUrlNorKey()
    {
        var options = Resolve([], embedded: true);

        options.Url.Should().BeNull();
    }

    [Fact]
    public void CreateAgentOptions_CarriesEverySetting()
    {
        var options = new TapPassOptions
        {
            Url = "http://gateway.test",
            ApiKey = Key,
            Model = "gpt-4o",
            Flags = "PII=Mask, mode=observe",
            AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001",
            Timeout = TimeSpan.FromSeconds(5),
            MaxRetries = 0,
            RespectBreakGlass = true,
            RaiseOnRedaction = true,
            MaxHistoryMessages = 10,
            VerifyGatewayVersion = false,
        };

        var agent = options.CreateAgentOptions();

        agent.Url.Should().Be("http://gateway.test");
        agent.ApiKey.Should().Be(Key);
        agent.Model.Should().Be("gpt-4o");
        agent.Flags.Should().BeEquivalentTo(new Dictionary<string, string> { ["pii"] = "mask", ["mode"] = "observe" });
        agent.Flags["PII"].Should().Be("mask", "the agent's flags are case-insensitive");
        agent.AgentUuid.Should().Be("3f2b7c1e-0000-4000-8000-000000000001");
        agent.Timeout.Should().Be(TimeSpan.FromSeconds(5));
        agent.MaxRetries.Should().Be(0);
        agent.RespectBreakGlass.Should().BeTrue();
        agent.RaiseOnRedaction.Should().BeTrue();
        agent.MaxHistoryMessages.Should().Be(10);
        agent.VerifyGatewayVersion.Should().BeFalse();
    }
}
