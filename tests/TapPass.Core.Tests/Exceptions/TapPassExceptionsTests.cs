using System.Text.Json;
using TapPass.Core.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Core.Tests.Exceptions;

public sealed class TapPassExceptionsTests
{
    private static ErrorBody Body(string type) =>
        JsonSerializer.Deserialize(Responses.ErrorJson(type, null), TapPassJsonContext.Default.ErrorEnvelope)!.Error;

    [Theory]
    [InlineData("policy_block", 403, typeof(PolicyBlockException))]
    [InlineData("approval_required", 428, typeof(ApprovalRequiredException))]
    [InlineData("trust_tier_denied", 403, typeof(TrustTierDeniedException))]
    [InlineData("break_glass_active", 503, typeof(BreakGlassActiveException))]
    [InlineData("tool_integrity_violation", 422, typeof(ToolIntegrityViolationException))]
    [InlineData("session_forbidden", 403, typeof(TapPassAuthorizationException))]
    [InlineData("invalid_flags", 400, typeof(TapPassConfigException))]
    [InlineData("invalid_request", 400, typeof(TapPassException))]
    [InlineData("unauthorized", 401, typeof(TapPassAuthenticationException))]
    [InlineData("upstream_error", 502, typeof(TapPassUpstreamException))]
    [InlineData("unavailable", 503, typeof(TapPassConnectionException))]
    [InlineData("idempotency_conflict", 409, typeof(TapPassException))]
    public void FromError_MapsEveryProtocolType(string type, int status, Type expected)
    {
        var ex = TapPassException.FromError(status, Body(type), TimeSpan.FromSeconds(5), FakeGateway.Url);

        ex.Should().BeOfType(expected);
        ex.StatusCode.Should().Be(status);
        ex.ErrorType.Should().Be(type);
        ex.Message.Should().NotBeNullOrEmpty();
        if (ex is GovernanceDecision decision)
        {
            decision.SessionId.Should().Be("ses_err1");
            decision.TaskId.Should().Be("tsk_err1");
            decision.AgentUuid.Should().Be(FakeGateway.AgentUuid);
            decision.PipelineUuid.Should().Be("pl_err1");
            decision.AuditUrl.Should().NotBeNull();
        }
    }

    [Fact]
    public void FromError_EmptyMessage_DescribesStatusAndType()
    {
        var ex = TapPassException.FromError(403, new ErrorBody { Type = "policy_block" });

        ex.Message.Should().Contain("403").And.Contain("policy_block");
        ((PolicyBlockException)ex).Reason.Should().Be(ex.Message);
    }

    [Fact]
    public void FromError_Unavailable_CarriesGatewayUrl()
    {
        var ex = (TapPassConnectionException)TapPassException.FromError(503, Body("unavailable"), null, FakeGateway.Url);

        ex.Url.Should().Be(FakeGateway.Url);
    }

    [Fact]
    public void FromError_BreakGlass_CarriesRetryAfter()
    {
        var ex = (BreakGlassActiveException)TapPassException.FromError(503, Body("break_glass_active"), TimeSpan.FromMinutes(30));

        ex.RetryAfter.Should().Be(TimeSpan.FromMinutes(30));
        ex.Level.Should().Be("halt");
    }

    [Fact]
    public void Hierarchy_DecisionsAreGovernanceDecisions_OthersAreNot()
    {
        typeof(PolicyBlockException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(ApprovalRequiredException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(TrustTierDeniedException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(BreakGlassActiveException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(ToolIntegrityViolationException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(RedactionAppliedException).Should().BeDerivedFrom<GovernanceDecision>();
        typeof(TapPassConnectionException).Should().NotBeDerivedFrom<GovernanceDecision>();
        typeof(GovernanceDecision).Should().BeDerivedFrom<TapPassException>();
    }

    [Fact]
    public void Constructors_SetMessagesAndInnerExceptions()
    {
        var inner = new InvalidOperationException("inner");
        Exception[] all =
        [
            new TapPassException(), new TapPassException("m"), new TapPassException("m", inner),
            new TapPassConnectionException(), new TapPassConnectionException("m"), new TapPassConnectionException("m", inner), new TapPassConnectionException("m", "http://x", inner),
            new TapPassConfigException(), new TapPassConfigException("m"), new TapPassConfigException("m", inner), new TapPassConfigException("m", "Url"),
            new TapPassAuthenticationException(), new TapPassAuthenticationException("m"), new TapPassAuthenticationException("m", inner),
            new TapPassAuthorizationException(), new TapPassAuthorizationException("m"), new TapPassAuthorizationException("m", inner),
            new TapPassUpstreamException(), new TapPassUpstreamException("m"), new TapPassUpstreamException("m", inner),
            new PolicyBlockException(), new PolicyBlockException("m"), new PolicyBlockException("m", inner),
            new RedactionAppliedException(), new RedactionAppliedException("m"), new RedactionAppliedException("m", inner),
            new ApprovalRequiredException(), new ApprovalRequiredException("m"), new ApprovalRequiredException("m", inner),
            new TrustTierDeniedException(), new TrustTierDeniedException("m"), new TrustTierDeniedException("m", inner),
            new BreakGlassActiveException(), new BreakGlassActiveException("m"), new BreakGlassActiveException("m", inner),
            new ToolIntegrityViolationException(), new ToolIntegrityViolationException("m"), new ToolIntegrityViolationException("m", inner),
        ];

        all.Should().OnlyContain(e => !string.IsNullOrEmpty(e.Message));
        all.Where(e => e.InnerException is not null).Should().HaveCount(13);
        new TapPassConnectionException("m", "http://x", inner).Url.Should().Be("http://x");
        new TapPassConfigException("m", "Url").Setting.Should().Be("Url");
    }
}
