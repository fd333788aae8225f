using System.Net.Sockets;
using TapPass.Core.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.Core.Tests.Transport;

public sealed class ResilienceTests
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Unavailable503TwiceThen200_RetriesWithSameIdempotencyKeyAndExponentialBackoff()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Error(503, "unavailable"), Responses.Error(503, "unavailable"));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time, jitter: () => 0.999999);

        var call = agent.ChatAsync("hi");
        var first = await time.AdvanceToNextTimerAsync(Backoff);
        var second = await time.AdvanceToNextTimerAsync(Backoff);
        var response = await call;

        response.Content.Should().Be("echo: hi");
        first.TotalMilliseconds.Should().BeApproximately(500, 1);
        second.TotalMilliseconds.Should().BeApproximately(1000, 1);
        var keys = gateway.ChatRequests.Select(r => r.Header("Idempotency-Key")).ToList();
        keys.Should().HaveCount(3);
        keys.Distinct().Should().ContainSingle().Which.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Backoff_JitterAtLowEnd_HalvesTheDelay()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Error(503, "unavailable"), Responses.Error(503, "unavailable"));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time, jitter: () => 0.0);

        var call = agent.ChatAsync("hi");
        var first = await time.AdvanceToNextTimerAsync(Backoff);
        var second = await time.AdvanceToNextTimerAsync(Backoff);
        await call;

        first.Should().Be(TimeSpan.FromMilliseconds(250));
        second.Should().Be(TimeSpan.FromMilliseconds(500));
    }

    [Theory]
    [InlineData(0, 0.0, 250)]
    [InlineData(0, 1.0, 500)]
    [InlineData(1, 0.5, 750)]
    [InlineData(3, 1.0, 4000)]
    [InlineData(5, 1.0, 10000)]
    [InlineData(30, 0.0, 5000)]
    public void BackoffFormula_IsCappedEqualJitterExponential(int attempt, double random, double expectedMs)
    {
        TapPassRetryPolicy.Backoff(attempt, random, null).TotalMilliseconds.Should().BeApproximately(expectedMs, 0.001);
    }

    [Fact]
    public void BackoffFormula_RetryAfterWinsButIsCapped()
    {
        TapPassRetryPolicy.Backoff(0, 0.5, TimeSpan.FromSeconds(3)).Should().Be(TimeSpan.FromSeconds(3));
        TapPassRetryPolicy.Backoff(0, 0.5, TimeSpan.FromMinutes(5)).Should().Be(TapPassRetryPolicy.MaxDelay);
    }

    [Fact]
    public async Task Unavailable503WithRetryAfter_WaitsRetryAfter()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Error(503, "unavailable", retryAfter: TimeSpan.FromSeconds(3)));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var call = agent.ChatAsync("hi");
        var delay = await time.AdvanceToNextTimerAsync(Backoff);
        await call;

        delay.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task AlwaysUnavailable_StopsAfterMaxRetriesAndThrowsConnectionException()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Error(503, "unavailable") };
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.VerifyGatewayVersion = false;
            o.MaxRetries = 4;
        }, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<TapPassConnectionException>();
        gateway.ChatRequests.Should().HaveCount(5);
    }

    [Fact]
    public async Task MaxRetriesZero_TransientFailureIsNotRetried()
    {
        var gateway = new FakeGateway { Default = Responses.Error(503, "unavailable") };
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.VerifyGatewayVersion = false;
            o.MaxRetries = 0;
        });

        await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<TapPassConnectionException>();
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Theory]
    [InlineData(502, "text/html", "<html><body>Bad Gateway</body></html>")]
    [InlineData(503, "text/plain", "Service Unavailable")]
    [InlineData(504, "text/html", "<html>Gateway Timeout</html>")]
    public async Task ProxyErrorWithoutEnvelope_IsRetriedThenSucceeds(int status, string mediaType, string body)
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Text(status, mediaType, body));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        (await call).Content.Should().Be("echo: hi");
        gateway.ChatRequests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ConnectionRefusedThen200_IsRetried()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Refused());
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        (await call).Content.Should().Be("echo: hi");
        gateway.ChatRequests.Should().HaveCount(2);
        gateway.ChatRequests.Select(r => r.Header("Idempotency-Key")).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task ConnectionRefusedAlways_ThrowsConnectionExceptionNamingUrlNotKey()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Refused() };
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        var ex = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<TapPassConnectionException>()).Which;
        ex.Message.Should().Contain(FakeGateway.Url + "/v1/chat/completions").And.NotContain(FakeGateway.ApiKey).And.NotContain("tp_");
        ex.Url.Should().Be(FakeGateway.Url + "/");
        ex.InnerException.Should().BeOfType<HttpRequestException>().Which.InnerException.Should().BeOfType<SocketException>();
        gateway.ChatRequests.Should().HaveCount(3);
    }

    [Fact]
    public async Task HttpClientTimeout_NotTheCaller_IsTreatedAsTransient()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then((_, _) => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout", new TimeoutException()));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        (await call).Content.Should().Be("echo: hi");
        gateway.ChatRequests.Should().HaveCount(2);
    }

    [Theory]
    [InlineData(400, "invalid_flags")]
    [InlineData(400, "invalid_request")]
    [InlineData(401, "unauthorized")]
    [InlineData(403, "policy_block")]
    [InlineData(403, "trust_tier_denied")]
    [InlineData(403, "session_forbidden")]
    [InlineData(409, "idempotency_conflict")]
    [InlineData(413, "invalid_request")]
    [InlineData(422, "tool_integrity_violation")]
    [InlineData(428, "approval_required")]
    [InlineData(503, "break_glass_active")]
    [InlineData(500, "internal_error")]
    public async Task GovernanceDecisionsAndOtherErrors_AreNeverRetried(int status, string type)
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Error(status, type) };
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.VerifyGatewayVersion = false;
            o.MaxRetries = 5;
        }, time: time);

        var call = agent.ChatAsync("hi");
        await time.DriveAsync(call);

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<TapPassException>();
        gateway.ChatRequests.Should().ContainSingle();
        time.NextDue(d => d <= Backoff).Should().BeNull();
    }

    [Fact]
    public async Task TotalTimeout_GatewayHangs_ThrowsConnectionExceptionAfterTimeout()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Hang() };
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.VerifyGatewayVersion = false;
            o.Timeout = TimeSpan.FromSeconds(30);
        }, time: time);

        var call = agent.ChatAsync("hi");
        await TapPassAgentTests.WaitUntil(() => gateway.ChatRequests.Count == 1);
        var timeout = await time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(29));
        call.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));

        var ex = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<TapPassConnectionException>()).Which;
        timeout.Should().Be(TimeSpan.FromSeconds(30));
        ex.Message.Should().Contain("30 s").And.Contain(FakeGateway.Url);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task AttemptTimeout_HungAttemptIsAbandonedAndRetried()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Hang());
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.VerifyGatewayVersion = false;
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        }, time: time, jitter: () => 0.0);

        var call = agent.ChatAsync("hi");
        var attempt = await time.AdvanceToNextTimerAsync(TimeSpan.FromSeconds(5));
        var backoff = await time.AdvanceToNextTimerAsync(TimeSpan.FromSeconds(1));

        (await call).Content.Should().Be("echo: hi");
        attempt.Should().Be(TimeSpan.FromSeconds(2));
        backoff.Should().Be(TimeSpan.FromMilliseconds(250));
        gateway.ChatRequests.Should().HaveCount(2);
    }

    [Fact]
    public async Task CallerCancellationDuringBackoff_ThrowsOperationCanceledAndStopsRetrying()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Error(503, "unavailable") };
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);
        using var cts = new CancellationTokenSource();

        var call = agent.ChatAsync("hi", cancellationToken: cts.Token);
        await time.WaitForTimerAsync(d => d <= Backoff);
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task TwoLogicalCalls_HaveDifferentIdempotencyKeys()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("a");
        await agent.ChatAsync("b");

        gateway.ChatRequests.Select(r => r.Header("Idempotency-Key")).Distinct().Should().HaveCount(2);
    }

    [Fact]
    public async Task Stream_503ThenAccepted_IsRetriedBeforeItStarts()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then(Responses.Error(503, "unavailable"));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);

        var read = agent.StreamAsync("hello").ToResponseAsync();
        await time.DriveAsync(read);

        (await read).Content.Should().Be("echo: hello");
        gateway.ChatRequests.Should().HaveCount(2);
        gateway.ChatRequests.Select(r => r.Header("Idempotency-Key")).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Stream_ConnectionDropsAfterFirstEvent_IsNotRetried()
    {
        var time = new FakeTimeProvider();
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false, time: time);
        sse.Send(Responses.ChunkJson("Hel"));
        sse.Fail(new IOException("connection reset by peer"));

        var received = new List<string>();
        var act = async () =>
        {
            await foreach (var chunk in agent.StreamAsync("hello"))
            {
                received.Add(chunk);
            }
        };

        var ex = (await act.Should().ThrowAsync<TapPassConnectionException>()).Which;
        ex.Message.Should().Contain("interrupted");
        received.Should().Equal("Hel");
        gateway.ChatRequests.Should().ContainSingle();
        agent.History.Should().BeEmpty();
    }
}
