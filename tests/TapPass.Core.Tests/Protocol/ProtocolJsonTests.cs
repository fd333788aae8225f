using System.Text.Json;
using System.Text.Json.Nodes;
using TapPass.Protocol;

namespace TapPass.Core.Tests.Protocol;

public sealed class ProtocolJsonTests
{
    private static readonly TapPassJsonContext Json = TapPassJsonContext.Default;

    [Fact]
    public void Request_UnknownFields_ArePassedThroughOnRoundTrip()
    {
        const string body = """
            {"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"seed":42,
             "parallel_tool_calls":false,"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true}},
             "logit_bias":{"50256":-100},"max_completion_tokens":64}
            """;

        var request = JsonSerializer.Deserialize(body, Json.ChatCompletionRequest)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(request, Json.ChatCompletionRequest))!;

        request.AdditionalProperties!.Keys.Should().BeEquivalentTo("seed", "parallel_tool_calls", "logit_bias");
        ((int?)written["seed"]).Should().Be(42);
        ((bool?)written["parallel_tool_calls"]).Should().BeFalse();
        ((int?)written["logit_bias"]!["50256"]).Should().Be(-100);
        ((string?)written["response_format"]!["json_schema"]!["name"]).Should().Be("x");
        ((int?)written["max_completion_tokens"]).Should().Be(64);
        written["temperature"].Should().BeNull("nulls are omitted");
    }

    [Fact]
    public void Message_ArrayOfPartsContent_JoinsTextParts()
    {
        const string body = """
            {"messages":[{"role":"user","content":[{"type":"text","text":"Describe"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"this"}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"result"}]}
            """;

        var request = JsonSerializer.Deserialize(body, Json.ChatCompletionRequest)!;

        request.Messages[0].Content.Should().Be("Describe\nthis");
        request.Messages[1].Content.Should().BeNull();
        request.Messages[1].ToolCalls!.Single().Function.Name.Should().Be("f");
        request.Messages[2].ToolCallId.Should().Be("c1");
        var written = JsonNode.Parse(JsonSerializer.Serialize(request, Json.ChatCompletionRequest))!;
        ((string?)written["messages"]![2]!["tool_call_id"]).Should().Be("c1");
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":42}]}")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":[\"text\"]}]}")]
    public void Message_InvalidContentShapes_AreRejected(string body)
    {
        FluentActions.Invoking(() => JsonSerializer.Deserialize(body, Json.ChatCompletionRequest)).Should().Throw<JsonException>();
    }

    [Fact]
    public void Response_ProtocolSample_DeserializesTappassObject()
    {
        const string body = """
            {"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52},
             "tappass":{"classification":"CONFIDENTIAL","blocked":false,"flags":{"mode":"enforce","pii":"mask","secrets":"redact"},
              "session_id":"ses_1","task_id":"tsk_1","agent_uuid":"6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f","pipeline_uuid":"pl_1","turn_index":3,
              "audit_url":"http://localhost:9620/audit/sessions/ses_1",
              "detections":[{"step":"detect_pii","type":"EMAIL","phase":"input","start":10,"length":17,"action":"mask","score":1.0}],
              "redactions":[{"type":"EMAIL","replacement":"[MASKED_EMAIL]","phase":"output"}],
              "steps":[{"name":"detect_pii","outcome":"mask","duration_us":41}],
              "cost":{"prompt_tokens":12,"completion_tokens":40,"usd":0.000031},"degraded":false,
              "break_glass":{"level":"observe","expires_at":"2025-06-01T13:00:00Z"}}}
            """;

        var response = JsonSerializer.Deserialize(body, Json.ChatCompletionResponse)!;

        var t = response.Tappass!;
        t.Classification.Should().Be("CONFIDENTIAL");
        t.Flags.Should().HaveCount(3);
        t.TurnIndex.Should().Be(3);
        t.Detections.Single().Length.Should().Be(17);
        t.Redactions.Single().Phase.Should().Be("output");
        t.Steps.Single().DurationUs.Should().Be(41);
        t.Cost!.Usd.Should().Be(0.000031m);
        t.BreakGlass!.ExpiresAt.Should().Be(new DateTimeOffset(2025, 6, 1, 13, 0, 0, TimeSpan.Zero));
        response.Usage!.TotalTokens.Should().Be(52);
    }

    [Fact]
    public void ErrorEnvelope_ProtocolSample_Deserializes()
    {
        const string body = """
            {"error": {"type": "policy_block", "message": "Request blocked by detect_pii: PII detected in prompt",
               "blocked_by": "detect_pii", "reason": "PII detected in prompt: EMAIL, CREDIT_CARD",
               "classification": "RESTRICTED", "step_details": {"types": ["EMAIL", "CREDIT_CARD"]},
               "session_id": "ses_1", "task_id": "tsk_1", "agent_uuid": "a", "pipeline_uuid": "pl_1", "audit_url": "u"}}
            """;

        var error = JsonSerializer.Deserialize(body, Json.ErrorEnvelope)!.Error;

        error.Type.Should().Be("policy_block");
        error.StepDetails!["types"].GetArrayLength().Should().Be(2);
        error.PipelineUuid.Should().Be("pl_1");
    }

    [Fact]
    public void Chunk_ErrorEventAndFinalUsageChunk_Deserialize()
    {
        var error = JsonSerializer.Deserialize("{\"error\":{\"type\":\"policy_block\",\"message\":\"m\"}}", Json.ChatCompletionChunk)!;
        var final = JsonSerializer.Deserialize("{\"choices\":[],\"usage\":{\"total_tokens\":3},\"tappass\":{\"classification\":\"PUBLIC\"}}", Json.ChatCompletionChunk)!;

        error.Error!.Type.Should().Be("policy_block");
        error.Choices.Should().BeNull();
        final.Choices.Should().BeEmpty();
        final.Usage!.TotalTokens.Should().Be(3);
        final.Tappass!.Classification.Should().Be("PUBLIC");
    }

    [Fact]
    public void Request_SerializesSnakeCase()
    {
        var request = new ChatCompletionRequest
        {
            Model = "m",
            Messages = [ChatCompletionMessage.Create("user", "x")],
            Stream = true,
            StreamOptions = new StreamOptions { IncludeUsage = true },
            MaxTokens = 5,
        };

        var json = JsonSerializer.Serialize(request, Json.ChatCompletionRequest);

        json.Should().Contain("\"stream_options\":{\"include_usage\":true}").And.Contain("\"max_tokens\":5");
    }

    [Fact]
    public void ControlTypes_RoundTrip()
    {
        var health = JsonSerializer.Deserialize("{\"status\":\"healthy\",\"version\":\"1.0.0\",\"api_version\":\"0.6.0\"}", Json.HealthResponse)!;
        var decision = JsonSerializer.Deserialize(
            "{\"outcome\":\"needs_approval\",\"approval\":{\"approval_id\":\"apr_1\",\"resume_token\":\"rt\",\"expires_at\":\"2025-06-01T12:00:00Z\"},\"required_tier\":null}",
            Json.GovernResponse)!;
        var models = JsonSerializer.Deserialize("{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"owned_by\":\"openai\"}]}", Json.ModelList)!;

        health.ApiVersion.Should().Be("0.6.0");
        decision.Outcome.Should().Be(GovernOutcomes.NeedsApproval);
        decision.Approval!.ResumeToken.Should().Be("rt");
        models.Data.Single().OwnedBy.Should().Be("openai");
        JsonSerializer.Serialize(new ApprovalDecisionRequest { Decision = "approve" }, Json.ApprovalDecisionRequest).Should().Be("{\"decision\":\"approve\"}");
    }
}
