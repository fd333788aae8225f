using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Configuration;

public sealed class AgentConfigurationTests
{
    private static TapPassAgent Create(TapPassAgentOptions options, Func<string, string?>? environment = null, FakeGateway? gateway = null) =>
        new(options, environment ?? TestAgents.NoEnvironment, (gateway ?? new FakeGateway()).CreateClient(), null, null, null);

    private static TapPassConfigException ConfigError(Action act) =>
        FluentActions.Invoking(act).Should().Throw<TapPassConfigException>().Which;

    [Fact]
    public async Task Environment_SuppliesUrlKeyFlagsAndModel_WhenOptionsAreUnset()
    {
        var gateway = new FakeGateway();
        var env = TestAgents.Environment(
            ("TAPPASS_URL", FakeGateway.Url),
            ("TAPPASS_API_KEY", "tp_fromEnv"),
            ("TAPPASS_FLAGS", "mode=observe, PII = Mask"),
            ("TAPPASS_MODEL", "gpt-4o"));
        using var agent = new TapPassAgent(new TapPassAgentOptions(), env, null, null, null, null);
        using var agentOverFake = Create(new TapPassAgentOptions(), env, gateway);

        await agentOverFake.ChatAsync("hi");

        agent.Model.Should().Be("gpt-4o");
        agent.DefaultFlags.ToHeaderValue().Should().Be("mode=observe, pii=mask");
        var request = gateway.ChatRequests.Single();
        request.Header("Authorization").Should().Be("Bearer tp_fromEnv");
        request.Header("X-TapPass-Flags").Should().Be("mode=observe, pii=mask");
        ((string?)request.Json["model"]).Should().Be("gpt-4o");
    }

    [Fact]
    public async Task ExplicitOptions_WinOverEnvironment()
    {
        var gateway = new FakeGateway();
        var env = TestAgents.Environment(
            ("TAPPASS_URL", "http://wrong.example:1"),
            ("TAPPASS_API_KEY", "tp_fromEnv"),
            ("TAPPASS_FLAGS", "mode=observe"),
            ("TAPPASS_MODEL", "gpt-4o"));
        var options = new TapPassAgentOptions { Url = FakeGateway.Url, ApiKey = "tp_explicit", Model = "o3-mini" };
        options.Flags["pii"] = "block";
        using var agent = Create(options, env, gateway);

        await agent.ChatAsync("hi");

        agent.Model.Should().Be("o3-mini");
        var request = gateway.ChatRequests.Single();
        request.Header("Authorization").Should().Be("Bearer tp_explicit");
        request.Header("X-TapPass-Flags").Should().Be("pii=block", "explicit flags replace TAPPASS_FLAGS as a whole");
        gateway.Requests.Should().OnlyContain(r => r.Path.StartsWith('/'));
    }

    [Fact]
    public void Defaults_WhenNothingIsSet()
    {
        using var agent = new TapPassAgent(new TapPassAgentOptions { Url = "http://localhost:9620" }, TestAgents.NoEnvironment, null, null, null, null);

        agent.Model.Should().Be(TapPassAgentOptions.DefaultModel);
        agent.DefaultFlags.Should().BeEmpty();
        var defaults = new TapPassAgentOptions();
        defaults.Timeout.Should().Be(TimeSpan.FromSeconds(30));
        defaults.MaxRetries.Should().Be(2);
        defaults.MaxHistoryMessages.Should().Be(200);
        defaults.VerifyGatewayVersion.Should().BeTrue();
        defaults.RaiseOnRedaction.Should().BeFalse();
        defaults.RespectBreakGlass.Should().BeFalse();
        defaults.AttemptTimeout.Should().BeNull();
        defaults.AgentUuid.Should().BeNull();
    }

