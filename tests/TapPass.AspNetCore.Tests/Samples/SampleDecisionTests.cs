using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MinimalApi;
using static TapPass.AspNetCore.Tests.Samples.SampleHttp;

namespace TapPass.AspNetCore.Tests.Samples;

/// <summary>
/// Every governance decision of the sample, reached like its README's curl lines, on the real embedded engine: the HTTP
/// status, the ProblemDetails fields and the audit events each leaves (metadata only).
/// </summary>
public sealed class SampleDecisionTests(SampleFactory factory) : IClassFixture<SampleFactory>
{
    private const string External = "someone@gmail.com";

    [Fact]
    public async Task Chat_ShowMeAllCreditCards_PolicyBlock403_AuditsChatBlockedWithoutThePrompt()
    {
        using var client = factory.CreateClient();

        var response = await ChatAsync(client, "Show me all credit cards");

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock, "/chat");
        var blockedBy = problem.GetProperty("blocked_by").GetString();
        blockedBy.Should().NotBeNullOrEmpty();
        problem.GetProperty("reason").GetString().Should().NotBeNullOrEmpty();
        problem.GetProperty("help").GetString().Should().Be("https://tappass.dev/docs/runtime-governance");

        var events = await AuditAsync(factory, problem.GetProperty("session_id").GetString());
        var blocked = events.Should().ContainSingle(e => e.EventType == "chat.blocked").Subject;
        blocked.Decision.Should().Be("block");
        blocked.BlockedBy.Should().Be(blockedBy);
        blocked.PipelineUuid.Should().Be(problem.GetProperty("pipeline_uuid").GetString());
        ShouldNotContainValues(events, "Show me all credit cards", "credit cards");
    }

    [Fact]
    public async Task Chat_PolicyBlock403_BodyHasExactlyOneTraceId_SpelledSnakeCaseLikeTheFrameworksOwnProblems()
    {
        using var client = factory.CreateClient();

        var blocked = await JsonAsync(await ChatAsync(client, "Show me all credit cards"));
        var notFound = await JsonAsync(await client.GetAsync("/approvals/apr_does_not_exist"));

        blocked.GetProperty("status").GetInt32().Should().Be(403);
        Errors.TraceIdMemberTests.TraceIdMembers(blocked).Should().Equal("trace_id");
        notFound.GetProperty("status").GetInt32().Should().Be(404);
        Errors.TraceIdMemberTests.TraceIdMembers(notFound).Should().Equal(["trace_id"], "the framework's own problem bodies in the sample name it the same way");
    }

    [Fact]
    public async Task SendEmail_OutsideTheInternalDomain_PolicyBlock403ByEmailPolicy_NothingSent_AuditsToolDecidedBlock()
    {
        using var client = factory.CreateClient();
        var outbox = factory.Services.GetRequiredService<Outbox>();

        var response = await PostAsync(client, "/tools/send-email", new { to = External, subject = "Quarterly numbers", body = "Attached." });

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock, "/tools/send-email");
        problem.GetProperty("blocked_by").GetString().Should().Be("email_policy");
        problem.GetProperty("reason").GetString().Should().Contain("internal:example.com").And.NotContain(External);
        outbox.Sent.Should().NotContain(m => m.To == External);

        var events = await AuditAsync(factory, problem.GetProperty("session_id").GetString());
        var decided = events.Should().ContainSingle(e => e.EventType == "tool.decided").Subject;
        decided.Tool.Should().Be("send_email");
        decided.Decision.Should().Be("block");
        decided.BlockedBy.Should().Be("email_policy");
        events.Should().NotContain(e => e.EventType == "tool.executed");
        ShouldNotContainValues(events, External, "Quarterly numbers", "Attached.");
    }

    [Fact]
    public async Task SendEmail_Internal_Allowed200_RunsTheToolInTheDecision_AuditsDecidedAndExecuted()
    {
        using var client = factory.CreateClient();

        var response = await PostAsync(client, "/tools/send-email", new { to = "team@example.com", subject = "Status", body = "All green." });
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("status").GetString().Should().Be("sent");
        var governance = body.GetProperty("governance");
        governance.GetProperty("outcome").GetString().Should().Be("allow");
        var session = governance.GetProperty("session_id").GetString();
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal(session);

        var events = await AuditAsync(factory, session);
        events.Select(e => e.EventType).Should().Equal("session.opened", "tool.decided", "tool.executed");
        events[1].Decision.Should().Be("allow");
        events[1].PipelineUuid.Should().Be(governance.GetProperty("pipeline_uuid").GetString());
        events[2].Decision.Should().Be("ok");
        ShouldNotContainValues(events, "team@example.com", "All green.");
    }

    [Fact]
    public async Task TransferFunds_OverTheLimit_Approval428_ApproveResume200_Replay403_EachStepAudited()
    {
        using var client = factory.CreateClient();
        var ledger = factory.Services.GetRequiredService<Ledger>();
        const decimal amount = 5_000.01m;

        // 1. Held: 428 with the approval page, the resume token and its expiry.
        var held = await TransferAsync(client, amount);
        var problem = await ProblemAsync(held, (HttpStatusCode)428, TapPassProblemTypes.ApprovalRequired, "/tools/transfer-funds");
        var approvalId = problem.GetProperty("approval_id").GetString()!;
        approvalId.Should().StartWith("apr_");
        problem.GetProperty("approval_url").GetString().Should().Be($"http://localhost:5080/approvals/{approvalId}");
        var token = problem.GetProperty("resume_token").GetString()!;
        token.Should().StartWith(approvalId + ".");
        var expiresAt = DateTimeOffset.Parse(problem.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        expiresAt.Should().BeCloseTo(TimeProvider.System.GetUtcNow().AddHours(1), TimeSpan.FromMinutes(2));
        var session = problem.GetProperty("session_id").GetString()!;
        ledger.Transfers.Should().NotContain(t => t.Amount == amount);

        // The approval page (approval_url) shows it pending; resuming before a decision is 428 again.
        var page = await JsonAsync(await client.GetAsync(new Uri(problem.GetProperty("approval_url").GetString()!).PathAndQuery));
        page.GetProperty("status").GetString().Should().Be("pending");
        page.GetProperty("rule").GetString().Should().Be("large-transfer");
        page.TryGetProperty("resume_token", out _).Should().BeFalse();
        (await TransferAsync(client, amount, session, token)).StatusCode.Should().Be((HttpStatusCode)428);

        // 2. A reviewer approves.
        var approved = await PostAsync(client, $"/approvals/{approvalId}/approve", new { reason = "Invoice 2026-117" });
        approved.StatusCode.Should().Be(HttpStatusCode.OK);
        (await JsonAsync(approved)).GetProperty("status").GetString().Should().Be("approved");

        // 3. The identical call with the token, in the same session, runs once.
        var resumed = await TransferAsync(client, amount, session, token);
        var receipt = await JsonAsync(resumed);
        resumed.StatusCode.Should().Be(HttpStatusCode.OK, receipt.ToString());
        receipt.GetProperty("status").GetString().Should().Be("transferred");
        receipt.GetProperty("governance").GetProperty("session_id").GetString().Should().Be(session);

        // 4. Replay: 403 policy-block by require_approval, and nothing moves.
        var replay = await TransferAsync(client, amount, session, token);
        var refused = await ProblemAsync(replay, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock, "/tools/transfer-funds");
        refused.GetProperty("blocked_by").GetString().Should().Be("require_approval");
        refused.GetProperty("reason").GetString().Should().Contain("already used");
        ledger.Transfers.Count(t => t.Amount == amount).Should().Be(1);

        var events = await AuditAsync(factory, session);
        events.Select(e => (e.EventType, e.Decision, e.BlockedBy)).Should().Equal(
            ("session.opened", "allow", null),
            ("approval.requested", "needs_approval", "require_approval"),
            ("approval.requested", "needs_approval", "require_approval"),
            ("approval.decided", "approved", null),
            ("tool.decided", "allow", null),
            ("tool.executed", "ok", null),
            ("tool.decided", "block", "require_approval"));
        events[1].PipelineUuid.Should().Be(problem.GetProperty("pipeline_uuid").GetString());
        Detail(events[1], "approval_id").Should().Be(approvalId);
        Detail(events[3], "rule").Should().Be("large-transfer");
        events[3].Reason.Should().Be("Invoice 2026-117");
        events[6].PipelineUuid.Should().Be(refused.GetProperty("pipeline_uuid").GetString());
        ShouldNotContainValues(events, Iban, "5000.01", token[(approvalId.Length + 1)..]);
    }

    [Fact]
    public async Task TransferFunds_Denied_ResumeIs403RequireApproval_AndNothingMoves()
    {
        using var client = factory.CreateClient();
        const decimal amount = 7_777m;
        var problem = await JsonAsync(await TransferAsync(client, amount));
        var approvalId = problem.GetProperty("approval_id").GetString()!;

        (await PostAsync(client, $"/approvals/{approvalId}/deny", new { reason = "Unknown account" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var resumed = await TransferAsync(client, amount, problem.GetProperty("session_id").GetString(), problem.GetProperty("resume_token").GetString());

        var refused = await ProblemAsync(resumed, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock, "/tools/transfer-funds");
        refused.GetProperty("blocked_by").GetString().Should().Be("require_approval");
        refused.GetProperty("reason").GetString().Should().Contain("denied");
        factory.Services.GetRequiredService<Ledger>().Transfers.Should().NotContain(t => t.Amount == amount);
        (await AuditAsync(factory, problem.GetProperty("session_id").GetString())).Should().Contain(e => e.EventType == "approval.decided" && e.Decision == "denied");
    }

    [Fact]
    public async Task TransferFunds_UnderTheLimit_Allowed200WithoutApproval()
    {
        using var client = factory.CreateClient();

        var response = await TransferAsync(client, 250m);
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("status").GetString().Should().Be("transferred");
        body.GetProperty("governance").GetProperty("outcome").GetString().Should().Be("allow");
    }

    [Fact]
    public async Task DeleteRecords_StandardTierAgent_TrustTierDenied403_RecordsUntouched_AuditsBothTiers()
    {
        using var client = factory.CreateClient();
        var records = factory.Services.GetRequiredService<RecordStore>();
        var before = records.Count("customers");

        var response = await PostAsync(client, "/tools/delete-records", new { table = "customers" });

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, TapPassProblemTypes.TrustTierDenied, "/tools/delete-records");
        problem.GetProperty("required_tier").GetString().Should().Be("full");
        problem.GetProperty("actual_tier").GetString().Should().Be("standard");
        records.Count("customers").Should().Be(before).And.BePositive();

        var events = await AuditAsync(factory, problem.GetProperty("session_id").GetString());
        var decided = events.Should().ContainSingle(e => e.EventType == "tool.decided").Subject;
        (decided.Tool, decided.Decision, decided.BlockedBy).Should().Be(("delete_records", "block", "trust_tier"));
        Detail(decided, "required_tier").Should().Be("full");
        Detail(decided, "actual_tier").Should().Be("standard");
        events.Should().NotContain(e => e.EventType == "tool.executed");
        ShouldNotContainValues(events, "customers");
    }

    [Fact]
    public async Task ReadFile_NotRegistered_ToolIntegrityViolation422_AuditsTheViolation()
    {
        using var client = factory.CreateClient();

        var response = await PostAsync(client, "/tools/read-file", new { path = "docs/handbook.md" });

        var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity, TapPassProblemTypes.ToolIntegrityViolation, "/tools/read-file");
        problem.GetProperty("tool_name").GetString().Should().Be("read_file");
        problem.GetProperty("violation").GetString().Should().Be("unregistered_tool");

        var events = await AuditAsync(factory, problem.GetProperty("session_id").GetString());
        var decided = events.Should().ContainSingle(e => e.EventType == "tool.decided").Subject;
        (decided.Tool, decided.Decision, decided.BlockedBy).Should().Be(("read_file", "block", "tool_integrity"));
        Detail(decided, "violation").Should().Be("unregistered_tool");
        ShouldNotContainValues(events, "docs/handbook.md");
    }

    [Fact]
    public async Task AuditUrl_OfADecision_ServesThatSessionsEventsWithoutContent()
    {
        using var client = factory.CreateClient();
        var problem = await JsonAsync(await ChatAsync(client, "Show me all credit cards"));
        var auditUrl = new Uri(problem.GetProperty("audit_url").GetString()!);

        var response = await client.GetAsync(auditUrl.PathAndQuery);
        var page = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        page.GetProperty("session_id").GetString().Should().Be(problem.GetProperty("session_id").GetString());
        page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString())
            .Should().Equal("session.opened", "chat.blocked");
        page.GetRawText().Should().NotContain("credit cards");
    }

    [Fact]
    public async Task CapabilityToken_OfAnAllowedCall_VerifiesOfflineAgainstTheSamplesJwks_AndOnlyForItsToolAgentAndSession()
    {
        using var client = factory.CreateClient();
        var jwksResponse = await client.GetAsync("/.well-known/jwks.json");
        jwksResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        var jwks = await jwksResponse.Content.ReadAsStringAsync();
        JsonDocument.Parse(jwks).RootElement.GetProperty("keys")[0].GetProperty("alg").GetString().Should().Be("ES256");
        var (token, session) = await CapabilityTokens.SendEmailAsync(factory);
        var now = TimeProvider.System.GetUtcNow();

        CapabilityTokenVerifier.Verify(token, jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.Valid);
        var claims = CapabilityTokenVerifier.Claims(token);
        claims.GetProperty("iss").GetString().Should().Be("http://localhost:5080");
        (claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64()).Should().Be(60);

        // Other tool, other agent, other session: refused by the receiving service.
        CapabilityTokenVerifier.Verify(token, jwks, "transfer_funds", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.WrongTool);
        CapabilityTokenVerifier.Verify(token, jwks, "send_email", ClockedSampleFactory.AgentBUuid, session, now).Should().Be(CapabilityVerdict.WrongAgent);
        CapabilityTokenVerifier.Verify(token, jwks, "send_email", SampleIds.EmbeddedAgentUuid, "ses_someoneElse000000000000", now).Should().Be(CapabilityVerdict.WrongSession);

        // Tampered: claims rewritten to another tool (signature kept), or re-signed with a key the gateway never published.
        var rewritten = CapabilityTokenVerifier.WithClaims(token, claims.GetRawText().Replace("\"send_email\"", "\"transfer_funds\"", StringComparison.Ordinal));
        CapabilityTokenVerifier.Verify(rewritten, jwks, "transfer_funds", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.BadSignature);
        CapabilityTokenVerifier.Verify(CapabilityTokenVerifier.ResignedWithForeignKey(token), jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.BadSignature);
        CapabilityTokenVerifier.Verify(token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA"), jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.BadSignature);
    }

    [Fact]
    public async Task CapabilityToken_CarriesAFreshJtiPerCall_SoAReceiverRejectsAReplay()
    {
        using var client = factory.CreateClient();
        var jwks = await client.GetStringAsync("/.well-known/jwks.json");
        var (first, firstSession) = await CapabilityTokens.SendEmailAsync(factory);
        var (second, secondSession) = await CapabilityTokens.SendEmailAsync(factory);
        var accepted = new HashSet<string>(StringComparer.Ordinal);
        var now = TimeProvider.System.GetUtcNow();

        CapabilityTokenVerifier.Verify(first, jwks, "send_email", SampleIds.EmbeddedAgentUuid, firstSession, now, accepted).Should().Be(CapabilityVerdict.Valid);
        CapabilityTokenVerifier.Verify(first, jwks, "send_email", SampleIds.EmbeddedAgentUuid, firstSession, now, accepted).Should().Be(CapabilityVerdict.Replayed);
        CapabilityTokenVerifier.Verify(second, jwks, "send_email", SampleIds.EmbeddedAgentUuid, secondSession, now, accepted).Should().Be(CapabilityVerdict.Valid);
        CapabilityTokenVerifier.Claims(second).GetProperty("jti").GetString().Should().NotBe(CapabilityTokenVerifier.Claims(first).GetProperty("jti").GetString());
    }
}
