using System.Text.Json;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

/// <summary>Approval rules on the tool calls a model returns in a chat answer (the same rules /v1/govern applies).</summary>
public sealed class AnswerToolCallApprovalTests : IDisposable
{
    private readonly EngineHarness _h = new(o =>
    {
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "big-refunds", Tool = "refund_*", Argument = "amount", Operator = "gt", Value = "500" });
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "deletes", Tool = "delete_*" });
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "mails", Tool = "send_email" });
    });

    public void Dispose() => _h.Dispose();

    private static ToolCall Call(string id, string name, string args) => new() { Id = id, Type = "function", Function = new FunctionCall { Name = name, Arguments = args } };

    private void Answer(params ToolCall[] calls) => _h.Provider.ToolCalls = _ => calls;

    private async Task<List<ChatCompletionChunk>> StreamAsync(string message, string? flags = null)
    {
        var request = EngineHarness.Request(message);
        request.Stream = true;
        var reply = await _h.Engine.StreamChatAsync(_h.Call(flags), request, CancellationToken.None);
        reply.Error.Should().BeNull();
        var chunks = new List<ChatCompletionChunk>();
        await foreach (var chunk in reply.Chunks!)
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    [Fact]
    public async Task ChatAsync_ToolCallHeldByRule_IsWithheldFromToolCalls_DescribedInToolApprovals_NoCapabilityToken()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""), Call("call_wx", "get_weather", """{"city":"Paris"}"""));

        var reply = await _h.ChatAsync("clean up user 7 and check the weather");

        reply.StatusCode.Should().Be(200, "tool calls in an answer are output: the answer is not refused, the held call is withheld");
        var choice = reply.Value!.Choices[0];
        choice.Message.ToolCalls!.Select(t => t.Id).Should().Equal(["call_wx"], "a client that runs every tool call it sees must not see the held one");
        choice.FinishReason.Should().Be("tool_calls", "a runnable call remains");
        var meta = reply.Value.Tappass!;
        var approval = meta.ToolApprovals.Should().ContainSingle().Subject;
        approval.ToolCallId.Should().Be("call_del");
        approval.Tool.Should().Be("delete_user");
        approval.Arguments.Should().Be("""{"id":7}""");
        approval.ArgumentsSha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("""{"id":7}"""u8)));
        approval.ApprovalId.Should().StartWith("apr_");
        approval.ApprovalUrl.Should().Be("http://localhost:9620/approvals/" + approval.ApprovalId);
        approval.ResumeToken.Should().StartWith(approval.ApprovalId + ".");
        approval.Status.Should().Be("pending");
        approval.Subject.Should().Be("tool:delete_user");
        approval.Rule.Should().Be("deletes");
        approval.ExpiresAt.Should().Be(_h.Time.GetUtcNow().AddHours(1));
        meta.CapabilityTokens.Should().ContainKey("call_wx").And.NotContainKey("call_del");
        meta.Steps.Should().Contain(s => s.Name == "tool_calls" && s.Outcome == "needs_approval");

        var completed = _h.Events("chat.completed").Should().ContainSingle().Subject;
        completed.Details!["tool_approvals"].EnumerateArray().Select(e => e.GetString()).Should().Equal(approval.ApprovalId);
        completed.Details["tool_approval_tools"].EnumerateArray().Select(e => e.GetString()).Should().Equal("tool:delete_user");
        (await _h.Engine.GetApprovalAsync(_h.Identity(_h.ApproverKey), approval.ApprovalId!, CancellationToken.None)).Value!.Status.Should().Be("pending");
    }

    [Fact]
    public async Task ChatAsync_OnlyToolCallHeld_AnswerHasNoToolCallsAndFinishReasonStop()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));

        var reply = (await _h.ChatAsync("delete user 7")).Value!;

        reply.Choices[0].Message.ToolCalls.Should().BeNull();
        reply.Choices[0].FinishReason.Should().Be("stop");
        reply.Tappass!.ToolApprovals.Should().ContainSingle().Which.ToolCallId.Should().Be("call_del");
        reply.Tappass.CapabilityTokens.Should().BeNull();

        var wire = JsonSerializer.Serialize(reply, TapPassJsonContext.Default.ChatCompletionResponse);
        using var doc = JsonDocument.Parse(wire);
        var choice = doc.RootElement.GetProperty("choices")[0];
        choice.GetProperty("message").TryGetProperty("tool_calls", out _).Should().BeFalse("the assistant message has no tool_calls member");
        choice.GetProperty("finish_reason").GetString().Should().Be("stop");
        var held = doc.RootElement.GetProperty("tappass").GetProperty("tool_approvals").EnumerateArray().Should().ContainSingle().Subject;
        held.GetProperty("tool_call_id").GetString().Should().Be("call_del");
        held.GetProperty("tool").GetString().Should().Be("delete_user");
        held.GetProperty("arguments").GetString().Should().Be("""{"id":7}""");
        held.GetProperty("arguments_sha256").GetString().Should().HaveLength(64);
        held.GetProperty("resume_token").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task ChatAsync_HeldToolCallModifiedByToolRule_ToolApprovalCarriesTheGovernedArguments_WhichRedeemTheApproval()
    {
        Answer(Call("call_mail", "send_email", """{"to":"ceo@bigcorp.com","subject":"Numbers","body":"hi"}"""));

        var reply = (await _h.ChatAsync("mail the numbers", flags: "email=mirror:qa@acme.test")).Value!;

        var approval = reply.Tappass!.ToolApprovals!.Single();
        approval.Arguments.Should().Be("""{"to":"qa@acme.test","subject":"[AI TEST] Numbers","body":"hi"}""", "never the model's raw arguments");
        approval.ArgumentsSha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("""{"body":"hi","subject":"[AI TEST] Numbers","to":"qa@acme.test"}"""u8)));
        await _h.Engine.DecideApprovalAsync(_h.Identity(_h.ApproverKey), approval.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);
        var govern = new GovernRequest { SessionId = reply.Tappass.SessionId, Payload = new GovernPayload { Tool = approval.Tool, Args = EngineHarness.Json(approval.Arguments) } };
        var allowed = (await _h.Engine.GovernAsync(_h.Call("email=mirror:qa@acme.test") with { ResumeToken = approval.ResumeToken }, govern, CancellationToken.None)).Value!;
        allowed.Outcome.Should().NotBe("block").And.NotBe("needs_approval");
        allowed.CapabilityToken.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task HeldToolCall_OnceApproved_IsAllowedByGovernWithItsResumeTokenOnce()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));
        var reply = (await _h.ChatAsync("delete user 7")).Value!;
        var approval = reply.Tappass!.ToolApprovals!.Single(a => a.ToolCallId == "call_del");
        var session = reply.Tappass.SessionId!;
        await _h.Engine.DecideApprovalAsync(_h.Identity(_h.ApproverKey), approval.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);

        // The caller re-creates the call from the approval entry alone (it never saw it in tool_calls).
        var govern = new GovernRequest { SessionId = session, Payload = new GovernPayload { Tool = approval.Tool, Args = EngineHarness.Json(approval.Arguments) } };
        var allowed = (await _h.Engine.GovernAsync(_h.Call() with { ResumeToken = approval.ResumeToken }, govern, CancellationToken.None)).Value!;
        allowed.Outcome.Should().Be("allow");
        allowed.CapabilityToken.Should().NotBeNullOrEmpty();

        var reused = (await _h.Engine.GovernAsync(_h.Call() with { ResumeToken = approval.ResumeToken }, govern, CancellationToken.None)).Value!;
        reused.Outcome.Should().Be("block");
        reused.BlockedBy.Should().Be("require_approval");
    }

    [Fact]
    public async Task HeldToolCall_ResumeTokenForOtherArguments_IsRejected()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));
        var reply = (await _h.ChatAsync("delete user 7")).Value!;
        var approval = reply.Tappass!.ToolApprovals!.Single(a => a.ToolCallId == "call_del");
        await _h.Engine.DecideApprovalAsync(_h.Identity(_h.ApproverKey), approval.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);

        var other = new GovernRequest { SessionId = reply.Tappass.SessionId, Payload = new GovernPayload { Tool = "delete_user", Args = EngineHarness.Json("""{"id":8}""") } };
        var refused = (await _h.Engine.GovernAsync(_h.Call() with { ResumeToken = approval.ResumeToken }, other, CancellationToken.None)).Value!;
        refused.Outcome.Should().Be("block");
        refused.Reason.Should().Contain("does not match");
    }

    [Theory]
    [InlineData(100, false)]
    [InlineData(900, true)]
    public async Task ChatAsync_ArgumentPredicate_HoldsOnlyAboveThreshold(int amount, bool held)
    {
        Answer(Call("call_r", "refund_order", $$"""{"order":"A-1","amount":{{amount}}}"""));

        var meta = (await _h.ChatAsync("refund it")).Value!.Tappass!;

        (meta.ToolApprovals?.Any(a => a.ToolCallId == "call_r") ?? false).Should().Be(held);
        (meta.CapabilityTokens?.ContainsKey("call_r") ?? false).Should().Be(!held);
    }

    [Fact]
    public async Task ChatAsync_UnderObserve_ToolCallIsNotHeldButRecordedAsWouldBlock()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));

        var meta = (await _h.ChatAsync("delete user 7", flags: "mode=observe")).Value!.Tappass!;

        meta.ToolApprovals.Should().BeNull();
        meta.CapabilityTokens.Should().ContainKey("call_del");
        _h.Events("chat.completed").Single().Details!["would_block"].EnumerateArray().Select(e => e.GetString()).Should().Contain("require_approval");
    }

    [Fact]
    public async Task StreamChatAsync_ToolCallHeldByRule_IsNeverStreamed_DescribedInToolApprovals_NoCapabilityToken()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""), Call("call_wx", "get_weather", """{"city":"Paris"}"""));

        var chunks = await StreamAsync("clean up user 7");

        chunks.Should().NotContain(c => c.Error != null);
        var deltas = chunks.SelectMany(c => c.Choices ?? []).SelectMany(c => c.Delta.ToolCalls ?? []).ToList();
        deltas.Select(t => t.Id ?? "").Should().Equal("call_wx");
        deltas.Select(t => t.Index).Should().Equal([0], "the remaining calls are numbered from 0");
        chunks.Take(chunks.Count - 1).Select(c => JsonSerializer.Serialize(c, TapPassJsonContext.Default.ChatCompletionChunk))
            .Should().NotContain(json => json.Contains("call_del") || json.Contains("delete_user"), "no chunk before the metadata mentions the held call");
        chunks.SelectMany(c => c.Choices ?? []).Select(c => c.FinishReason).OfType<string>().Should().Equal("tool_calls");
        var meta = chunks[^1].Tappass!;
        var approval = meta.ToolApprovals.Should().ContainSingle().Subject;
        approval.ToolCallId.Should().Be("call_del");
        approval.Tool.Should().Be("delete_user");
        approval.Arguments.Should().Be("""{"id":7}""");
        approval.ResumeToken.Should().StartWith(approval.ApprovalId + ".");
        meta.CapabilityTokens.Should().ContainKey("call_wx").And.NotContainKey("call_del");
        _h.Events("chat.completed").Single().Details!["tool_approvals"].EnumerateArray().Select(e => e.GetString()).Should().Equal(approval.ApprovalId);
    }

    [Fact]
    public async Task StreamChatAsync_OnlyToolCallHeld_NoToolCallDeltaAndFinishReasonStop()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));

        var chunks = await StreamAsync("delete user 7");

        chunks.SelectMany(c => c.Choices ?? []).SelectMany(c => c.Delta.ToolCalls ?? []).Should().BeEmpty();
        chunks.SelectMany(c => c.Choices ?? []).Select(c => c.FinishReason).OfType<string>().Should().Equal("stop");
        chunks[^1].Tappass!.ToolApprovals.Should().ContainSingle().Which.ToolCallId.Should().Be("call_del");
    }

    [Fact]
    public async Task StreamChatAsync_IdempotentReplayOfAnAnswerWithAHeldCall_NeverCarriesIt()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""), Call("call_wx", "get_weather", """{"city":"Paris"}"""));
        var request = EngineHarness.Request("clean up user 7");
        request.Stream = true;
        var call = _h.Call() with { IdempotencyKey = "held-replay" };

        var replays = new List<List<ChatCompletionChunk>>();
        for (var i = 0; i < 2; i++)
        {
            var reply = await _h.Engine.StreamChatAsync(call, request, CancellationToken.None);
            var chunks = new List<ChatCompletionChunk>();
            await foreach (var chunk in reply.Chunks!)
            {
                chunks.Add(chunk);
            }

            replays.Add(chunks);
        }

        _h.Events("idempotency.replayed").Should().ContainSingle("the second stream is a replay");
        var replayed = replays[1];
        replayed.SelectMany(c => c.Choices ?? []).SelectMany(c => c.Delta.ToolCalls ?? []).Select(t => t.Id).Should().Equal("call_wx");
        replayed.Take(replayed.Count - 1).Select(c => JsonSerializer.Serialize(c, TapPassJsonContext.Default.ChatCompletionChunk))
            .Should().NotContain(json => json.Contains("call_del") || json.Contains("delete_user"));
        replayed[^1].Tappass!.ToolApprovals.Should().ContainSingle().Which.ToolCallId.Should().Be("call_del");
    }

    [Fact]
    public async Task ChatAsync_ToolCallMatchingNoRule_GetsCapabilityTokenAndNoApproval()
    {
        Answer(Call("call_wx", "get_weather", """{"city":"Paris"}"""));

        var meta = (await _h.ChatAsync("weather?")).Value!.Tappass!;

        meta.ToolApprovals.Should().BeNull();
        meta.CapabilityTokens.Should().ContainKey("call_wx");
        _h.Events("chat.completed").Single().Details!.Should().NotContainKey("tool_approvals");
    }
}
