using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.AspNetCore.Tests.Errors;

public sealed class TapPassExceptionHandlerTests
{
    private const string AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001";
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 0, 0, TimeSpan.Zero);

    private static T WithIds<T>(T decision)
        where T : GovernanceDecision
    {
        decision.SessionId = "ses_abc";
        decision.TaskId = "tsk_1";
        decision.AgentUuid = AgentUuid;
        decision.PipelineUuid = "pl_9";
        decision.AuditUrl = "http://gateway.test/audit/sessions/ses_abc";
        decision.Classification = Classification.Restricted;
        return decision;
    }

    private static async Task<(HttpResponseMessage Response, JsonElement Body, TestHost Host)> ThrowAsync(
        Exception exception,
        Action<TapPassOptions>? options = null,
        Action<TapPassMiddlewareOptions>? middleware = null,
        Action<WebApplication>? beforeTapPass = null,
        HttpRequestMessage? request = null)
    {
        var host = await TestHost.StartAsync(
            app => app.MapGet("/orders/{id}", (string id) => { throw exception; }),
            middleware,
            options,
            services: b => b.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now)),
            beforeTapPass: beforeTapPass);
        var response = await host.Client.SendAsync(request ?? new HttpRequestMessage(HttpMethod.Get, "/orders/42?q=secret"));
        var body = await TestHost.ReadJsonAsync(response);
        return (response, body, host);
    }

    private static void ShouldBeProblem(HttpResponseMessage response, JsonElement body, HttpStatusCode status, string type)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        body.GetProperty("status").GetInt32().Should().Be((int)status);
        body.GetProperty("type").GetString().Should().Be(type);
        body.GetProperty("title").GetString().Should().NotBeNullOrWhiteSpace();
        body.GetProperty("detail").GetString().Should().NotBeNullOrWhiteSpace();
        body.GetProperty("instance").GetString().Should().Be("/orders/42", "the instance is the path, never the query string");
        body.GetProperty("traceId").GetString().Should().NotBeNullOrWhiteSpace();
    }

    private static void ShouldCarryCorrelation(JsonElement body)
    {
        body.GetProperty("session_id").GetString().Should().Be("ses_abc");
        body.GetProperty("task_id").GetString().Should().Be("tsk_1");
        body.GetProperty("agent_uuid").GetString().Should().Be(AgentUuid);
        body.GetProperty("pipeline_uuid").GetString().Should().Be("pl_9");
        body.GetProperty("audit_url").GetString().Should().Be("http://gateway.test/audit/sessions/ses_abc");
        body.GetProperty("classification").GetString().Should().Be("RESTRICTED");
    }

    [Fact]
    public async Task PolicyBlock_Answers403WithBlockedByReasonAndAuditUrl()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new PolicyBlockException("Request blocked by detect_pii")
        {
            BlockedBy = "detect_pii",
            Reason = "PII detected in prompt: EMAIL, CREDIT_CARD",
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock);
        ShouldCarryCorrelation(body);
        body.GetProperty("blocked_by").GetString().Should().Be("detect_pii");
        body.GetProperty("reason").GetString().Should().Be("PII detected in prompt: EMAIL, CREDIT_CARD");
        body.GetProperty("detail").GetString().Should().Be("PII detected in prompt: EMAIL, CREDIT_CARD");
    }

    [Fact]
    public async Task ApprovalRequired_Answers428WithApprovalUrlResumeTokenAndExpiry()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new ApprovalRequiredException("Approval required")
        {
            ApprovalUrl = "http://gateway.test/approvals/apr_1",
            ApprovalId = "apr_1",
            ResumeToken = "rt_123",
            ExpiresAt = new DateTimeOffset(2030, 1, 2, 4, 5, 6, TimeSpan.FromHours(1)),
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, (HttpStatusCode)428, TapPassProblemTypes.ApprovalRequired);
        ShouldCarryCorrelation(body);
        body.GetProperty("approval_url").GetString().Should().Be("http://gateway.test/approvals/apr_1");
        body.GetProperty("resume_token").GetString().Should().Be("rt_123");
        body.GetProperty("expires_at").GetString().Should().Be("2030-01-02T03:05:06Z");
        body.GetProperty("approval_id").GetString().Should().Be("apr_1");
    }

    [Fact]
    public async Task TrustTierDenied_Answers403WithBothTiers()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new TrustTierDeniedException("Trust tier too low")
        {
            RequiredTier = "full",
            ActualTier = "worker",
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.Forbidden, TapPassProblemTypes.TrustTierDenied);
        ShouldCarryCorrelation(body);
        body.GetProperty("required_tier").GetString().Should().Be("full");
        body.GetProperty("actual_tier").GetString().Should().Be("worker");
    }

    [Fact]
    public async Task BreakGlass_Answers503WithRetryAfterFromTheGateway()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new BreakGlassActiveException("Break-glass active")
        {
            Level = "halt",
            ExpiresAt = Now.AddMinutes(30),
            RetryAfter = TimeSpan.FromSeconds(120),
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.ServiceUnavailable, TapPassProblemTypes.BreakGlassActive);
        ShouldCarryCorrelation(body);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(120));
        body.GetProperty("level").GetString().Should().Be("halt");
        body.GetProperty("expires_at").GetString().Should().Be("2030-01-02T03:30:00Z");
    }

    [Fact]
    public async Task BreakGlass_WithoutRetryAfter_ComputesItFromTheEndTime()
    {
        var (response, _, host) = await ThrowAsync(new BreakGlassActiveException { ExpiresAt = Now.AddSeconds(90.2) });
        await using var _ = host;

        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(91));
    }

    [Fact]
    public async Task BreakGlass_WithNeitherRetryAfterNorEndTime_UsesTheConfiguredDefault()
    {
        var (response, _, host) = await ThrowAsync(new BreakGlassActiveException(), o => o.BreakGlassRetryAfter = TimeSpan.FromSeconds(45));
        await using var _ = host;

        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(45));
    }

    [Fact]
    public async Task ToolIntegrityViolation_Answers422WithToolNameAndViolation()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new ToolIntegrityViolationException("Tool definition changed")
        {
            ToolName = "send_email",
            Violation = "definition_changed",
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.UnprocessableEntity, TapPassProblemTypes.ToolIntegrityViolation);
        ShouldCarryCorrelation(body);
        body.GetProperty("tool_name").GetString().Should().Be("send_email");
        body.GetProperty("violation").GetString().Should().Be("definition_changed");
    }

    [Fact]
    public async Task RedactionApplied_Answers422WithTypesAndNeverTheMaskedAnswer()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new RedactionAppliedException("Redaction applied")
        {
            Redactions = [new RedactionInfo { Type = "EMAIL", Replacement = "[MASKED_EMAIL]" }, new RedactionInfo { Type = "EMAIL" }],
            Response = new ChatResponse { Content = "mail [MASKED_EMAIL] now" },
        }));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.UnprocessableEntity, TapPassProblemTypes.RedactionApplied);
        body.GetProperty("redacted_types").EnumerateArray().Select(e => e.GetString()).Should().Equal("EMAIL");
        body.GetRawText().Should().NotContain("mail [MASKED_EMAIL] now");
    }

    [Fact]
    public async Task UnknownDecisionSubclass_Answers403GovernanceDecision()
    {
        var (response, body, host) = await ThrowAsync(WithIds(new CustomDecision("Refused by a custom rule")));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.Forbidden, TapPassProblemTypes.GovernanceDecision);
        ShouldCarryCorrelation(body);
    }

    [Fact]
    public async Task ConnectionFailure_Answers503GovernanceUnavailableWithoutInternalDetails()
    {
        var (response, body, host) = await ThrowAsync(new TapPassConnectionException("connect to http://10.1.2.3:9620 failed", "http://10.1.2.3:9620"));
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.ServiceUnavailable, TapPassProblemTypes.GovernanceUnavailable);
        body.GetRawText().Should().NotContain("10.1.2.3");
    }

    [Fact]
    public async Task InvalidFlags_Answers400WithFlagAndAllowedValues()
    {
        var flagError = Assert.Throws<TapPassConfigException>(() => GovernanceFlags.Parse("pii=sometimes"));
        var (response, body, host) = await ThrowAsync(flagError);
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.BadRequest, TapPassProblemTypes.InvalidFlags);
        body.GetProperty("flag").GetString().Should().Be("pii");
        body.GetProperty("allowed").EnumerateArray().Select(e => e.GetString()).Should().Contain("mask");
    }

    [Theory]
    [InlineData("config", 500, TapPassProblemTypes.ConfigurationError)]
    [InlineData("authentication", 500, TapPassProblemTypes.ConfigurationError)]
    [InlineData("authorization", 403, TapPassProblemTypes.SessionForbidden)]
    [InlineData("upstream", 502, TapPassProblemTypes.UpstreamError)]
    [InlineData("other", 500, TapPassProblemTypes.GatewayError)]
    public async Task OtherTapPassErrors_AnswerTheirProblem(string kind, int status, string type)
    {
        TapPassException exception = kind switch
        {
            "config" => new TapPassConfigException("Gateway 0.5.0 is older than 0.6.0", "Url"),
            "authentication" => new TapPassAuthenticationException("key tp_abc rejected"),
            "authorization" => new TapPassAuthorizationException("Session ses_x belongs to another agent"),
            "upstream" => new TapPassUpstreamException("openai timed out") { Provider = "openai" },
            _ => new TapPassException("idempotency conflict"),
        };
        var (response, body, host) = await ThrowAsync(exception);
        await using var _ = host;

        ShouldBeProblem(response, body, (HttpStatusCode)status, type);
        body.GetRawText().Should().NotContain("tp_abc", "a rejected key is never echoed");
    }

    [Fact]
    public async Task NonTapPassException_IsNotMapped()
    {
        await using var host = await TestHost.StartAsync(app => app.MapGet("/boom", IResult () => throw new InvalidOperationException("bug")));

        var act = () => host.Client.GetAsync("/boom");

        // TestServer surfaces unhandled application exceptions to the caller.
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("bug");
    }

    [Fact]
    public async Task Decision_ErrorResponseCarriesTheSessionHeadersTheGatewayAssigned()
    {
        var decision = WithIds(new PolicyBlockException("blocked") { BlockedBy = "detect_pii" });
        var (response, _, host) = await ThrowAsync(decision);
        await using var _ = host;

        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_abc");
        response.Headers.GetValues("X-TapPass-Agent-Uuid").Should().Equal(AgentUuid);
    }

    [Fact]
    public async Task Decision_IsLoggedOnceWithIdsAndWithoutPromptText()
    {
        var decision = WithIds(new PolicyBlockException("Request blocked: my card is 4111 1111 1111 1111")
        {
            BlockedBy = "detect_pii",
            Reason = "my card is 4111 1111 1111 1111",
        });
        var (_, _, host) = await ThrowAsync(decision);
        await using var _ = host;

        var entries = host.Logs.Entries.Where(e => e.EventId.Name == "GovernanceDecisionMapped").ToList();
        entries.Should().ContainSingle();
        entries[0].Level.Should().Be(LogLevel.Warning);
        entries[0].Message.Should().Contain("PolicyBlockException").And.Contain("403").And.Contain("detect_pii")
            .And.Contain("ses_abc").And.Contain("tsk_1").And.Contain(AgentUuid).And.Contain("pl_9");
        host.Logs.Entries.Should().NotContain(e => e.Message.Contains("4111"));
    }

    [Fact]
    public async Task CustomStatus_ReplacesTheDefaultAndCustomizerEditsTheBody()
    {
        var (response, body, host) = await ThrowAsync(
            WithIds(new PolicyBlockException("blocked") { BlockedBy = "detect_pii" }),
            o => o.MapDecision<PolicyBlockException>(451, (ctx, problem, ex) =>
            {
                problem.Title = "Unavailable for legal reasons";
                problem.Extensions["rule"] = ex.BlockedBy + "@" + ctx.Request.Path;
            }));
        await using var _ = host;

        response.StatusCode.Should().Be((HttpStatusCode)451);
        body.GetProperty("status").GetInt32().Should().Be(451);
        body.GetProperty("title").GetString().Should().Be("Unavailable for legal reasons");
        body.GetProperty("rule").GetString().Should().Be("detect_pii@/orders/42");
        body.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.PolicyBlock);
    }

    [Fact]
    public async Task CustomMappingOnBaseType_AppliesToSubclassesWithoutTheirOwn()
    {
        var (response, body, host) = await ThrowAsync(
            new TrustTierDeniedException { RequiredTier = "full", ActualTier = "observer" },
            o => o.MapDecision<GovernanceDecision>(customize: (_, problem, _) => problem.Extensions["product"] = "acme")
                  .MapDecision<TrustTierDeniedException>(401));
        await using var _ = host;

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        body.GetProperty("product").GetString().Should().Be("acme");
        body.GetProperty("required_tier").GetString().Should().Be("full");
    }

    [Fact]
    public async Task Customizer_MaySetTheStatus()
    {
        var (response, _, host) = await ThrowAsync(
            new TapPassConnectionException(),
            o => o.MapDecision<TapPassConnectionException>(customize: (_, problem, _) => problem.Status = 504));
        await using var _ = host;

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        response.Headers.RetryAfter.Should().BeNull();
    }

    [Fact]
    public async Task MapDecision_RepeatedForAType_KeepsWhatTheNewCallDoesNotSet()
    {
        var (response, body, host) = await ThrowAsync(
            new PolicyBlockException { BlockedBy = "x" },
            o => o.MapDecision<PolicyBlockException>(customize: (_, p, _) => p.Extensions["first"] = true)
                  .MapDecision<PolicyBlockException>(409));
        await using var _ = host;

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        body.GetProperty("first").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void MapDecision_StatusOutsideErrors_Throws()
    {
        var options = new TapPassOptions();

        var act = () => options.MapDecision<PolicyBlockException>(200);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task AcceptHeaderWithoutJson_StillAnswersTheProblem()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/orders/42");
        request.Headers.Accept.ParseAdd("text/html");
        var (response, body, host) = await ThrowAsync(new PolicyBlockException { BlockedBy = "detect_pii" }, request: request);
        await using var _ = host;

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        body.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.PolicyBlock);
    }

    [Fact]
    public async Task WithHandleExceptionsOff_TheExceptionHandlerMiddlewareMapsTheDecision()
    {
        var (response, body, host) = await ThrowAsync(
            WithIds(new PolicyBlockException("blocked") { BlockedBy = "detect_pii" }),
            middleware: m => m.HandleExceptions = false,
            beforeTapPass: app => app.UseExceptionHandler());
        await using var _ = host;

        ShouldBeProblem(response, body, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock);
        ShouldCarryCorrelation(body);
        response.Headers.GetValues("X-TapPass-Session-Id").Should().ContainSingle()
            .Which.Should().Be("ses_abc", "headers are written even after the session scope ended");
        host.Logs.Entries.Count(e => e.EventId.Name == "GovernanceDecisionMapped").Should().Be(1);
    }

    [Fact]
    public async Task WithoutUseTapPass_TheRegisteredExceptionHandlerStillMapsDecisions()
    {
        await using var host = await TestHost.StartAsync(
            app => app.MapGet("/x", IResult () => throw new ApprovalRequiredException { ApprovalUrl = "u", ResumeToken = "t" }),
            beforeTapPass: app => app.UseExceptionHandler(),
            useTapPass: false);

        var response = await host.Client.GetAsync("/x");

        response.StatusCode.Should().Be((HttpStatusCode)428);
        (await TestHost.ReadJsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.ApprovalRequired);
    }

    private sealed class CustomDecision(string message) : GovernanceDecision(message);
}
