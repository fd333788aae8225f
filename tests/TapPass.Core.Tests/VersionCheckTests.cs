using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests;

public sealed class VersionCheckTests
{
    [Theory]
    [InlineData("0.5.9", null)]
    [InlineData("0.5", "9.9.9")]
    [InlineData("banana", "1.0.0")]
    [InlineData(null, "0.5.0")]
    [InlineData(null, null)]
    public async Task OldOrUnparsableGateway_ThrowsConfigExceptionAndSendsNoChat(string? apiVersion, string? version)
    {
        var gateway = new FakeGateway { Health = Responses.Health(apiVersion, version) };
        using var agent = TestAgents.Create(gateway);

        var ex = (await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<TapPassConfigException>()).Which;

        ex.Setting.Should().Be("Url");
        ex.Message.Should().Contain("0.6.0");
        gateway.ChatRequests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("0.6.0", null)]
    [InlineData("v0.7", null)]
    [InlineData("1.0.0-beta.2", null)]
    [InlineData(null, "0.6.1")]
    [InlineData("", "2.0.0")]
    public async Task SupportedGateway_ChatProceeds_ApiVersionFallingBackToVersion(string? apiVersion, string? version)
    {
        var gateway = new FakeGateway { Health = Responses.Health(apiVersion, version) };
        using var agent = TestAgents.Create(gateway);

        (await agent.ChatAsync("hi")).Content.Should().Be("echo: hi");
    }

    [Fact]
    public async Task ApiVersionWins_OverProductVersion()
    {
        var gateway = new FakeGateway { Health = Responses.Health("0.5.0", "9.0.0") };
        using var agent = TestAgents.Create(gateway);

        await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<TapPassConfigException>();
    }

    [Fact]
    public async Task Check_RunsOncePerAgent_EvenUnderConcurrency()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => agent.ChatAsync("m" + i))));
        await agent.ChatAsync("later");
        await agent.StreamAsync("stream").ToResponseAsync();

        gateway.HealthRequests.Should().Be(1);
        gateway.Requests[0].Path.Should().Be("/health");
        gateway.Requests[0].Method.Should().Be(HttpMethod.Get);
        gateway.Requests[0].Header("Idempotency-Key").Should().BeNull();
    }

    [Fact]
    public async Task Check_IsSharedByAgentsOfTheSameGateway_SoPerRequestAgentsDoNotRepeatIt()
    {
        var gateway = new FakeGateway();
        var cache = new GatewayVerificationCache();
        for (var i = 0; i < 5; i++)
        {
            using var agent = TestAgents.Create(gateway, verifiedGateways: cache);
            await agent.ChatAsync("m" + i);
        }

        gateway.HealthRequests.Should().Be(1);
        gateway.ChatRequests.Should().HaveCount(5);
    }

    [Fact]
    public async Task UnreachableGateway_ThrowsConnectionException_AndFailureIsNotCached()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Health = Responses.Refused() };
        using var agent = TestAgents.Create(gateway, o => o.MaxRetries = 1, time: time);

        var first = agent.ChatAsync("hi");
        await time.DriveAsync(first);
        await FluentActions.Awaiting(() => first).Should().ThrowAsync<TapPassConnectionException>();
        gateway.HealthRequests.Should().Be(2, "GET /health is retried like any transient failure");

        gateway.Health = Responses.Health("0.6.0", "1.0.0");
        (await agent.ChatAsync("again")).Content.Should().Be("echo: again");
        gateway.HealthRequests.Should().Be(3);
    }

    [Fact]
    public async Task HealthUnavailable_ThrowsConnectionException()
    {
        var gateway = new FakeGateway { Health = Responses.Error(503, "unavailable") };
        using var agent = TestAgents.Create(gateway, o => o.MaxRetries = 0);

        (await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<TapPassConnectionException>()).Which.StatusCode.Should().Be(503);
    }

    [Fact]
    public async Task NoHealthEndpoint_ThrowsConfigException()
    {
        var gateway = new FakeGateway { Health = Responses.Text(404, "text/plain", "Not Found") };
        using var agent = TestAgents.Create(gateway);

        (await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<TapPassConfigException>()).Which.Message.Should().Contain("/health");
    }

    [Fact]
    public async Task VerifyGatewayVersionFalse_NeverCallsHealth()
    {
        var gateway = new FakeGateway { Health = Responses.Health("0.1.0", null) };
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false);

        await agent.ChatAsync("hi");

        gateway.HealthRequests.Should().Be(0);
    }

    [Fact]
    public async Task CallerCancellation_WhileSharedCheckRuns_CancelsOnlyThatCaller()
    {
        var gate = new TaskCompletionSource();
        var gateway = new FakeGateway { Health = Responses.Gated(gate.Task, Responses.Health("0.6.0", null)) };
        using var agent = TestAgents.Create(gateway);
        using var cts = new CancellationTokenSource();

        var cancelled = agent.ChatAsync("a", cancellationToken: cts.Token);
        var other = agent.ChatAsync("b");
        await TapPassAgentTests.WaitUntil(() => gateway.HealthRequests == 1);
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => cancelled).Should().ThrowAsync<OperationCanceledException>();
        gate.SetResult();

        (await other).Content.Should().Be("echo: b");
        gateway.HealthRequests.Should().Be(1);
    }

    [Theory]
    [InlineData("0.6.0", 0, 6, 0)]
    [InlineData("V1.2", 1, 2, 0)]
    [InlineData("3", 3, 0, 0)]
    [InlineData(" 0.6.0+build.5 ", 0, 6, 0)]
    public void TryParseApiVersion_AcceptsSemverShapes(string text, int major, int minor, int patch)
    {
        TapPassAgent.TryParseApiVersion(text, out var v).Should().BeTrue();
        v.Should().Be(new Version(major, minor, patch));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("latest")]
    [InlineData("0.6.x")]
    [InlineData("-1.0")]
    public void TryParseApiVersion_RejectsOthers(string? text)
    {
        TapPassAgent.TryParseApiVersion(text, out _).Should().BeFalse();
    }
}
