using TapPass.Governance.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.Governance.Tests.Engine;

public sealed class IdempotencyTests
{
    [Fact]
    public async Task ChatAsync_SameKeySameBody_ReplaysStoredOutcomeWithoutCallingModelAgain()
    {
        using var h = new EngineHarness();
        var call = h.Call() with { IdempotencyKey = "req-1" };
        var first = await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        var second = await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);

        second.StatusCode.Should().Be(200);
        second.Value!.Id.Should().Be(first.Value!.Id);
        second.Headers.SessionId.Should().Be(first.Headers.SessionId);
        h.Provider.Requests.Should().HaveCount(1);
        h.Events("idempotency.replayed").Should().ContainSingle();
    }

    [Fact]
    public async Task ChatAsync_SameKeyDifferentBody_Answers422()
    {
        using var h = new EngineHarness();
        var call = h.Call() with { IdempotencyKey = "req-2" };
        await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        var other = await h.Engine.ChatAsync(call, EngineHarness.Request("bye"), CancellationToken.None);
        other.StatusCode.Should().Be(422);
        other.Error!.Type.Should().Be("idempotency_conflict");
    }

    [Fact]
    public async Task ChatAsync_ConcurrentDuplicate_Answers409()
    {
        using var h = new EngineHarness();
        h.Provider.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = h.Call() with { IdempotencyKey = "req-3" };
        var first = h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        while (h.Provider.Requests.IsEmpty)
        {
            await Task.Delay(5);
        }

        var duplicate = await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        duplicate.StatusCode.Should().Be(409);
        duplicate.Error!.Type.Should().Be("idempotency_conflict");

        h.Provider.Gate.SetResult();
        (await first).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task ChatAsync_BlockedOutcome_IsReplayedToo()
    {
        using var h = new EngineHarness();
        var call = h.Call() with { IdempotencyKey = "req-4" };
        var first = await h.Engine.ChatAsync(call, EngineHarness.Request("Show me all credit cards"), CancellationToken.None);
        var second = await h.Engine.ChatAsync(call, EngineHarness.Request("Show me all credit cards"), CancellationToken.None);
        second.StatusCode.Should().Be(403);
        second.Error!.PipelineUuid.Should().Be(first.Error!.PipelineUuid);
    }

    [Fact]
    public async Task ChatAsync_UpstreamFailure_IsNotStoredSoARetryRunsAgain()
    {
        using var h = new EngineHarness();
        h.Provider.Throw = new TapPass.Governance.Providers.ProviderException("fake", "down", false);
        var call = h.Call() with { IdempotencyKey = "req-5" };
        (await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None)).StatusCode.Should().Be(502);
        h.Provider.Throw = null;
        (await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None)).StatusCode.Should().Be(200);
        h.Provider.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ChatAsync_KeyExpiresAfterRetention_RunsAgain()
    {
        using var h = new EngineHarness();
        var call = h.Call() with { IdempotencyKey = "req-6" };
        await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        h.Time.Advance(TimeSpan.FromHours(25));
        await h.Engine.ChatAsync(call, EngineHarness.Request("hi"), CancellationToken.None);
        h.Provider.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ChatAsync_KeysAreScopedPerAgent()
    {
        using var h = new EngineHarness();
        await h.Engine.ChatAsync(h.Call() with { IdempotencyKey = "shared" }, EngineHarness.Request("hi"), CancellationToken.None);
        var other = await h.Engine.ChatAsync(h.Call(key: h.KeyB) with { IdempotencyKey = "shared" }, EngineHarness.Request("different"), CancellationToken.None);
        other.StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task StreamChatAsync_Replay_ResendsTheStoredAnswerAsAStream()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "streamed answer text";
        var call = h.Call() with { IdempotencyKey = "stream-1" };
        var request = EngineHarness.Request("hi");
        request.Stream = true;
        string first;
        await using (var reply = await h.Engine.StreamChatAsync(call, request, CancellationToken.None))
        {
            first = string.Concat(await Collect(reply));
        }

        await using var replay = await h.Engine.StreamChatAsync(call, request, CancellationToken.None);
        replay.StatusCode.Should().Be(200);
        string.Concat(await Collect(replay)).Should().Be(first).And.Be("streamed answer text");
        h.Provider.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task ChatAsync_MalformedKey_Answers400()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.ChatAsync(h.Call() with { IdempotencyKey = new string('k', 300) }, EngineHarness.Request("hi"), CancellationToken.None);
        reply.StatusCode.Should().Be(400);
        reply.Error!.Param.Should().Be("Idempotency-Key");
    }

    private static async Task<List<string>> Collect(TapPassStreamReply reply)
    {
        var list = new List<string>();
        await foreach (var c in reply.Chunks!)
        {
            list.AddRange((c.Choices ?? []).Select(x => x.Delta.Content ?? ""));
        }

        return list;
    }
}
