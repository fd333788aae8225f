using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests;

/// <summary>Every error of PROTOCOL.md §4, over HTTP, through the agent: the exception, its fields, and whether it was retried.</summary>
public sealed class TapPassAgentErrorTests
{
    private static async Task<(TException Exception, FakeGateway Gateway)> ChatFails<TException>(int status, string type, TimeSpan? retryAfter = null, int maxRetries = 2)
        where TException : Exception
    {
        var gateway = new FakeGateway { Default = Responses.Error(status, type, retryAfter) };
        var time = new FakeTimeProvider();
        using var agent = TestAgents.Create(gateway, o => o.MaxRetries = maxRetries, time: time);
        var call = agent.ChatAsync("hello");
        await time.DriveAsync(call);

        var ex = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<TException>()).Which;
        return (ex, gateway);
    }

    private static void ShouldCarryCorrelationIds(GovernanceDecision decision)
    {
        decision.SessionId.Should().Be("ses_err1");
        decision.TaskId.Should().Be("tsk_err1");
        decision.AgentUuid.Should().Be(FakeGateway.AgentUuid);
        decision.PipelineUuid.Should().Be("pl_err1");
        decision.AuditUrl.Should().Be(FakeGateway.Url + "/audit/sessions/ses_err1");
    }

    [Fact]
    public async Task PolicyBlock_Throws_WithBlockedByReasonStepDetailsAndIds_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<PolicyBlockException>(403, "policy_block");

        ex.BlockedBy.Should().Be("detect_pii");
        ex.Reason.Should().Be("PII detected in prompt: EMAIL, CREDIT_CARD");
        ex.StepDetails["types"].EnumerateArray().Select(e => e.GetString()).Should().Equal("EMAIL", "CREDIT_CARD");
        ex.Classification.Should().Be(Classification.Restricted);
        ex.StatusCode.Should().Be(403);
        ex.ErrorType.Should().Be("policy_block");
        ex.Message.Should().Be("Request blocked by detect_pii: PII detected in prompt");
        ShouldCarryCorrelationIds(ex);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task ApprovalRequired_Throws_WithApprovalFields_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<ApprovalRequiredException>(428, "approval_required");

        ex.ApprovalUrl.Should().Be(FakeGateway.Url + "/approvals/apr_1");
        ex.ApprovalId.Should().Be("apr_1");
        ex.ResumeToken.Should().Be("rt_abc123");
        ex.ExpiresAt.Should().Be(new DateTimeOffset(2025, 6, 1, 13, 0, 0, TimeSpan.Zero));
        ex.Reason.Should().Be("RESTRICTED data needs approval");
        ex.BlockedBy.Should().Be("require_approval");
        ShouldCarryCorrelationIds(ex);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task TrustTierDenied_Throws_WithBothTiers_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<TrustTierDeniedException>(403, "trust_tier_denied");

        ex.RequiredTier.Should().Be("full");
        ex.ActualTier.Should().Be("worker");
        ShouldCarryCorrelationIds(ex);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task BreakGlassActive_503_Throws_WithRetryAfterAndLevel_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<BreakGlassActiveException>(503, "break_glass_active", retryAfter: TimeSpan.FromSeconds(1800));

        ex.Level.Should().Be("halt");
        ex.RetryAfter.Should().Be(TimeSpan.FromSeconds(1800));
        ex.ExpiresAt.Should().Be(new DateTimeOffset(2025, 6, 1, 12, 30, 0, TimeSpan.Zero));
        ex.Reason.Should().Be("incident 42");
        ex.StatusCode.Should().Be(503);
        ShouldCarryCorrelationIds(ex);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task ToolIntegrityViolation_Throws_WithToolAndViolation_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<ToolIntegrityViolationException>(422, "tool_integrity_violation");

        ex.ToolName.Should().Be("send_email");
        ex.Violation.Should().Be("definition_changed");
        ShouldCarryCorrelationIds(ex);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task SessionForbidden_ThrowsAuthorizationException_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<TapPassAuthorizationException>(403, "session_forbidden");

        ex.StatusCode.Should().Be(403);
        ex.ErrorType.Should().Be("session_forbidden");
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task InvalidFlags_ThrowsConfigException_WithFlagValueAllowed_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<TapPassConfigException>(400, "invalid_flags");

        ex.Setting.Should().Be("Flags");
        ex.Flag.Should().Be("pii");
        ex.Value.Should().Be("shred");
        ex.Allowed.Should().Equal("mask", "block", "flag", "off");
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task InvalidRequest_ThrowsTapPassException_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<TapPassException>(413, "invalid_request");

        ex.GetType().Should().Be<TapPassException>();
        ex.ErrorType.Should().Be("invalid_request");
        ex.StatusCode.Should().Be(413);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task Unauthorized_ThrowsAuthenticationException_NeverRetried_MessageHasNoKey()
    {
        var (ex, gateway) = await ChatFails<TapPassAuthenticationException>(401, "unauthorized");

        ex.StatusCode.Should().Be(401);
        ex.Message.Should().NotContain(FakeGateway.ApiKey);
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task IdempotencyConflict_ThrowsTapPassException_NeverRetried()
    {
        var (ex, gateway) = await ChatFails<TapPassException>(409, "idempotency_conflict");

        ex.ErrorType.Should().Be("idempotency_conflict");
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Theory]
    [InlineData(502)]
    [InlineData(504)]
    public async Task UpstreamError_IsRetried_ThenThrowsUpstreamException(int status)
    {
        var (ex, gateway) = await ChatFails<TapPassUpstreamException>(status, "upstream_error", maxRetries: 2);

        ex.Provider.Should().Be("openai");
        ex.StatusCode.Should().Be(status);
        gateway.ChatRequests.Should().HaveCount(3);
    }

    [Fact]
    public async Task Unavailable_IsRetried_ThenThrowsConnectionExceptionNamingUrl()
    {
        var (ex, gateway) = await ChatFails<TapPassConnectionException>(503, "unavailable", maxRetries: 3);

        ex.Url.Should().Be(FakeGateway.Url + "/");
        ex.ErrorType.Should().Be("unavailable");
        gateway.ChatRequests.Should().HaveCount(4);
    }

    [Fact]
    public async Task UnknownErrorType_ThrowsBaseTapPassException()
    {
        var (ex, gateway) = await ChatFails<TapPassException>(418, "teapot");

        ex.GetType().Should().Be<TapPassException>();
        ex.ErrorType.Should().Be("teapot");
        gateway.ChatRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task Decision_RecordsReturnedIdsOnAmbientSession()
    {
        var gateway = new FakeGateway { Default = Responses.Error(403, "policy_block") };
        using var agent = TestAgents.Create(gateway);
        using var scope = TapPassSession.Begin();

        await agent.Invoking(a => a.ChatAsync("x")).Should().ThrowAsync<PolicyBlockException>();

        scope.Session.SessionId.Should().Be("ses_err1");
        scope.Session.AuditUrl.Should().Be(FakeGateway.Url + "/audit/sessions/ses_err1");
    }
}
