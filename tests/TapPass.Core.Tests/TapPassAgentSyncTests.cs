using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests;

/// <summary>
/// The synchronous API under a single-threaded <see cref="SynchronizationContext"/> (a UI thread). The fake gateway
/// awaits with the caller's context captured, so any implementation that blocks the context thread while work still
/// needs it (e.g. <c>ChatAsync(...).Result</c>) deadlocks; the control test proves the harness catches that.
/// </summary>
public sealed class TapPassAgentSyncTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Harness_NaiveBlockingOnChatAsync_Deadlocks()
    {
        var gateway = new FakeGateway { CaptureContext = true };
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false);

        // What a naive `Chat => ChatAsync(...).Result` does, but with a bounded wait so the thread can recover.
        var completedInTime = await SingleThreadSynchronizationContext.Run(() => agent.ChatAsync("hi").Wait(TimeSpan.FromSeconds(1)))
            .WaitAsync(Deadline);

        completedInTime.Should().BeFalse("blocking the only context thread starves the continuation posted to it");
    }

    [Fact]
    public async Task Chat_UnderSingleThreadedContext_DoesNotDeadlock()
    {
        var gateway = new FakeGateway { CaptureContext = true };
        using var agent = TestAgents.Create(gateway);

        var response = await SingleThreadSynchronizationContext.Run(() => agent.Chat("hello")).WaitAsync(Deadline);

        response.Content.Should().Be("echo: hello");
        gateway.HealthRequests.Should().Be(1);
        agent.History.Should().HaveCount(2);
    }

    [Fact]
    public async Task Chat_UnderSingleThreadedContext_RethrowsDecisionUnwrapped()
    {
        var gateway = new FakeGateway { CaptureContext = true }.Then(Responses.Error(403, "policy_block"));
        using var agent = TestAgents.Create(gateway);

        var act = () => SingleThreadSynchronizationContext.Run(() => agent.Chat("card")).WaitAsync(Deadline);

        (await act.Should().ThrowAsync<PolicyBlockException>()).Which.BlockedBy.Should().Be("detect_pii");
    }

    [Fact]
    public async Task Stream_UnderSingleThreadedContext_DoesNotDeadlock()
    {
        var gateway = new FakeGateway { CaptureContext = true };
        using var agent = TestAgents.Create(gateway);

        var (text, response) = await SingleThreadSynchronizationContext.Run(() =>
        {
            var stream = agent.Stream("streamed");
            var joined = string.Concat(stream);
            return (joined, stream.Response);
        }).WaitAsync(Deadline);

        text.Should().Be("echo: streamed");
        response!.Usage.TotalTokens.Should().Be(52);
    }

    [Fact]
    public async Task Chat_SessionScopeOnContextThread_FlowsIntoTheCall()
    {
        var gateway = new FakeGateway { CaptureContext = true };
        using var agent = TestAgents.Create(gateway);

        var observed = await SingleThreadSynchronizationContext.Run(() =>
        {
            using var scope = TapPassSession.Begin("ses_sync1");
            agent.Chat("hi");
            return scope.Session.AuditUrl;
        }).WaitAsync(Deadline);

        gateway.ChatRequests.Single().Header("X-TapPass-Session-Id").Should().Be("ses_sync1");
        observed.Should().NotBeNull();
    }

    [Fact]
    public void Chat_Cancelled_ThrowsOperationCanceled()
    {
        using var agent = TestAgents.Create(new FakeGateway { Default = Responses.Hang() }, o => o.VerifyGatewayVersion = false);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        agent.Invoking(a => a.Chat("hi", cancellationToken: cts.Token)).Should().Throw<OperationCanceledException>();
    }
}
