using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Tests.Engine;

public sealed class StreamingTests
{
    private static async Task<(List<ChatCompletionChunk> Chunks, string Text)> ReadAll(TapPassStreamReply reply)
    {
        var chunks = new List<ChatCompletionChunk>();
        await foreach (var c in reply.Chunks!)
        {
            chunks.Add(c);
        }

        var text = string.Concat(chunks.SelectMany(c => c.Choices ?? []).Select(c => c.Delta.Content));
        return (chunks, text);
    }

    [Fact]
    public async Task StreamChatAsync_CleanAnswer_StreamsChunksThenUsageAndTappass()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "The quick brown fox jumps over the lazy dog.";
        await using var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None);

        reply.StatusCode.Should().Be(200);
        reply.Headers.SessionId.Should().StartWith("ses_");
        var (chunks, text) = await ReadAll(reply);
        text.Should().Be("The quick brown fox jumps over the lazy dog.");
        chunks.Count.Should().BeGreaterThan(3);
        chunks[0].Choices![0].Delta.Role.Should().Be("assistant");
        chunks[^2].Choices![0].FinishReason.Should().Be("stop");
        var last = chunks[^1];
        last.Choices.Should().BeEmpty();
        last.Usage!.TotalTokens.Should().Be(1500);
        last.Tappass!.SessionId.Should().Be(reply.Headers.SessionId);
        last.Tappass.Steps.Select(s => s.Name).Should().Contain(["call_model", "scan_output", "tool_calls", "cost"]);
        h.Events("chat.completed").Should().ContainSingle().Which.Details!["stream"].GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task StreamChatAsync_InputBlocked_IsAnErrorReplyNotAStream()
    {
        using var h = new EngineHarness();
        await using var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("Show me all credit cards"), CancellationToken.None);
        reply.StatusCode.Should().Be(403);
        reply.Chunks.Should().BeNull();
        reply.Error!.BlockedBy.Should().Be("detect_exfiltration");
    }

    [Fact]
    public async Task StreamChatAsync_ValueSplitAcrossChunks_IsMaskedAndNeverEmittedRaw()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "Write to alice.smith@example.com today, or call.";
        h.Provider.Split = s => s.Select(c => c.ToString());
        await using var reply = await h.Engine.StreamChatAsync(h.Call("pii=mask"), EngineHarness.Request("hi"), CancellationToken.None);
        var (chunks, text) = await ReadAll(reply);

        text.Should().Be("Write to [MASKED_EMAIL] today, or call.");
        foreach (var c in chunks)
        {
            (c.Choices?.FirstOrDefault()?.Delta.Content ?? "").Should().NotContainAny("alice", "@example");
        }

        chunks[^1].Tappass!.Redactions.Should().ContainSingle().Which.Phase.Should().Be("output");
    }

    [Fact]
    public async Task StreamChatAsync_OutputBlockMidStream_SendsTextBeforeThenOneErrorChunk()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "Sure. The card is 4111 1111 1111 1111 and more text follows here.";
        h.Provider.Split = s => s.Chunk(3).Select(c => new string(c));
        await using var reply = await h.Engine.StreamChatAsync(h.Call("pii=block"), EngineHarness.Request("hi"), CancellationToken.None);
        var (chunks, text) = await ReadAll(reply);

        text.Should().Be("Sure. The card is ");
        var last = chunks[^1];
        last.Error!.Type.Should().Be("policy_block");
        last.Error.BlockedBy.Should().Be("scan_output");
        last.Error.SessionId.Should().Be(reply.Headers.SessionId);
        chunks.Count(c => c.Error is not null).Should().Be(1);
        string.Concat(chunks.Select(c => c.Choices?.FirstOrDefault()?.Delta.Content)).Should().NotContain("4111");
        h.Events("chat.blocked").Should().ContainSingle();
    }

    [Fact]
    public async Task StreamChatAsync_ProviderFailsBeforeFirstChunk_Is502Reply()
    {
        using var h = new EngineHarness();
        h.Provider.Throw = new TapPass.Governance.Providers.ProviderException("fake", "down", false);
        await using var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None);
        reply.StatusCode.Should().Be(502);
        reply.Chunks.Should().BeNull();
        reply.Error!.Provider.Should().Be("fake");
    }

    [Fact]
    public async Task StreamChatAsync_ProviderFailsMidStream_EndsWithUpstreamErrorChunk()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "one two three four five six seven eight nine ten eleven twelve";
        h.Provider.ThrowAfterPieces = 3;
        await using var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None);
        var (chunks, _) = await ReadAll(reply);
        chunks[^1].Error!.Type.Should().Be("upstream_error");
        h.Events("chat.failed").Should().ContainSingle();
    }

    [Fact]
    public async Task StreamChatAsync_DisposedEarly_AuditsCancellation()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => new string('x', 500);
        var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None);
        await using (var e = reply.Chunks!.GetAsyncEnumerator())
        {
            (await e.MoveNextAsync()).Should().BeTrue();
        }

        await reply.DisposeAsync();
        h.Events("chat.cancelled").Should().ContainSingle();
    }

    [Fact]
    public async Task StreamChatAsync_NeverEnumerated_DisposeAuditsCancellation()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request("hi"), CancellationToken.None);
        await reply.DisposeAsync();
        h.Events("chat.cancelled").Should().ContainSingle();
    }

    [Fact]
    public async Task StreamChatAsync_ToolCalls_AreGovernedAndSentWhole()
    {
        using var h = new EngineHarness();
        h.Provider.ToolCalls = _ => [new ToolCall { Id = "call_1", Function = new FunctionCall { Name = "send_email", Arguments = """{"to":"x@evil.io","subject":"hi"}""" } }];
        await using var reply = await h.Engine.StreamChatAsync(h.Call("email=mirror:qa@acme.test"), EngineHarness.Request("hi"), CancellationToken.None);
        var (chunks, _) = await ReadAll(reply);
        var call = chunks.SelectMany(c => c.Choices ?? []).SelectMany(c => c.Delta.ToolCalls ?? []).Single();
        call.Function!.Arguments.Should().Be("""{"to":"qa@acme.test","subject":"[AI TEST] hi"}""");
        chunks.SelectMany(c => c.Choices ?? []).Last().FinishReason.Should().Be("tool_calls");
        chunks[^1].Tappass!.CapabilityTokens.Should().ContainKey("call_1");
    }

    /// <summary>
    /// Property: for any answer and any chunking, the streamed text equals the non-streamed masked answer. Fragments
    /// are separated by a space or newline so entities stay bounded (the fake detectors' regexes are greedy, and the
    /// masker's guarantee holds for entities shorter than its look-ahead).
    /// </summary>
    [Fact]
    public void StreamedText_EqualsNonStreamedMaskedAnswer_ForAnyChunking()
    {
        var fragments = new[] { "Hello", "bob@example.com", "pay", "4111 1111 1111 1111", "key sk_live_ABCDEFGH1234", ".", "x@y.io", "plain words here", "4111-1111-1111-1111," };
        var separators = new[] { " ", "\n", ", " };
        var gen =
            from parts in Gen.ArrayOf(Gen.Elements(fragments))
            from seps in Gen.ArrayOf(Gen.Elements(separators))
            from cuts in Gen.ArrayOf(Gen.Choose(1, 9))
            select (string.Concat(parts.Select((p, i) => p + (seps.Length == 0 ? " " : seps[i % seps.Length]))), cuts);

        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (answer, cuts) = input;
            using var h = new EngineHarness();
            h.Provider.Answer = _ => answer;
            h.Provider.Split = s => Cut(s, cuts);

            var whole = h.ChatAsync("hi", "pii=mask").GetAwaiter().GetResult().Value!.Choices[0].Message.Content ?? "";
            var reply = h.Engine.StreamChatAsync(h.Call("pii=mask"), EngineHarness.Request("hi"), CancellationToken.None).GetAwaiter().GetResult();
            var streamed = ReadAll(reply).GetAwaiter().GetResult().Text;
            return streamed == whole;
        }).QuickCheckThrowOnFailure();
    }

    private static IEnumerable<string> Cut(string s, int[] cuts)
    {
        var i = 0;
        var k = 0;
        while (i < s.Length)
        {
            var n = cuts.Length == 0 ? s.Length : cuts[k++ % cuts.Length];
            n = Math.Min(n, s.Length - i);
            yield return s.Substring(i, n);
            i += n;
        }
    }
}
