using System.Text.Json.Nodes;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Tools;

/// <summary>agent.Govern(delegate): every outcome of /v1/govern (PROTOCOL.md §6) and what it does to the tool.</summary>
public sealed class GovernDecisionTests
{
    [Fact]
    public async Task Allow_RunsToolOnceWithTheSameArguments()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway, o => o.Flags["pii"] = "mask");
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var sent = await sendEmail("a@b.com", "hello");

        sent.Should().BeTrue();
        mailer.Calls.Should().Equal(("a@b.com", "hello"));
        var govern = gateway.GovernRequests.Should().ContainSingle().Subject;
        ((string?)govern.Json["type"]).Should().Be("TOOL_CALL");
        ((string?)govern.Json["payload"]!["tool"]).Should().Be("send_email");
        govern.Args().ToJsonString().Should().Be("{\"to\":\"a@b.com\",\"subject\":\"hello\"}");
        ((string?)govern.Json["payload"]!["definition_sha256"]).Should().MatchRegex("^[0-9a-f]{64}$");
        ((string?)govern.Json["enforcement"]!["mode"]).Should().Be("enforce");
        govern.Header("Authorization").Should().Be("Bearer " + FakeGateway.ApiKey);
        govern.Header("X-TapPass-Flags").Should().Be("pii=mask");
        govern.Header("Idempotency-Key").Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Block_NeverRunsTool_ThrowsPolicyBlockWithRuleReasonAndIds()
    {
        var gateway = ToolKit.Gateway("block");
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "hello")).Should().ThrowAsync<PolicyBlockException>()).Which;

        mailer.Sent.Should().Be(0);
        ex.BlockedBy.Should().Be("tool_permissions");
        ex.Reason.Should().Be("tools=denylist:send_email");
        ex.ErrorType.Should().Be("policy_block");
        ex.Message.Should().Contain("send_email").And.Contain("tool_permissions");
        ex.SessionId.Should().Be("ses_tool1");
        ex.TaskId.Should().Be("tsk_tool1");
        ex.AgentUuid.Should().Be(FakeGateway.AgentUuid);
        ex.PipelineUuid.Should().StartWith("pl_tool");
        ex.AuditUrl.Should().Be(FakeGateway.Url + "/audit/sessions/ses_tool1");
        ex.Classification.Should().Be(Classification.Confidential);
        gateway.ExecutionReports.Should().BeEmpty("a tool that did not run has no execution to report");
    }

    [Fact]
    public async Task NeedsApproval_NeverRunsTool_ThrowsWithResumeData()
    {
        var gateway = ToolKit.Gateway("needs_approval");
        using var agent = ToolKit.Agent(gateway);
        var deleted = 0;
        var deleteFile = agent.Govern((string path) => Interlocked.Increment(ref deleted), new TapPassToolOptions { Name = "delete_file" });

        var ex = FluentActions.Invoking(() => deleteFile("/tmp/x")).Should().Throw<ApprovalRequiredException>().Which;

        deleted.Should().Be(0);
        ex.ApprovalId.Should().Be("apr_tool1");
        ex.ApprovalUrl.Should().Be(FakeGateway.Url + "/approvals/apr_tool1");
        ex.ResumeToken.Should().Be("rt_tool_abc");
        ex.ExpiresAt.Should().Be(new DateTimeOffset(2025, 6, 1, 13, 0, 0, TimeSpan.Zero));
        ex.Reason.Should().Be("delete_* tools need approval");
        ex.BlockedBy.Should().Be("require_approval");
        ex.ErrorType.Should().Be("approval_required");
        ex.PipelineUuid.Should().NotBeNull();
    }

    [Fact]
    public async Task WithResumeToken_ResendsTheCallWithTheToken_AndTheOriginalToolDoesNot()
    {
        var gateway = ToolKit.Gateway();
        gateway.ThenGovern(Responses.Decision("needs_approval"));
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var held = (await FluentActions.Awaiting(() => sendEmail("boss@corp.com", "raise")).Should().ThrowAsync<ApprovalRequiredException>()).Which;
        var resumed = sendEmail.WithResumeToken(held.ResumeToken);
        await resumed("boss@corp.com", "raise");
        await sendEmail("boss@corp.com", "again");

        mailer.Sent.Should().Be(2);
        var governs = gateway.GovernRequests;
        governs.Select(r => r.Header("X-TapPass-Resume-Token")).Should().Equal(null, "rt_tool_abc", null);
        governs[1].Json["payload"]!.ToJsonString().Should().Be(governs[0].Json["payload"]!.ToJsonString(), "a resume is the identical call");
        resumed.GetToolDefinition()!.DefinitionSha256.Should().Be(sendEmail.GetToolDefinition()!.DefinitionSha256);
        gateway.ExecutionReports.Select(r => r.Header("X-TapPass-Resume-Token")).Should().AllSatisfy(h => h.Should().BeNull());
    }

    [Fact]
    public async Task TierRefusal_NeverRunsTool_ThrowsTrustTierDenied()
    {
        var gateway = ToolKit.Gateway("block", o =>
        {
            o["blocked_by"] = "trust_tier";
            o["required_tier"] = "full";
            o["actual_tier"] = "worker";
        });
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<TrustTierDeniedException>()).Which;

        mailer.Sent.Should().Be(0);
        ex.RequiredTier.Should().Be("full");
        ex.ActualTier.Should().Be("worker");
        ex.ErrorType.Should().Be("trust_tier_denied");
        ex.SessionId.Should().Be("ses_tool1");
    }

    [Fact]
    public async Task IntegrityRefusal_NeverRunsTool_ThrowsToolIntegrityViolation()
    {
        var gateway = ToolKit.Gateway("block", o =>
        {
            o["blocked_by"] = "tool_integrity";
            o["violation"] = "definition_changed";
            o["required_tier"] = "full"; // integrity is reported first when both are set
        });
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<ToolIntegrityViolationException>()).Which;

        mailer.Sent.Should().Be(0);
        ex.ToolName.Should().Be("send_email");
        ex.Violation.Should().Be("definition_changed");
        ex.ErrorType.Should().Be("tool_integrity_violation");
        ex.PipelineUuid.Should().NotBeNull();
    }

    [Fact]
    public async Task Modify_RunsToolWithTheRewrittenTypedArguments()
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = new JsonObject
        {
            ["to"] = "supervisor@company.com",
            ["subject"] = "[AI TEST] hello",
        });
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        await sendEmail("ceo@company.com", "hello");

        mailer.Calls.Should().Equal(("supervisor@company.com", "[AI TEST] hello"));
        gateway.GovernRequests.Single().Args()["to"]!.GetValue<string>().Should().Be("ceo@company.com");
        gateway.ExecutionReports.Should().ContainSingle();
    }

    public sealed record Transfer(string Account, decimal Amount);

    [Fact]
    public async Task Modify_BindsComplexAndNumericParameters()
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = new JsonObject
        {
            ["transfer"] = new JsonObject { ["account"] = "NL00TEST", ["amount"] = 10.5 },
            ["retries"] = 1,
        });
        using var agent = ToolKit.Agent(gateway);
        (Transfer Transfer, int Retries)? received = null;
        var pay = agent.Govern((Transfer transfer, int retries) =>
        {
            received = (transfer, retries);
            return "paid";
        }, new TapPassToolOptions { Name = "pay" });

        var result = pay(new Transfer("NL99BANK", 1_000_000m), 5);

        result.Should().Be("paid");
        received.Should().Be((new Transfer("NL00TEST", 10.5m), 1));
        gateway.GovernRequests.Single().Args().ToJsonString().Should().Be("{\"transfer\":{\"account\":\"NL99BANK\",\"amount\":1000000},\"retries\":5}");
    }

    public static TheoryData<string, string> UnbindableArguments => new()
    {
        { "{\"to\":\"a@b.com\",\"subject\":42}", "a number where a string is expected" },
        { "{\"to\":\"a@b.com\"}", "a parameter missing" },
        { "{\"to\":\"a@b.com\",\"subject\":\"x\",\"bcc\":\"leak@evil.com\"}", "an unknown parameter" },
        { "{\"to\":null,\"subject\":\"x\"}", "null for a non-nullable string" },
        { "[\"a@b.com\",\"x\"]", "not an object" },
    };

    [Theory]
    [MemberData(nameof(UnbindableArguments))]
    public async Task Modify_ArgumentsThatDoNotBind_BlockAndNeverRunTool(string modifiedArgs, string because)
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = JsonNode.Parse(modifiedArgs));
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "hello")).Should().ThrowAsync<PolicyBlockException>(because)).Which;

        mailer.Sent.Should().Be(0, because);
        ex.BlockedBy.Should().Be("email_rules");
        ex.Message.Should().Contain("do not bind").And.NotContain("leak@evil.com");
        ex.PipelineUuid.Should().NotBeNull();
        gateway.ExecutionReports.Should().BeEmpty();
    }

    [Fact]
    public void Modify_NumberOutOfRangeForTheParameter_Blocks()
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = new JsonObject { ["count"] = 3_000_000_000L });
        using var agent = ToolKit.Agent(gateway);
        var runs = 0;
        var tool = agent.Govern((int count) => runs += count, new TapPassToolOptions { Name = "count" });

        FluentActions.Invoking(() => tool(1)).Should().Throw<PolicyBlockException>();
        runs.Should().Be(0);
    }

    [Fact]
    public async Task UnknownOutcome_FailsClosed()
    {
        var gateway = ToolKit.Gateway("maybe");
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<TapPassException>()).Which;

        ex.ErrorType.Should().Be("invalid_response");
        mailer.Sent.Should().Be(0);
    }

    [Fact]
    public async Task GatewayDown_InEnforceMode_ThrowsConnection_AndNeverRunsTool()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Refused();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<TapPassConnectionException>()).Which;

        mailer.Sent.Should().Be(0);
        ex.Message.Should().NotContain(FakeGateway.ApiKey);
        gateway.ExecutionReports.Should().BeEmpty();
    }

    [Fact]
    public async Task GatewayUnavailable503_InEnforceMode_ThrowsConnection_AndNeverRunsTool()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Error(503, "unavailable");
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<TapPassConnectionException>();

        mailer.Sent.Should().Be(0);
    }

    [Fact]
    public async Task Non2xxRefusal_MapsThroughFromError()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Error(403, "policy_block", extra: e => e["blocked_by"] = "require_approval");
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync).WithResumeToken("rt_reused");

        var ex = (await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<PolicyBlockException>()).Which;

        ex.BlockedBy.Should().Be("require_approval");
        ex.StatusCode.Should().Be(403);
        ex.SessionId.Should().Be("ses_err1");
        mailer.Sent.Should().Be(0);
    }

    [Fact]
    public async Task BreakGlassHalt_RefusesEvenInAuditMode()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Error(503, "break_glass_active", TimeSpan.FromMinutes(5));
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { Mode = GovernMode.Audit });

        await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<BreakGlassActiveException>();

        mailer.Sent.Should().Be(0);
    }
}
