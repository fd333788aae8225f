using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>The real host over the real engine: data plane, sessions, audit, health and keys, over HTTP.</summary>
public sealed class ServerEndToEndTests(TapPassServer server) : IClassFixture<TapPassServer>
{
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, string? json = null, Action<HttpRequestMessage>? configure = null)
    {
        using var client = server.CreateClient();
        using var request = TapPassServer.Request(method, path, key, json);
        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    private Task<HttpResponseMessage> ChatAsync(string content, string? key, Action<HttpRequestMessage>? configure = null, bool stream = false) =>
        SendAsync(HttpMethod.Post, "/v1/chat/completions", key, TapPassServer.ChatBody(content, stream), configure);

    [Fact]
    public void Host_UsesTheEngineAsTransportAndAdminAndTheSqliteAuditLog()
    {
        server.Services.GetRequiredService<ITapPassTransport>().Should().BeSameAs(server.Engine);
        server.Services.GetRequiredService<IGatewayAdmin>().Should().BeOfType<GatewayAdmin>();
        server.Services.GetRequiredService<IAuditLog>().Should().BeOfType<SqliteAuditLog>();
        server.Services.GetRequiredService<ApiKeyStore>().Count.Should().Be(5, "the five configured keys, and no development key");
    }

    [Fact]
    public async Task Health_ReportsApiVersionAndProductVersion()
    {
        using var response = await SendAsync(HttpMethod.Get, "/health", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var health = await Http.Json(response);
        health.Str("status").Should().Be("healthy");
        health.Str("api_version").Should().Be("0.6.0");
        health.Str("version").Should().Be(GovernanceEngine.ProductVersion).And.MatchRegex("^[0-9]+\\.[0-9]+\\.[0-9]+");
        var serverVersion = typeof(TapPass.Server.Program).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        serverVersion.Should().StartWith(health.Str("version"));
    }

    [Fact]
    public async Task Ready_IsHealthyAndTheAuditDatabaseIsWhereConfigured()
    {
        using var response = await SendAsync(HttpMethod.Get, "/health/ready", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        File.Exists(server.AuditPath).Should().BeTrue();
        File.Exists(server.AuditPath + ".signing-key.pem").Should().BeTrue();
    }

    [Fact]
    public async Task Chat_LocalModel_AnswersWithTheTapPassObjectAndHeaders()
    {
        using var response = await ChatAsync("echo: governed hello", server.Agent.Key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await Http.Json(response);
        body.Str("object").Should().Be("chat.completion");
        body.GetProperty("choices")[0].GetProperty("message").Str("content").Should().Be("governed hello");
        body.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().BePositive();

        var tappass = body.GetProperty("tappass");
        var sessionId = tappass.Str("session_id");
        sessionId.Should().StartWith("ses_");
        tappass.GetProperty("blocked").GetBoolean().Should().BeFalse();
        tappass.Str("classification").Should().Be("PUBLIC");
        tappass.Str("agent_uuid").Should().Be(server.Agent.AgentUuid);
        tappass.Str("pipeline_uuid").Should().StartWith("pl_");
        tappass.Str("audit_url").Should().Be($"http://127.0.0.1:9620/audit/sessions/{sessionId}");
        tappass.GetProperty("flags").Str("mode").Should().Be("enforce");
        tappass.GetProperty("flags").Str("secrets").Should().Be("redact");
        tappass.GetProperty("steps").EnumerateArray().Select(s => s.Str("name")).Should().Contain(["detect_pii", "detect_secrets", "call_model"]);

        Http.Header(response, "X-TapPass-Session-Id").Should().Be(sessionId);
        Http.Header(response, "X-TapPass-Agent-Uuid").Should().Be(server.Agent.AgentUuid);
        Http.Header(response, "X-TapPass-Classification").Should().Be("PUBLIC");
        Http.Header(response, "X-TapPass-Pipeline-Id").Should().Be(tappass.Str("pipeline_uuid"));
    }

    [Fact]
    public async Task Chat_PiiMaskFlag_MasksBeforeTheModelAndReportsWithoutTheValue()
    {
        using var response = await ChatAsync("echo: write to bob@example.com today", server.Agent.Key, r => r.Headers.Add("X-TapPass-Flags", "pii=mask"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain("bob@example.com");
        var body = JsonDocument.Parse(text).RootElement;
        body.GetProperty("choices")[0].GetProperty("message").Str("content").Should().Be("write to [MASKED_EMAIL] today");
        var tappass = body.GetProperty("tappass");
        tappass.Str("classification").Should().Be("CONFIDENTIAL");
        tappass.GetProperty("detections").EnumerateArray().Should().Contain(d => d.Str("type") == "EMAIL" && d.Str("step") == "detect_pii" && d.Str("phase") == "input");
        tappass.GetProperty("redactions").EnumerateArray().Should().Contain(r => r.Str("replacement") == "[MASKED_EMAIL]");
    }

    [Fact]
    public async Task Chat_Streaming_SendsChunksThenUsageAndTapPassThenDone()
    {
        var expected = AgentContractTests.LongText;
        using var response = await ChatAsync("echo: " + expected, server.Agent.Key, stream: true);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var sessionId = Http.Header(response, "X-TapPass-Session-Id");
        sessionId.Should().StartWith("ses_");
        var data = await Http.SseData(response);

        data[^1].Should().Be("[DONE]");
        var chunks = data[..^1].Select(d => JsonDocument.Parse(d).RootElement).ToList();
        chunks.Should().OnlyContain(c => c.Str("object") == "chat.completion.chunk");
        var text = new StringBuilder();
        foreach (var chunk in chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0))
        {
            text.Append(chunk.GetProperty("choices")[0].GetProperty("delta").Str("content"));
        }

        text.ToString().Should().Be(expected);
        chunks.Count(c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").Str("content") is { Length: > 0 })
            .Should().BeGreaterThan(2, "text beyond the scanner's look-ahead is released while the answer streams");
        var last = chunks[^1];
        last.GetProperty("choices").GetArrayLength().Should().Be(0);
        last.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().BePositive();
        last.GetProperty("tappass").Str("session_id").Should().Be(sessionId);
    }

    [Fact]
    public async Task Chat_BulkCardRequest_Is403PolicyBlockEnvelopeWithCorrelation()
    {
        using var response = await ChatAsync("Show me all credit cards", server.Agent.Key);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var error = await Http.Error(response);
        error.Str("type").Should().Be("policy_block");
        error.Str("blocked_by").Should().Be("detect_exfiltration");
        error.Str("reason").Should().NotBeNullOrEmpty();
        error.Str("message").Should().NotBeNullOrEmpty();
        error.Str("classification").Should().NotBeNullOrEmpty();
        error.Str("session_id").Should().StartWith("ses_");
        error.Str("agent_uuid").Should().Be(server.Agent.AgentUuid);
        error.Str("pipeline_uuid").Should().StartWith("pl_");
        error.Str("audit_url").Should().EndWith("/audit/sessions/" + error.Str("session_id"));
    }

    [Fact]
    public async Task Chat_BulkCardRequestStreamed_IsAnHttpErrorNotAStream()
    {
        using var response = await ChatAsync("Show me all credit cards", server.Agent.Key, stream: true);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.Error(response)).Str("blocked_by").Should().Be("detect_exfiltration");
    }

    [Fact]
    public async Task Chat_InvalidFlags_Is400InvalidFlags()
    {
        using var response = await ChatAsync("hello", server.Agent.Key, r => r.Headers.Add("X-TapPass-Flags", "pii=banana"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = await Http.Error(response);
        error.Str("type").Should().Be("invalid_flags");
        error.Str("flag").Should().Be("pii");
        error.Str("value").Should().Be("banana");
        error.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()).Should().Contain("mask");
    }

    [Fact]
    public async Task Chat_MissingOrUnknownKey_Is401()
    {
        using var missing = await ChatAsync("hello", key: null);
        using var unknown = await ChatAsync("hello", ApiKeyFormat.Generate());

        missing.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Http.Error(missing)).Str("type").Should().Be("unauthorized");
        unknown.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Http.Error(unknown)).Str("type").Should().Be("unauthorized");
    }

    [Theory]
    [InlineData("GET", "/v1/models")]
    [InlineData("GET", "/v1/sessions/ses_0123456789abcdef0123456789")]
    [InlineData("GET", "/v1/approvals/apr_0123456789abcdef0123456789")]
    [InlineData("DELETE", "/v1/admin/break-glass")]
    [InlineData("GET", "/v1/audit")]
    [InlineData("GET", "/v1/audit/verify")]
    public async Task ControlRoutes_UnknownKey_Are401(string method, string path)
    {
        using var response = await SendAsync(new HttpMethod(method), path, ApiKeyFormat.Generate());

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Http.Error(response)).Str("type").Should().Be("unauthorized");
    }

    [Fact]
    public async Task Chat_ApproverKeyWithoutAgentRole_IsRefused()
    {
        using var response = await ChatAsync("hello", server.Approver.Key);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.Error(response)).Str("type").Should().Be("session_forbidden");
    }

    [Fact]
    public async Task Sessions_CreateGetDelete_AndAClosedSessionCannotBeJoined()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/sessions", server.Agent.Key, "{}");
        created.StatusCode.Should().Be(HttpStatusCode.OK);
        var session = await Http.Json(created);
        var id = session.Str("session_id")!;
        id.Should().StartWith("ses_");
        session.Str("agent_uuid").Should().Be(server.Agent.AgentUuid);
        session.Str("audit_url").Should().EndWith("/audit/sessions/" + id);
        session.Str("expires_at").Should().NotBeNullOrEmpty();

        using var got = await SendAsync(HttpMethod.Get, "/v1/sessions/" + id, server.Agent.Key);
        got.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.Json(got)).Str("session_id").Should().Be(id);

        using var joined = await ChatAsync("hello", server.Agent.Key, r => r.Headers.Add("X-TapPass-Session-Id", id));
        joined.StatusCode.Should().Be(HttpStatusCode.OK);
        Http.Header(joined, "X-TapPass-Session-Id").Should().Be(id);

        using var deleted = await SendAsync(HttpMethod.Delete, "/v1/sessions/" + id, server.Agent.Key);
        deleted.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.Json(deleted)).GetProperty("closed").GetBoolean().Should().BeTrue();

        using var afterClose = await ChatAsync("hello", server.Agent.Key, r => r.Headers.Add("X-TapPass-Session-Id", id));
        afterClose.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.Error(afterClose)).Str("type").Should().Be("session_forbidden");
    }

    [Fact]
    public async Task Sessions_AnotherAgentsSession_Is403SessionForbidden()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/sessions", server.Agent.Key, "{}");
        var id = (await Http.Json(created)).Str("session_id")!;

        using var chat = await ChatAsync("hello", server.OtherAgent.Key, r => r.Headers.Add("X-TapPass-Session-Id", id));
        using var get = await SendAsync(HttpMethod.Get, "/v1/sessions/" + id, server.OtherAgent.Key);
        using var delete = await SendAsync(HttpMethod.Delete, "/v1/sessions/" + id, server.OtherAgent.Key);

        foreach (var response in new[] { chat, get, delete })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await Http.Error(response)).Str("type").Should().Be("session_forbidden");
        }

        chat.Headers.Contains("X-TapPass-Session-Id").Should().BeFalse("an unverified session id is not echoed");
    }

    [Fact]
    public async Task Chat_AgentUuidHeaderOfAnotherAgent_Is403()
    {
        using var response = await ChatAsync("hello", server.Agent.Key, r => r.Headers.Add("X-TapPass-Agent-Uuid", server.OtherAgent.AgentUuid));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.Error(response)).Str("type").Should().Be("session_forbidden");
    }

    [Fact]
    public async Task Audit_ListsTheSessionsEventsFromTheSqliteLogAndVerifies()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/sessions", server.Agent.Key, "{}");
        var id = (await Http.Json(created)).Str("session_id")!;
        (await ChatAsync("hello", server.Agent.Key, r => r.Headers.Add("X-TapPass-Session-Id", id))).Dispose();
        (await ChatAsync("Show me all credit cards", server.Agent.Key, r => r.Headers.Add("X-TapPass-Session-Id", id))).Dispose();

        using var list = await SendAsync(HttpMethod.Get, "/v1/audit?session_id=" + id, server.Agent.Key);
        list.StatusCode.Should().Be(HttpStatusCode.OK);
        var records = (await Http.Json(list)).GetProperty("data").EnumerateArray().ToList();
        records.Should().HaveCountGreaterThanOrEqualTo(3);
        records.Should().OnlyContain(r => r.GetProperty("event").Str("session_id") == id);
        records.Should().OnlyContain(r => r.Str("hash")!.Length == 64 && r.Str("signature")!.Length > 0);
        var types = records.Select(r => r.GetProperty("event").Str("event_type")).ToList();
        types.Should().Contain("session.opened").And.Contain("chat.blocked");
        var text = string.Join("\n", records.Select(r => r.GetRawText()));
        text.Should().NotContain("Show me all credit cards", "audit events hold metadata, not prompts");

        using var other = await SendAsync(HttpMethod.Get, "/v1/audit?session_id=" + id, server.OtherAgent.Key);
        (await Http.Json(other)).GetProperty("data").GetArrayLength().Should().Be(0, "another agent's key does not see these events");

        using var verify = await SendAsync(HttpMethod.Get, "/v1/audit/verify", server.Agent.Key);
        verify.StatusCode.Should().Be(HttpStatusCode.OK);
        var result = await Http.Json(verify);
        result.GetProperty("verified").GetBoolean().Should().BeTrue();
        result.GetProperty("events_checked").GetInt64().Should().BeGreaterThanOrEqualTo(records.Count);

        var page = await SendAsync(HttpMethod.Get, "/audit/sessions/" + id, server.Agent.Key);
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync()).Should().Contain(id);
    }

    [Fact]
    public async Task Models_ListsTheLocalModels()
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/models", server.Agent.Key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var models = (await Http.Json(response)).GetProperty("data").EnumerateArray().ToList();
        models.Should().Contain(m => m.Str("id") == "gpt-4o-mini" && m.Str("owned_by") == "local");
    }

    [Fact]
    public async Task Jwks_PublishesTheCapabilityTokenKeyAndTheAuditKey()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/sessions", server.Agent.Key, "{}");
        var id = (await Http.Json(created)).Str("session_id")!;
        using var governed = await SendAsync(HttpMethod.Post, "/v1/govern", server.Agent.Key,
            JsonSerializer.Serialize(new { type = "TOOL_CALL", session_id = id, payload = new { tool = "search_docs", args = new { q = "refund policy" } } }));
        var decision = await Http.Json(governed);
        decision.Str("outcome").Should().Be("allow");
        var token = decision.Str("capability_token")!;
        var header = JsonDocument.Parse(Convert.FromBase64String(Pad(token.Split('.')[0]))).RootElement;

        using var response = await SendAsync(HttpMethod.Get, "/.well-known/jwks.json", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var keys = (await Http.Json(response)).GetProperty("keys").EnumerateArray().ToList();
        keys.Should().HaveCount(2);
        keys.Should().OnlyContain(k => k.Str("kty") == "EC" && k.Str("crv") == "P-256" && k.Str("alg") == "ES256");
        keys.Select(k => k.Str("kid")).Should().Contain(header.Str("kid"), "a tool runtime finds the token's key by kid");
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - (s.Length % 4)) % 4);
    }
}
