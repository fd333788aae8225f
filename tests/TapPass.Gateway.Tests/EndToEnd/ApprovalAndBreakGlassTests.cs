using System.Net;
using System.Text.Json;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>Approvals (rules from configuration, decided over HTTP with the approver key) and break-glass.</summary>
public sealed class ApprovalAndBreakGlassTests(TapPassServer server) : IClassFixture<TapPassServer>
{
    private const string ResumeHeader = "X-TapPass-Resume-Token";

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, string? json = null, Action<HttpRequestMessage>? configure = null)
    {
        using var client = server.CreateClient();
        using var request = TapPassServer.Request(method, path, key, json);
        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    private async Task<string> OpenSessionAsync(string key)
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/sessions", key, "{}");
        return (await Http.Json(created)).Str("session_id")!;
    }

    private Task<HttpResponseMessage> DecideAsync(string approvalId, string decision, string key) =>
        SendAsync(HttpMethod.Post, $"/v1/approvals/{approvalId}/decide", key, JsonSerializer.Serialize(new { decision, reason = "checked by a human" }));

    [Fact]
    public async Task Govern_MatchingToolRule_NeedsApproval_ApprovedResumeAllowsOnce()
    {
        var session = await OpenSessionAsync(server.Agent.Key);
        var body = JsonSerializer.Serialize(new { type = "TOOL_CALL", session_id = session, payload = new { tool = "delete_records", args = new { table = "customers", where = "id=7" } } });

        using var held = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key, body);
        held.StatusCode.Should().Be(HttpStatusCode.OK, "govern answers decisions as 200 (PROTOCOL.md §6)");
        var decision = await Http.Json(held);
        decision.Str("outcome").Should().Be("needs_approval");
        var approval = decision.GetProperty("approval");
        var token = approval.Str("resume_token")!;
        var approvalUrl = approval.Str("approval_url")!;
        var approvalId = approvalUrl[(approvalUrl.LastIndexOf('/') + 1)..];
        approvalId.Should().StartWith("apr_");
        approvalUrl.Should().Be("http://127.0.0.1:9620/approvals/" + approvalId);

        using var pending = await SendAsync(HttpMethod.Get, "/v1/approvals/" + approvalId, server.Approver.Key);
        pending.StatusCode.Should().Be(HttpStatusCode.OK);
        var info = await Http.Json(pending);
        info.Str("status").Should().Be("pending");
        info.GetRawText().Should().NotContain(token, "the resume token is never shown to reviewers");

        using var bySelf = await DecideAsync(approvalId, "approve", server.Agent.Key);
        bySelf.StatusCode.Should().Be(HttpStatusCode.Forbidden, "an agent key cannot approve its own call");

        using var approved = await DecideAsync(approvalId, "approve", server.Approver.Key);
        approved.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.Json(approved)).Str("status").Should().Be("approved");

        using var resumed = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key, body, r => r.Headers.Add(ResumeHeader, token));
        resumed.StatusCode.Should().Be(HttpStatusCode.OK);
        var allowed = await Http.Json(resumed);
        allowed.Str("outcome").Should().Be("allow");
        allowed.Str("capability_token").Should().NotBeNullOrEmpty();

        using var reused = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key, body, r => r.Headers.Add(ResumeHeader, token));
        var refused = await Http.Json(reused);
        refused.Str("outcome").Should().Be("block");
        refused.Str("blocked_by").Should().Be("require_approval");
    }

    [Fact]
    public async Task Chat_RestrictedPrompt_Is428_ApprovedResumeIs200_ReuseIs403()
    {
        var body = TapPassServer.ChatBody("echo: rotate sk_live_abcdefgh12345678 tonight");

        using var held = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, body);
        held.StatusCode.Should().Be((HttpStatusCode)428);
        var error = await Http.Error(held);
        error.Str("type").Should().Be("approval_required");
        var token = error.Str("resume_token")!;
        var session = error.Str("session_id")!;
        error.Str("expires_at").Should().NotBeNullOrEmpty();
        var approvalUrl = error.Str("approval_url")!;
        var approvalId = approvalUrl[(approvalUrl.LastIndexOf('/') + 1)..];

        using var approved = await DecideAsync(approvalId, "approve", server.Approver.Key);
        approved.StatusCode.Should().Be(HttpStatusCode.OK);

        void Resume(HttpRequestMessage r)
        {
            r.Headers.Add(ResumeHeader, token);
            r.Headers.Add("X-TapPass-Session-Id", session);
        }

        using var resumed = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, body, Resume);
        resumed.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = await Http.Json(resumed);
        answer.GetProperty("choices")[0].GetProperty("message").Str("content").Should().Be("rotate [REDACTED] tonight");
        answer.GetProperty("tappass").Str("classification").Should().Be("RESTRICTED");

        using var reused = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, body, Resume);
        reused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var refused = await Http.Error(reused);
        refused.Str("type").Should().Be("policy_block");
        refused.Str("blocked_by").Should().Be("require_approval");
    }

    [Fact]
    public async Task Chat_DeniedApproval_ResumeIs403()
    {
        var body = TapPassServer.ChatBody("echo: charge with sk_live_zyxwvuts98765432");
        using var held = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, body);
        var error = await Http.Error(held);
        var approvalUrl = error.Str("approval_url")!;

        using var denied = await DecideAsync(approvalUrl[(approvalUrl.LastIndexOf('/') + 1)..], "deny", server.Approver.Key);
        (await Http.Json(denied)).Str("status").Should().Be("denied");

        using var resumed = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, body, r =>
        {
            r.Headers.Add(ResumeHeader, error.Str("resume_token"));
            r.Headers.Add("X-TapPass-Session-Id", error.Str("session_id"));
        });
        resumed.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.Error(resumed)).Str("blocked_by").Should().Be("require_approval");
    }

    /// <summary>Sends a chat and reads the answer's tool calls, finish reason, <c>tappass</c> object and (streamed) the
    /// raw text of every chunk except the <c>tappass</c> member of the last one.</summary>
    private async Task<(List<(string Id, string Name, string Arguments)> Calls, string? Finish, JsonElement Tappass, List<string> Visible)> AnswerAsync(string prompt, bool stream)
    {
        using var answered = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, TapPassServer.ChatBody(prompt, stream));
        answered.StatusCode.Should().Be(HttpStatusCode.OK, "a tool call in an answer is output; holding it does not refuse the answer");
        if (stream)
        {
            var events = await Http.SseData(answered);
            events[^1].Should().Be("[DONE]");
            var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
            chunks.Where(c => c.TryGetProperty("error", out _)).Should().BeEmpty();
            var choices = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).ToList();
            var deltas = choices
                .Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _))
                .SelectMany(c => c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray()).ToList();
            var finishes = choices.Where(c => c.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String).Select(c => c.Str("finish_reason")).ToList();
            finishes.Should().ContainSingle();
            var visible = chunks.Select(c => string.Join(",", c.EnumerateObject().Where(p => p.Name != "tappass").Select(p => p.Value.GetRawText()))).ToList();
            return ([.. deltas.Select(d => (d.Str("id")!, d.GetProperty("function").Str("name")!, d.GetProperty("function").Str("arguments")!))], finishes[0], chunks[^1].GetProperty("tappass"), visible);
        }

        var json = await Http.Json(answered);
        var choice = json.GetProperty("choices")[0];
        var message = choice.GetProperty("message");
        List<(string, string, string)> calls = message.TryGetProperty("tool_calls", out var toolCalls)
            ? [.. toolCalls.EnumerateArray().Select(t => (t.Str("id")!, t.GetProperty("function").Str("name")!, t.GetProperty("function").Str("arguments")!))]
            : [];
        return (calls, choice.Str("finish_reason"), json.GetProperty("tappass"), [json.GetProperty("choices").GetRawText()]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_AnswerToolCallMatchingRule_IsWithheld_OtherCallKeepsItsCapabilityToken_ApprovedGovernAllowsIt(bool stream)
    {
        var (calls, finish, tappass, visible) = await AnswerAsync("""call tool delete_records with {"table":"customers","id":7} and call tool lookup_order with {"order":"A-1"}""", stream);

        calls.Select(c => c.Name).Should().Equal(["lookup_order"], "a client that runs every tool call it sees must not see the held one");
        finish.Should().Be("tool_calls");
        var held = tappass.GetProperty("tool_approvals").EnumerateArray().Should().ContainSingle().Subject;
        var heldId = held.Str("tool_call_id")!;
        heldId.Should().NotBeNullOrEmpty().And.NotBe(calls[0].Id);
        held.Str("tool").Should().Be("delete_records");
        held.Str("arguments").Should().Be("""{"table":"customers","id":7}""");
        held.Str("arguments_sha256").Should().MatchRegex("^[0-9a-f]{64}$");
        held.Str("status").Should().Be("pending");
        held.Str("subject").Should().Be("tool:delete_records");
        held.Str("rule").Should().Be("deletes");
        visible.Should().NotContain(v => v.Contains(heldId) || v.Contains("delete_records"), "no chunk (and no choice) mentions the held call outside tappass.tool_approvals");
        var token = held.Str("resume_token")!;
        var approvalUrl = held.Str("approval_url")!;
        var approvalId = approvalUrl[(approvalUrl.LastIndexOf('/') + 1)..];
        held.Str("approval_id").Should().Be(approvalId);
        token.Should().StartWith(approvalId + ".");
        var capabilities = tappass.GetProperty("capability_tokens").EnumerateObject().Select(p => p.Name).ToList();
        capabilities.Should().Equal(calls[0].Id);

        var session = tappass.Str("session_id")!;
        using (var audit = await SendAsync(HttpMethod.Get, $"/v1/audit?session_id={session}&event_type=chat.completed", server.Agent.Key))
        {
            audit.StatusCode.Should().Be(HttpStatusCode.OK);
            (await audit.Content.ReadAsStringAsync()).Should().Contain(approvalId, "the audit event records the held tool call");
        }

        using var approved = await DecideAsync(approvalId, "approve", server.Approver.Key);
        approved.StatusCode.Should().Be(HttpStatusCode.OK);

        // The caller re-creates the call from its tool_approvals entry alone.
        var govern = JsonSerializer.Serialize(new { type = "TOOL_CALL", session_id = session, payload = new { tool = held.Str("tool"), args = JsonDocument.Parse(held.Str("arguments")!).RootElement } });
        using var resumed = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key, govern, r => r.Headers.Add(ResumeHeader, token));
        var allowed = await Http.Json(resumed);
        allowed.Str("outcome").Should().Be("allow");
        allowed.Str("capability_token").Should().NotBeNullOrEmpty();

        using var reused = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key, govern, r => r.Headers.Add(ResumeHeader, token));
        (await Http.Json(reused)).Str("outcome").Should().Be("block", "the resume token is single-use");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_OnlyAnswerToolCallHeld_AnswerHasNoToolCallsAndFinishReasonStop(bool stream)
    {
        var (calls, finish, tappass, visible) = await AnswerAsync("""call tool delete_records with {"table":"orders","id":9}""", stream);

        calls.Should().BeEmpty();
        finish.Should().Be("stop", "no tool call remains for the client to run");
        var held = tappass.GetProperty("tool_approvals").EnumerateArray().Should().ContainSingle().Subject;
        held.Str("tool").Should().Be("delete_records");
        tappass.TryGetProperty("capability_tokens", out _).Should().BeFalse();
        visible.Should().NotContain(v => v.Contains(held.Str("tool_call_id")!) || v.Contains("delete_records") || v.Contains("tool_calls"));
    }

    [Fact]
    public async Task BreakGlass_HaltRefusesTheOrgWith503RetryAfter_OtherOrgsContinue_DeleteEndsIt()
    {
        using var byAgent = await SendAsync(HttpMethod.Post, "/v1/admin/break-glass", server.HaltAgent.Key, """{"level":"halt","duration":"PT5M","reason":"incident"}""");
        byAgent.StatusCode.Should().Be(HttpStatusCode.Forbidden, "declaring needs the admin role");

        using var declared = await SendAsync(HttpMethod.Post, "/v1/admin/break-glass", server.HaltAdmin.Key, """{"level":"halt","duration":"PT5M","reason":"incident 42"}""");
        declared.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.Json(declared)).Str("level").Should().Be("halt");
        try
        {
            using var halted = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.HaltAgent.Key, TapPassServer.ChatBody("hello"));
            halted.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            halted.Headers.RetryAfter.Should().NotBeNull();
            var error = await Http.Error(halted);
            error.Str("type").Should().Be("break_glass_active");
            error.Str("level").Should().Be("halt");
            error.Str("expires_at").Should().NotBeNullOrEmpty();

            using var otherOrg = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.Agent.Key, TapPassServer.ChatBody("hello"));
            otherOrg.StatusCode.Should().Be(HttpStatusCode.OK, "break-glass is declared for the admin's org only");
        }
        finally
        {
            using var ended = await SendAsync(HttpMethod.Delete, "/v1/admin/break-glass", server.HaltAdmin.Key);
            ended.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var after = await SendAsync(HttpMethod.Post, "/v1/chat/completions", server.HaltAgent.Key, TapPassServer.ChatBody("hello"));
        after.StatusCode.Should().Be(HttpStatusCode.OK);

        using var again = await SendAsync(HttpMethod.Delete, "/v1/admin/break-glass", server.HaltAdmin.Key);
        again.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
