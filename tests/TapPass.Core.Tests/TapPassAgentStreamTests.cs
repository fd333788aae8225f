using System.Text.Json.Nodes;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests;

public sealed class TapPassAgentStreamTests
{
    [Fact]
    public async Task StreamAsync_YieldsDeltasInOrder_ThenResponseHasUsageAndMetadata()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var stream = agent.StreamAsync("Write a report");

        var chunks = new List<string>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        string.Concat(chunks).Should().Be("echo: Write a report");
        chunks.Should().HaveCountGreaterThan(1);
        stream.Response!.Content.Should().Be("echo: Write a report");
        stream.Response.Usage.TotalTokens.Should().Be(52);
        stream.Response.Model.Should().Be("gpt-4o-mini-2024-07-18");
        stream.Response.FinishReason.Should().Be("stop");
        stream.Response.Pipeline.Classification.Should().Be(Classification.Internal);
        stream.Response.Pipeline.Steps.Should().ContainSingle();
        stream.Response.PipelineUuid.Should().StartWith("pl_");
        stream.Response.SessionId.Should().StartWith("ses_");
        var body = gateway.ChatRequests.Single().Json;
        ((bool?)body["stream"]).Should().BeTrue();
        ((bool?)body["stream_options"]!["include_usage"]).Should().BeTrue();
        gateway.ChatRequests.Single().Header("Accept").Should().Be("text/event-stream");
    }

    [Fact]
    public async Task StreamAsync_DeltasArriveAsTheyAreWritten_NotBuffered()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        sse.Send(Responses.ChunkJson("first "));

        await using var e = agent.StreamAsync("go").GetAsyncEnumerator();
        (await e.MoveNextAsync()).Should().BeTrue();
        e.Current.Should().Be("first ");

        var next = e.MoveNextAsync().AsTask();
        await TapPassAgentTests.WaitUntil(() => sse.ReadsWaiting > 0);
        next.IsCompleted.Should().BeFalse("the second delta has not been written yet");
        sse.Send(Responses.ChunkJson("second"));
        (await next).Should().BeTrue();
        e.Current.Should().Be("second");

        sse.Send(Responses.FinalChunkJson(new JsonObject { ["classification"] = "PUBLIC", ["session_id"] = "ses_s1" })).Done();
        (await e.MoveNextAsync()).Should().BeFalse();
        agent.History.Select(m => m.Content).Should().Equal("go", "first second");
    }

    [Fact]
    public async Task StreamAsync_HistoryAppendedOnlyWhenStreamCompletes()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await using (var e = agent.StreamAsync("hello").GetAsyncEnumerator())
        {
            (await e.MoveNextAsync()).Should().BeTrue();
            agent.History.Should().BeEmpty();
            while (await e.MoveNextAsync())
            {
            }
        }

        agent.History.Select(m => m.Content).Should().Equal("hello", "echo: hello");
    }

    [Fact]
    public async Task StreamAsync_BreakingOutEarly_DisposesConnectionAndLeavesHistoryUnchanged()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        sse.Send(Responses.ChunkJson("a")).Send(Responses.ChunkJson("b"));

        var stream = agent.StreamAsync("x");
        await foreach (var _ in stream)
        {
            break;
        }

        await sse.Disposed.WaitAsync(TimeSpan.FromSeconds(5));
        stream.Response.Should().BeNull();
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task StreamAsync_CancelledMidStream_StopsReadingDisposesConnectionAndThrows()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        using var cts = new CancellationTokenSource();
        sse.Send(Responses.ChunkJson("partial"));

        var received = new List<string>();
        var act = async () =>
        {
            await foreach (var chunk in agent.StreamAsync("x").WithCancellation(cts.Token))
            {
                received.Add(chunk);
                await cts.CancelAsync();
            }
        };

        await act.Should().ThrowAsync<OperationCanceledException>();
        received.Should().Equal("partial");
        await sse.Disposed.WaitAsync(TimeSpan.FromSeconds(5));
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task StreamAsync_CallTokenCancelledWhileWaitingForEvent_Throws()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        using var cts = new CancellationTokenSource();
        sse.Send(Responses.ChunkJson("partial"));

        await using var e = agent.StreamAsync("x", cancellationToken: cts.Token).GetAsyncEnumerator();
        (await e.MoveNextAsync()).Should().BeTrue();
        var pending = e.MoveNextAsync().AsTask();
        await TapPassAgentTests.WaitUntil(() => sse.ReadsWaiting > 0);
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => pending).Should().ThrowAsync<OperationCanceledException>();
        await sse.Disposed.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task StreamAsync_MidStreamErrorEvent_ThrowsMappedExceptionAfterEarlierDeltas()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        sse.Send(Responses.ChunkJson("The card is "))
            .Send(Responses.ErrorJson("policy_block", e => e["blocked_by"] = "detect_pii_output"))
            .Done();
        sse.Complete();

        var received = new List<string>();
        var act = async () =>
        {
            await foreach (var chunk in agent.StreamAsync("x"))
            {
                received.Add(chunk);
            }
        };

        var ex = (await act.Should().ThrowAsync<PolicyBlockException>()).Which;
        ex.BlockedBy.Should().Be("detect_pii_output");
        ex.StatusCode.Should().Be(403);
        ex.PipelineUuid.Should().Be("pl_err1");
        received.Should().Equal("The card is ");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task StreamAsync_DecisionBeforeStream_ThrowsOnFirstMoveNext_NeverRetried()
    {
        var gateway = new FakeGateway().Then(Responses.Error(428, "approval_required"));
        using var agent = TestAgents.Create(gateway);

        var stream = agent.StreamAsync("x");
        gateway.ChatRequests.Should().BeEmpty("nothing is sent before enumeration");
        var ex = (await stream.Invoking(s => s.ToResponseAsync()).Should().ThrowAsync<ApprovalRequiredException>()).Which;

        ex.ResumeToken.Should().Be("rt_abc123");
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task StreamAsync_EndsWithoutDone_ThrowsConnectionException()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        sse.Send(Responses.ChunkJson("cut"));
        sse.Complete();

        var ex = (await agent.StreamAsync("x").Invoking(s => s.ToResponseAsync()).Should().ThrowAsync<TapPassConnectionException>()).Which;

        ex.Message.Should().Contain("[DONE]");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task StreamAsync_MalformedEvent_ThrowsInvalidResponse()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        sse.Send("{not json").Done();
        sse.Complete();

        var ex = (await agent.StreamAsync("x").Invoking(s => s.ToResponseAsync()).Should().ThrowAsync<TapPassException>()).Which;

        ex.ErrorType.Should().Be("invalid_response");
    }

    [Fact]
    public async Task StreamAsync_SilentLongerThanTimeout_ThrowsConnectionException()
    {
        var time = new FakeTimeProvider();
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway, o => o.Timeout = TimeSpan.FromSeconds(20), time: time);
        sse.Send(Responses.ChunkJson("a"));

        await using var e = agent.StreamAsync("x").GetAsyncEnumerator();
        (await e.MoveNextAsync()).Should().BeTrue();
        var pending = e.MoveNextAsync().AsTask();
        await TapPassAgentTests.WaitUntil(() => sse.ReadsWaiting > 0);
        time.Advance(TimeSpan.FromSeconds(19));
        pending.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));

        var ex = (await FluentActions.Awaiting(() => pending).Should().ThrowAsync<TapPassConnectionException>()).Which;
        ex.Message.Should().Contain("no stream event within 20 s");
    }

    [Fact]
    public async Task StreamAsync_SlowConsumer_DoesNotTripTheIdleTimeout()
    {
        var time = new FakeTimeProvider();
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway, o => o.Timeout = TimeSpan.FromSeconds(20), time: time);
        sse.Send(Responses.ChunkJson("a"));

        await using var e = agent.StreamAsync("x").GetAsyncEnumerator();
        (await e.MoveNextAsync()).Should().BeTrue();
        time.Advance(TimeSpan.FromSeconds(60)); // the consumer takes its time with "a"
        sse.Send(Responses.ChunkJson("b"));

        (await e.MoveNextAsync()).Should().BeTrue();
        e.Current.Should().Be("b");
    }

    [Fact]
    public async Task StreamAsync_ToolCallDeltas_AreAssembled()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        static string ToolDelta(string? id, string? name, string args) => new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0, ["id"] = id, ["type"] = id is null ? null : "function",
                        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = args },
                    }),
                },
            }),
        }.ToJsonString();
        sse.Send(ToolDelta("call_9", "search", "{\"q\":")).Send(ToolDelta(null, null, "\"x\"}"))
            .Send(Responses.FinalChunkJson(new JsonObject { ["classification"] = "PUBLIC" }, "tool_calls")).Done();
        sse.Complete();

        var response = await agent.StreamAsync("x").ToResponseAsync();

        response.FinishReason.Should().Be("tool_calls");
        response.ToolCalls.Should().ContainSingle(t => t.Id == "call_9" && t.Function.Name == "search" && t.Function.Arguments == "{\"q\":\"x\"}");
    }

    [Fact]
    public async Task StreamAsync_RaiseOnRedaction_ThrowsAtEndWithResponse()
    {
        var gateway = new FakeGateway
        {
            Default = Responses.Echo(meta => meta["redactions"] = new JsonArray(new JsonObject { ["type"] = "EMAIL", ["replacement"] = "[MASKED_EMAIL]", ["phase"] = "output" })),
        };
        using var agent = TestAgents.Create(gateway, o => o.RaiseOnRedaction = true);
        var stream = agent.StreamAsync("x");

        var ex = (await stream.Invoking(s => s.ToResponseAsync()).Should().ThrowAsync<RedactionAppliedException>()).Which;

        ex.Response!.Content.Should().Be("echo: x");
        stream.Response.Should().BeSameAs(ex.Response);
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatStream_EnumeratedTwice_Throws()
    {
        using var agent = TestAgents.Create(new FakeGateway());
        var stream = agent.StreamAsync("x");
        await stream.ToResponseAsync();

        stream.Invoking(s => s.GetAsyncEnumerator()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task ChatStream_ToResponseAsync_ReturnsFinalResponse()
    {
        using var agent = TestAgents.Create(new FakeGateway());

        var response = await agent.StreamAsync("abc").ToResponseAsync();

        response.Content.Should().Be("echo: abc");
    }

    [Fact]
    public void Stream_Sync_EnumeratesDeltasAndSetsResponse()
    {
        using var agent = TestAgents.Create(new FakeGateway());

        var stream = agent.Stream("sync");
        var text = string.Concat(stream);

        text.Should().Be("echo: sync");
        stream.Response!.Content.Should().Be("echo: sync");
        agent.History.Should().HaveCount(2);
    }

    [Fact]
    public void ChatStream_NullSource_Throws()
    {
        FluentActions.Invoking(() => new ChatStream(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new ChatStreamSync(null!)).Should().Throw<ArgumentNullException>();
    }
}
