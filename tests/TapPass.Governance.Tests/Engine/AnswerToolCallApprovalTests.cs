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
    public async Task ChatAsync_ToolCallHeldByRule_IsReturnedWithPendingApprovalAndNoCapabilityToken()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""), Call("call_wx", "get_weather", """{"city":"Paris"}"""));

        var reply = await _h.ChatAsync("clean up user 7 and check the weather");

        reply.StatusCode.Should().Be(200, "tool calls in an answer are output: the answer is not refused, the held call is marked");
        var message = reply.Value!.Choices[0].Message;
        message.ToolCalls!.Select(t => t.Id).Should().Equal("call_del", "call_wx");
        var meta = reply.Value.Tappass!;
        var approval = meta.ToolApprovals.Should().ContainSingle().Which;
        approval.Key.Should().Be("call_del");
        approval.Value.ApprovalId.Should().StartWith("apr_");
        approval.Value.ApprovalUrl.Should().Be("http://localhost:9620/approvals/" + approval.Value.ApprovalId);
        approval.Value.ResumeToken.Should().StartWith(approval.Value.ApprovalId + ".");
        approval.Value.Status.Should().Be("pending");
        approval.Value.Subject.Should().Be("tool:delete_user");
        approval.Value.Rule.Should().Be("deletes");
        approval.Value.ExpiresAt.Should().Be(_h.Time.GetUtcNow().AddHours(1));
        meta.CapabilityTokens.Should().ContainKey("call_wx").And.NotContainKey("call_del");
        meta.Steps.Should().Contain(s => s.Name == "tool_calls" && s.Outcome == "needs_approval");

        var completed = _h.Events("chat.completed").Should().ContainSingle().Subject;
        completed.Details!["tool_approvals"].EnumerateArray().Select(e => e.GetString()).Should().Equal(approval.Value.ApprovalId);
        completed.Details["tool_approval_tools"].EnumerateArray().Select(e => e.GetString()).Should().Equal("tool:delete_user");
        (await _h.Engine.GetApprovalAsync(_h.Identity(_h.ApproverKey), approval.Value.ApprovalId!, CancellationToken.None)).Value!.Status.Should().Be("pending");
    }

    [Fact]
    public async Task HeldToolCall_OnceApproved_IsAllowedByGovernWithItsResumeTokenOnce()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""));
        var reply = (await _h.ChatAsync("delete user 7")).Value!;
        var approval = reply.Tappass!.ToolApprovals!["call_del"];
        var session = reply.Tappass.SessionId!;
        await _h.Engine.DecideApprovalAsync(_h.Identity(_h.ApproverKey), approval.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);

        var govern = new GovernRequest { SessionId = session, Payload = new GovernPayload { Tool = "delete_user", Args = EngineHarness.Json("""{ "id": 7 }""") } };
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
        var approval = reply.Tappass!.ToolApprovals!["call_del"];
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

        (meta.ToolApprovals?.ContainsKey("call_r") ?? false).Should().Be(held);
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
    public async Task StreamChatAsync_ToolCallHeldByRule_IsStreamedWithPendingApprovalAndNoCapabilityToken()
    {
        Answer(Call("call_del", "delete_user", """{"id":7}"""), Call("call_wx", "get_weather", """{"city":"Paris"}"""));

        var chunks = await StreamAsync("clean up user 7");

        chunks.Should().NotContain(c => c.Error != null);
        chunks.SelectMany(c => c.Choices ?? []).SelectMany(c => c.Delta.ToolCalls ?? []).Select(t => t.Id ?? "").Should().Equal("call_del", "call_wx");
        var meta = chunks[^1].Tappass!;
        var approval = meta.ToolApprovals.Should().ContainSingle().Which;
        approval.Key.Should().Be("call_del");
        approval.Value.ResumeToken.Should().StartWith(approval.Value.ApprovalId + ".");
        meta.CapabilityTokens.Should().ContainKey("call_wx").And.NotContainKey("call_del");
        _h.Events("chat.completed").Single().Details!["tool_approvals"].EnumerateArray().Select(e => e.GetString()).Should().Equal(approval.Value.ApprovalId);
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