    [Fact]
    public void NoUrlAndNoTransport_ThrowsNamingUrl()
    {
        var ex = ConfigError(() => new TapPassAgent(new TapPassAgentOptions(), TestAgents.NoEnvironment, null, null, null, null));

        ex.Setting.Should().Be("Url");
        ex.Message.Should().Contain("TAPPASS_URL");
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://gateway.example")]
    [InlineData("/relative/path")]
    [InlineData("http://gateway.example/?x=1")]
    public void MalformedExplicitUrl_ThrowsNamingUrl(string url)
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = url })).Setting.Should().Be("Url");
    }

    [Fact]
    public void MalformedEnvironmentUrl_ThrowsNamingTheVariable()
    {
        var ex = ConfigError(() => new TapPassAgent(new TapPassAgentOptions(), TestAgents.Environment(("TAPPASS_URL", "gopher://x")), null, null, null, null));

        ex.Setting.Should().Be("TAPPASS_URL");
        ex.Message.Should().Contain("gopher");
    }

    [Fact]
    public void UrlWithCredentials_IsRefusedWithoutEchoingThem()
    {
        var ex = ConfigError(() => Create(new TapPassAgentOptions { Url = "https://admin:hunter2@gateway.example" }));

        ex.Setting.Should().Be("Url");
        ex.Message.Should().NotContain("hunter2");
    }

    [Fact]
    public void BadEnvironmentFlags_ThrowNamingVariableAndFlag()
    {
        var ex = ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url }, TestAgents.Environment(("TAPPASS_FLAGS", "mode=observe, pii=shred"))));

        ex.Setting.Should().Be("TAPPASS_FLAGS");
        ex.Flag.Should().Be("pii");
        ex.Value.Should().Be("shred");
        ex.Message.Should().Contain("pii");
    }

    [Fact]
    public void BadExplicitFlags_ThrowNamingFlags()
    {
        var options = new TapPassAgentOptions { Url = FakeGateway.Url };
        options.Flags["colour"] = "blue";

        var ex = ConfigError(() => Create(options));

        ex.Setting.Should().Be("Flags");
        ex.Flag.Should().Be("colour");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1000)]
    [InlineData(5)]
    public void TimeoutOutOfRange_ThrowsNamingTimeout(int milliseconds)
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, Timeout = TimeSpan.FromMilliseconds(milliseconds) }))
            .Setting.Should().Be("Timeout");
    }

    [Fact]
    public void AttemptTimeoutLongerThanTimeout_ThrowsNamingAttemptTimeout()
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, Timeout = TimeSpan.FromSeconds(5), AttemptTimeout = TimeSpan.FromSeconds(10) }))
            .Setting.Should().Be("AttemptTimeout");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void MaxRetriesOutOfRange_ThrowsNamingMaxRetries(int retries)
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, MaxRetries = retries })).Setting.Should().Be("MaxRetries");
    }

    [Fact]
    public void NegativeHistoryBound_ThrowsNamingMaxHistoryMessages()
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, MaxHistoryMessages = -1 })).Setting.Should().Be("MaxHistoryMessages");
    }

    [Fact]
    public void MalformedAgentUuid_ThrowsNamingAgentUuid()
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, AgentUuid = "agent-7" })).Setting.Should().Be("AgentUuid");
    }

    [Theory]
    [InlineData("tp_abc\r\nX-Injected: 1", "ApiKey")]
    [InlineData("tp abc", "ApiKey")]
    public void ApiKeyWithControlOrSpace_ThrowsWithoutEchoingKey(string key, string setting)
    {
        var ex = ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url, ApiKey = key }));

        ex.Setting.Should().Be(setting);
        ex.Message.Should().NotContain("tp_abc").And.NotContain("tp abc");
    }

    [Fact]
    public void BadEnvironmentModel_ThrowsNamingVariable()
    {
        ConfigError(() => Create(new TapPassAgentOptions { Url = FakeGateway.Url }, TestAgents.Environment(("TAPPASS_MODEL", new string('m', 300)))))
            .Setting.Should().Be("TAPPASS_MODEL");
    }

    [Fact]
    public async Task HttpClientBaseAddress_IsUsedWhenNoUrlConfigured()
    {
        var gateway = new FakeGateway();
        using var client = new HttpClient(gateway, disposeHandler: false) { BaseAddress = new Uri(FakeGateway.Url + "/tappass") };
        using var agent = new TapPassAgent(new TapPassAgentOptions(), TestAgents.NoEnvironment, client, null, null, null);

        await agent.ChatAsync("hi");

        gateway.ChatRequests.Single().Path.Should().Be("/tappass/v1/chat/completions");
        gateway.Requests.First().Path.Should().Be("/tappass/health");
    }

    [Fact]
    public void EmbeddedTransport_NeedsNoUrl()
    {
        using var agent = new TapPassAgent(new TapPassAgentOptions(), TestAgents.NoEnvironment, null, new FakeTransport(), null, null);

        agent.Model.Should().Be("gpt-4o-mini");
    }

    [Fact]
    public async Task AgentUuidOption_IsSentWhenNoSessionSuppliesOne()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.AgentUuid = FakeGateway.AgentUuid);

        await agent.ChatAsync("hi");

        gateway.ChatRequests.Single().Header("X-TapPass-Agent-Uuid").Should().Be(FakeGateway.AgentUuid);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>The real environment path: sets TAPPASS_* on the process (alone, never in parallel) and restores them.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ProcessEnvironmentTests
{
    [Fact]
    public async Task PublicConstructor_ReadsProcessEnvironment()
    {
        string[] names = ["TAPPASS_URL", "TAPPASS_API_KEY", "TAPPASS_FLAGS", "TAPPASS_MODEL"];
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable("TAPPASS_URL", FakeGateway.Url);
            Environment.SetEnvironmentVariable("TAPPASS_API_KEY", "tp_processEnv");
            Environment.SetEnvironmentVariable("TAPPASS_FLAGS", "secrets=block");
            Environment.SetEnvironmentVariable("TAPPASS_MODEL", "gpt-4.1");
            var gateway = new FakeGateway();
            using var client = gateway.CreateClient();
            using var agent = new TapPassAgent(new TapPassAgentOptions(), client);
            using var ownClient = new TapPassAgent(new TapPassAgentOptions());

            await agent.ChatAsync("hi");

            ownClient.Model.Should().Be("gpt-4.1");
            var request = gateway.ChatRequests.Single();
            request.Header("Authorization").Should().Be("Bearer tp_processEnv");
            request.Header("X-TapPass-Flags").Should().Be("secrets=block");
            ((string?)request.Json["model"]).Should().Be("gpt-4.1");
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}

public sealed class ProcessSandboxTierTests
{
    [Fact]
    public async Task SandboxTier_NoSandboxInThisProcess_HeaderIsNotSent()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("hi");

        TapPass.Transport.ProcessSandboxTier.Current.Should().BeNull();
        gateway.ChatRequests.Single().Header("X-TapPass-Sandbox-Tier").Should().BeNull();
    }
}
