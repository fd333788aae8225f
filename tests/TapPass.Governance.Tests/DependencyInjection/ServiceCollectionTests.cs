using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TapPass.Governance.Engine;
using TapPass.Governance.Inspection;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Tests.DependencyInjection;

public sealed class ServiceCollectionTests
{
    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ITextInspector, FakeInspector>();
        configure(services);
        return services.BuildServiceProvider(validateScopes: true);
    }

    [Fact]
    public async Task AddTapPassEmbeddedGateway_RegistersTheEngineAsTheTransport_KeylessCallsActAsEmbeddedIdentity()
    {
        await using var sp = Build(s => s.AddTapPassEmbeddedGateway());
        var transport = sp.GetRequiredService<ITapPassTransport>();
        transport.Should().BeOfType<EmbeddedTransport>();

        var reply = await transport.ChatAsync(new TapPassCall(), new ChatCompletionRequest { Messages = [ChatCompletionMessage.Create("user", "My name is Alice")] }, CancellationToken.None);
        reply.StatusCode.Should().Be(200);
        reply.Value!.Model.Should().Be("gpt-4o-mini");
        reply.Value.Tappass!.AgentUuid.Should().Be("00000000-0000-4000-8000-00000000e001");
        reply.Value.Choices[0].Message.Content.Should().Contain("Alice");
    }

    [Fact]
    public async Task EmbeddedTransport_LocalModelRecallsANameAcrossTurns_AndForgetsAfterReset()
    {
        await using var sp = Build(s => s.AddTapPassEmbeddedGateway());
        var transport = sp.GetRequiredService<ITapPassTransport>();
        var history = new List<ChatCompletionMessage> { ChatCompletionMessage.Create("user", "My name is Alice") };
        var first = await transport.ChatAsync(new TapPassCall(), new ChatCompletionRequest { Messages = [.. history] }, CancellationToken.None);
        history.Add(first.Value!.Choices[0].Message);
        history.Add(ChatCompletionMessage.Create("user", "What's my name?"));
        var session = first.Value.Tappass!.SessionId;

        var second = await transport.ChatAsync(new TapPassCall { SessionId = session }, new ChatCompletionRequest { Messages = history }, CancellationToken.None);
        second.Value!.Choices[0].Message.Content.Should().Contain("Alice");
        second.Value.Tappass!.TurnIndex.Should().Be(1);

        var afterReset = await transport.ChatAsync(new TapPassCall(), new ChatCompletionRequest { Messages = [ChatCompletionMessage.Create("user", "What's my name?")] }, CancellationToken.None);
        afterReset.Value!.Choices[0].Message.Content.Should().Contain("don't know").And.NotContain("Alice");
    }

    [Fact]
    public async Task EmbeddedTransport_CallWithUnknownKey_IsStill401()
    {
        await using var sp = Build(s => s.AddTapPassEmbeddedGateway());
        var reply = await sp.GetRequiredService<ITapPassTransport>().ChatAsync(new TapPassCall { ApiKey = "tp_bogus" }, new ChatCompletionRequest { Messages = [ChatCompletionMessage.Create("user", "hi")] }, CancellationToken.None);
        reply.StatusCode.Should().Be(401);
    }

    [Fact]
    public async Task EmbeddedTransport_Health_ReportsApiVersion060()
    {
        await using var sp = Build(s => s.AddTapPassEmbeddedGateway());
        var health = await sp.GetRequiredService<ITapPassTransport>().GetHealthAsync(CancellationToken.None);
        health.Value!.Status.Should().Be("healthy");
        health.Value.ApiVersion.Should().Be("0.6.0");
        health.Value.Version.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void AddTapPassEngine_BindsTheTapPassGatewaySection()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TapPass:Gateway:DefaultModel"] = "gpt-4o",
            ["TapPass:Gateway:InjectionThreshold"] = "0.7",
            ["TapPass:Gateway:OrgLocks:acme"] = "pii=mask",
            ["TapPass:Gateway:Keys:0:KeySha256"] = new string('a', 64),
            ["TapPass:Gateway:Keys:0:AgentId"] = "bot",
            ["TapPass:Gateway:Keys:0:Org"] = "acme",
            ["TapPass:Gateway:Prices:my-model:InputPerMillion"] = "1.5",
        }).Build();
        using var sp = Build(s => s.AddTapPassEngine(config));
        var settings = sp.GetRequiredService<EngineSettings>();
        settings.DefaultModel.Should().Be("gpt-4o");
        settings.InjectionThreshold.Should().Be(0.7);
        settings.Keys.Should().ContainSingle().Which.Identity.AgentId.Should().Be("bot");
        settings.Prices.For("my-model").InputPerMillion.Should().Be(1.5m);
        sp.GetRequiredService<GovernanceEngine>().Keys.Count.Should().Be(1);
    }

    [Fact]
    public void AddTapPassEngine_InvalidOptions_FailValidationWithEveryProblem()
    {
        using var sp = Build(s => s.AddTapPassEngine(o =>
        {
            o.DefaultFlags = "pii=shred";
            o.InjectionThreshold = 2;
            o.Keys.Add(new TapPassApiKeyOptions { AgentId = "Bad Name", Key = "nope" });
        }));
        var act = () => sp.GetRequiredService<IOptions<TapPassEngineOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCountGreaterThanOrEqualTo(3);
    }

    [Fact]
    public void AddTapPassEngine_RegistersTheRealDetectionLayer()
    {
        var services = new ServiceCollection();
        services.AddTapPassEngine();
        using var sp = services.BuildServiceProvider();
        sp.GetRequiredService<ITextInspector>().Should().BeOfType<ScannerTextInspector>();
    }

    [Fact]
    public void AddTapPassEngine_InspectorRemoved_ExplainsWhatIsMissing()
    {
        var services = new ServiceCollection();
        services.AddTapPassEngine();
        services.RemoveAll<ITextInspector>();
        using var sp = services.BuildServiceProvider();
        var act = () => sp.GetRequiredService<GovernanceEngine>();
        act.Should().Throw<InvalidOperationException>().WithMessage("*detection layer*");
    }

    [Fact]
    public void AddTapPassEmbeddedGateway_ReplacesAnEarlierTransport()
    {
        using var sp = Build(s =>
        {
            s.AddSingleton<ITapPassTransport, NullTransport>();
            s.AddTapPassEmbeddedGateway();
        });
        sp.GetRequiredService<ITapPassTransport>().Should().BeOfType<EmbeddedTransport>();
        sp.GetServices<ITapPassTransport>().Should().ContainSingle();
    }

    private sealed class NullTransport : ITapPassTransport
    {
        public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
