using TapPass.Governance.Engine;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

public sealed class GovernTests
{
    private static GovernRequest Tool(string tool, string? args = null, string? session = null, string? definitionSha = null, string? enforcement = null) => new()
    {
        SessionId = session,
        Payload = new GovernPayload { Tool = tool, Args = args is null ? null : EngineHarness.Json(args), DefinitionSha256 = definitionSha },
        Enforcement = enforcement is null ? null : new GovernEnforcement { Mode = enforcement },
    };

    [Fact]
    public async Task GovernAsync_PlainTool_AllowsWithCapabilityToken()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.GovernAsync(h.Call(), Tool("search", """{"q":"weather"}"""), CancellationToken.None);
        reply.StatusCode.Should().Be(200);
        var r = reply.Value!;
        r.Outcome.Should().Be("allow");
        r.PipelineUuid.Should().StartWith("pl_");
        r.SessionId.Should().StartWith("ses_");
        r.DecidedAt.Should().Be(h.Time.GetUtcNow());
        r.CapabilityToken.Should().NotBeNull();
        h.Engine.VerifyCapabilityToken(r.CapabilityToken, "search", r.SessionId!, EngineHarness.AgentAUuid).Should().Be(CapabilityTokenStatus.Valid);
        h.Events("tool.decided").Single().Tool.Should().Be("search");
    }

    [Fact]
    public async Task GovernAsync_EmailMirror_ModifiesRecipientAndSubject()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.GovernAsync(h.Call("email=mirror:supervisor@company.com"), Tool("send_email", """{"to":"customer@gmail.com","subject":"Your refund"}"""), CancellationToken.None);
        var r = reply.Value!;
        r.Outcome.Should().Be("modify");
        r.ModifiedArgs!.Value.GetProperty("to").GetString().Should().Be("supervisor@company.com");
        r.ModifiedArgs.Value.GetProperty("subject").GetString().Should().Be("[AI TEST] Your refund");
        r.CapabilityToken.Should().NotBeNull();
    }

    [Fact]
    public async Task GovernAsync_DestructiveSql_IsBlockedByDbPolicy()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call(), Tool("execute_sql", """{"query":"WITH x AS (SELECT 1) DELETE FROM users"}"""), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("block");
        r.BlockedBy.Should().Be("db_policy");
        r.Reason.Should().Contain("DELETE");
        r.CapabilityToken.Should().BeNull();
    }

    [Fact]
    public async Task GovernAsync_ObserveMode_AllowsButRecordsWouldBlock()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call("mode=observe, tools=block"), Tool("search"), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("allow");
        r.Reason.Should().Contain("would have been refused by: tool_permissions");
        h.Events("tool.decided").Single().Details!["would_block"][0].GetString().Should().Be("tool_permissions");
    }

    [Fact]
    public async Task GovernAsync_EnforcementAudit_NeverBlocks()
    {
        using var h = new EngineHarness();
        var r = (await h.Engine.GovernAsync(h.Call("tools=block"), Tool("search", enforcement: "audit"), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("allow");
    }

    [Fact]
    public async Task GovernAsync_ProjectFiles_BlocksTraversal()
    {
        var ws = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "tappass-gov-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            using var h = new EngineHarness(o => o.Workspace = ws);
            var ok = (await h.Engine.GovernAsync(h.Call("files=project"), Tool("write_file", """{"path":"out/report.md","content":"x"}"""), CancellationToken.None)).Value!;
            ok.Outcome.Should().Be("allow");
            var bad = (await h.Engine.GovernAsync(h.Call("files=project"), Tool("write_file", """{"path":"../../etc/passwd","content":"x"}"""), CancellationToken.None)).Value!;
            bad.Outcome.Should().Be("block");
            bad.BlockedBy.Should().Be("file_policy");
        }
        finally
        {
            Directory.Delete(ws, true);
        }
    }

    [Theory]
    [InlineData("QUERY", "type")]
    [InlineData("TOOL_CALL", "payload.tool")]
    public async Task GovernAsync_InvalidRequest_Answers400(string type, string param)
    {
        using var h = new EngineHarness();
        var request = new GovernRequest { Type = type, Payload = new GovernPayload { Tool = type == "QUERY" ? "ok" : "bad name!" } };
        var reply = await h.Engine.GovernAsync(h.Call(), request, CancellationToken.None);
        reply.StatusCode.Should().Be(400);
        reply.Error!.Param.Should().Be(param);
    }

    [Fact]
    public async Task GovernAsync_ArgsNotAnObject_Answers400()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.GovernAsync(h.Call(), new GovernRequest { Payload = new GovernPayload { Tool = "x", Args = EngineHarness.Json("[1,2]") } }, CancellationToken.None);
        reply.StatusCode.Should().Be(400);
    }

    [Fact]
    public async Task GovernAsync_ForeignSession_Answers403()
    {
        using var h = new EngineHarness();
        var session = (await h.ChatAsync("hi")).Value!.Tappass!.SessionId;
        var reply = await h.Engine.GovernAsync(h.Call(key: h.KeyB), Tool("search", session: session), CancellationToken.None);
        reply.StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task ReportExecutionAsync_RecordsMetadataOnly()
    {
        using var h = new EngineHarness();
        var decision = (await h.Engine.GovernAsync(h.Call(), Tool("search"), CancellationToken.None)).Value!;
        var reply = await h.Engine.ReportExecutionAsync(h.Call(), new ExecutionReport { SessionId = decision.SessionId, PipelineUuid = decision.PipelineUuid, Tool = "search", Ok = false, DurationMs = 3.5, ResultSize = 120, ErrorType = "System.TimeoutException" }, CancellationToken.None);
        reply.Value!.Recorded.Should().BeTrue();
        reply.Value.EventId.Should().StartWith("ae_");
        var e = h.Events("tool.executed").Single();
        e.Decision.Should().Be("error");
        e.Details!["error_type"].GetString().Should().Be("System.TimeoutException");
        e.Details["decision_pipeline_uuid"].GetString().Should().Be(decision.PipelineUuid);
    }

    [Fact]
    public async Task ReportExecutionAsync_NegativeDuration_Answers400()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.ReportExecutionAsync(h.Call(), new ExecutionReport { Tool = "search", DurationMs = -1 }, CancellationToken.None);
        reply.StatusCode.Should().Be(400);
    }

    [Fact]
    public async Task ChatAsync_ModelToolCallsAreGoverned_DeniedToolRefusesAnswer()
    {
        using var h = new EngineHarness();
        h.Provider.ToolCalls = _ => [new ToolCall { Id = "call_9", Function = new FunctionCall { Name = "drop_database", Arguments = "{}" } }];
        var reply = await h.ChatAsync("clean up", "tools=denylist:drop_*");
        reply.StatusCode.Should().Be(403);
        reply.Error!.BlockedBy.Should().Be("tool_permissions");
    }

    [Fact]
    public async Task ChatAsync_ModelEmailToolCall_IsMirrored()
    {
        using var h = new EngineHarness();
        h.Provider.ToolCalls = _ => [new ToolCall { Id = "call_1", Function = new FunctionCall { Name = "send_email", Arguments = """{"to":"ceo@x.com","subject":"Hi"}""" } }];
        var reply = await h.ChatAsync("email the ceo", "email=mirror:qa@acme.test");
        var call = reply.Value!.Choices[0].Message.ToolCalls!.Single();
        call.Function.Arguments.Should().Be("""{"to":"qa@acme.test","subject":"[AI TEST] Hi"}""");
        reply.Value.Choices[0].FinishReason.Should().Be("tool_calls");
        reply.Value.Choices[0].Message.Content.Should().BeNull();
        reply.Value.Tappass!.CapabilityTokens!["call_1"].Should().NotBeNull();
        reply.Value.Tappass.Steps.Single(s => s.Name == "tool_calls").Outcome.Should().Be("modify");
    }
}
