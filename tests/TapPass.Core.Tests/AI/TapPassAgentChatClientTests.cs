using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TapPass.Core.Tests.Fakes;
using AIChatResponse = Microsoft.Extensions.AI.ChatResponse;

namespace TapPass.Core.Tests.AI;

/// <summary>agent.AsChatClient(): a stateless IChatClient over the agent's transport.</summary>
public sealed class TapPassAgentChatClientTests
{
    private static ChatOptions WithTapPass(params (string Key, object? Value)[] values)
    {
        var options = new ChatOptions { AdditionalProperties = [] };
        foreach (var (key, value) in values)
        {
            options.AdditionalProperties[key] = value;
        }

        return options;
    }

    [Fact]
    public async Task GetResponse_SendsExactlyTheGivenMessages_AndLeavesTheHistoryAlone()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        await agent.ChatAsync("remember me");
        var client = agent.AsChatClient();
        ChatMessage[] messages =
        [
            new(ChatRole.System, "You are terse."),
            new(ChatRole.User, "What is GDPR?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "search", new Dictionary<string, object?> { ["query"] = "gdpr" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "GDPR is a regulation")]),
            new(ChatRole.User, "Summarise.") { AuthorName = "alice" },
        ];

        var response = await client.GetResponseAsync(messages, new ChatOptions { ModelId = "gpt-4o", Temperature = 0.2f, MaxOutputTokens = 100 });

        response.Text.Should().Be("echo: Summarise.");
        var sent = gateway.ChatRequests[1].Json;
        var expected = JsonNode.Parse(
            "[{\"role\":\"system\",\"content\":\"You are terse.\"}," +
            "{\"role\":\"user\",\"content\":\"What is GDPR?\"}," +
            "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"search\",\"arguments\":\"{\\\"query\\\":\\\"gdpr\\\"}\"}}]}," +
            "{\"role\":\"tool\",\"content\":\"GDPR is a regulation\",\"tool_call_id\":\"call_1\"}," +
            "{\"role\":\"user\",\"content\":\"Summarise.\",\"name\":\"alice\"}]");
        JsonNode.DeepEquals(sent["messages"], expected).Should().BeTrue(sent["messages"]!.ToJsonString());
        ((string?)sent["model"]).Should().Be("gpt-4o");
        ((double?)sent["temperature"]).Should().BeApproximately(0.2, 1e-6);
        ((int?)sent["max_tokens"]).Should().Be(100);
        agent.History.Select(m => m.Content).Should().Equal("remember me", "echo: remember me");
    }

    [Fact]
    public async Task GetResponse_DefaultModelAndInstructions()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.Model = "gpt-4o-mini");

        await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { Instructions = "Be brief." });

        var sent = gateway.ChatRequests.Single().Json;
        ((string?)sent["model"]).Should().Be("gpt-4o-mini");
        sent["messages"]![0]!.ToJsonString().Should().Be("{\"role\":\"system\",\"content\":\"Be brief.\"}");
    }

    [Fact]
    public async Task SessionIds_TravelInAdditionalProperties_NeverInConversationId()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var options = WithTapPass(
            (TapPassChatKeys.SessionId, "ses_fromprops"),
            (TapPassChatKeys.TaskId, "tsk_2"),
            (TapPassChatKeys.AgentUuid, Guid.Parse(FakeGateway.AgentUuid)),
            (TapPassChatKeys.Flags, "pii=mask"),
            (TapPassChatKeys.ResumeToken, "rt_ok"));
        options.ConversationId = "ses_conversation";

        var response = await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], options);

        var request = gateway.ChatRequests.Single();
        request.Header("X-TapPass-Session-Id").Should().Be("ses_fromprops");
        request.Header("X-TapPass-Task-Id").Should().Be("tsk_2");
        request.Header("X-TapPass-Agent-Uuid").Should().Be(FakeGateway.AgentUuid);
        request.Header("X-TapPass-Flags").Should().Be("pii=mask");
        request.Header("X-TapPass-Resume-Token").Should().Be("rt_ok");
        request.Body.Should().NotContain("ses_conversation");
        response.ConversationId.Should().BeNull();
        response.AdditionalProperties![TapPassChatKeys.SessionId].Should().Be("ses_fromprops");
    }

    [Fact]
    public async Task SessionId_FromTheAmbientScope_WhenNoneIsGiven()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var client = agent.AsChatClient();

        using (TapPassSession.Begin("ses_ambient1"))
        {
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a")]);
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "b")], WithTapPass((TapPassChatKeys.SessionId, "ses_explicit1")));
        }

        gateway.ChatRequests.Select(r => r.Header("X-TapPass-Session-Id")).Should().Equal("ses_ambient1", "ses_explicit1");
    }

    [Fact]
    public async Task Response_CarriesTheTapPassMetadataUsageAndFinishReason()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        var response = await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], WithTapPass((TapPassChatKeys.SessionId, "ses_meta1")));

        var meta = response.AdditionalProperties!;
        meta[TapPassChatKeys.Classification].Should().Be("INTERNAL");
        meta[TapPassChatKeys.SessionId].Should().Be("ses_meta1");
        meta[TapPassChatKeys.AuditUrl].Should().Be(FakeGateway.Url + "/audit/sessions/ses_fake");
        ((string)meta[TapPassChatKeys.PipelineUuid]!).Should().StartWith("pl_");
        meta[TapPassChatKeys.Blocked].Should().Be(false);
        meta[TapPassChatKeys.CostUsd].Should().Be(0.000031m);
        ((PipelineResult)meta[TapPassChatKeys.Pipeline]!).Detections.Should().ContainSingle(d => d.Type == "EMAIL");
        response.Usage!.InputTokenCount.Should().Be(12);
        response.Usage.OutputTokenCount.Should().Be(40);
        response.Usage.TotalTokenCount.Should().Be(52);
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
        response.ModelId.Should().Be("gpt-4o-mini-2024-07-18");
        response.Messages.Single().Role.Should().Be(ChatRole.Assistant);
    }

    [Fact]
    public async Task Response_ToolCalls_BecomeFunctionCallContent_AndToolsAreOffered()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("", completion: c =>
        {
            var message = c["choices"]![0]!["message"]!.AsObject();
            message["content"] = null;
            message["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "call_9",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "search", ["arguments"] = "{\"query\":\"gdpr\"}" },
            });
            c["choices"]![0]!["finish_reason"] = "tool_calls";
        }));
        using var agent = TestAgents.Create(gateway);
        var search = AIFunctionFactory.Create((string query) => "found " + query, "search", "Searches.");

        var response = await agent.AsChatClient().GetResponseAsync(
            [new ChatMessage(ChatRole.User, "look up gdpr")],
            new ChatOptions { Tools = [agent.Govern(search)], ToolMode = ChatToolMode.RequireSpecific("search"), AllowMultipleToolCalls = false });

        var call = response.Messages.Single().Contents.OfType<FunctionCallContent>().Single();
        call.CallId.Should().Be("call_9");
        call.Name.Should().Be("search");
        ((JsonElement)call.Arguments!["query"]!).GetString().Should().Be("gdpr");
        response.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        var sent = gateway.ChatRequests.Single().Json;
        var tool = sent["tools"]![0]!;
        ((string?)tool["function"]!["name"]).Should().Be("search");
        ((string?)tool["function"]!["description"]).Should().Be("Searches.");
        tool["function"]!["parameters"]!.ToJsonString().Should().Be(search.JsonSchema.GetRawText());
        sent["tool_choice"]!.ToJsonString().Should().Be("{\"type\":\"function\",\"function\":{\"name\":\"search\"}}");
        ((bool?)sent["parallel_tool_calls"]).Should().BeFalse();
    }

    private static JsonObject HeldCall(string id, string tool, string arguments) => new()
    {
        ["tool_call_id"] = id,
        ["tool"] = tool,
        ["arguments"] = arguments,
        ["arguments_sha256"] = new string('a', 64),
        ["approval_id"] = "apr_1",
        ["approval_url"] = "http://gw/approvals/apr_1",
        ["resume_token"] = "apr_1.secret",
        ["expires_at"] = "2026-11-21T23:00:00+00:00",
        ["status"] = "pending",
        ["subject"] = "tool:" + tool,
        ["rule"] = "deletes",
    };

    private static JsonObject WireCall(string id, string name, string arguments) =>
        new() { ["id"] = id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments } };

    [Fact]
    public async Task Response_ToolCallHeldForApproval_IsNoFunctionCallContent_ItsApprovalIsInAdditionalProperties()
    {
        var gateway = new FakeGateway().Then(Responses.Answer(
            "",
            tappass: meta =>
            {
                meta["capability_tokens"] = new JsonObject { ["call_wx"] = "eyJ.token.sig" };
                meta["tool_approvals"] = new JsonArray(HeldCall("call_del", "delete_user", "{\"id\":7}"));
            },
            completion: c =>
            {
                var message = c["choices"]![0]!["message"]!.AsObject();
                message["content"] = null;
                message["tool_calls"] = new JsonArray(WireCall("call_wx", "weather", "{}"));
                c["choices"]![0]!["finish_reason"] = "tool_calls";
            }));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "remove user 7")]);

        response.Messages.Single().Contents.OfType<FunctionCallContent>().Select(c => c.CallId).Should().Equal("call_wx");
        response.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        var held = response.AdditionalProperties![TapPassChatKeys.ToolApprovals].Should().BeAssignableTo<IReadOnlyList<TapPass.Protocol.ToolApproval>>().Subject;
        var approval = held.Should().ContainSingle().Subject;
        approval.ToolCallId.Should().Be("call_del");
        approval.Tool.Should().Be("delete_user");
        approval.Arguments.Should().Be("{\"id\":7}");
        approval.ArgumentsSha256.Should().Be(new string('a', 64));
        approval.ResumeToken.Should().Be("apr_1.secret");
        approval.ApprovalUrl.Should().Be("http://gw/approvals/apr_1");
        approval.ExpiresAt.Should().Be(new DateTimeOffset(2026, 11, 21, 23, 0, 0, TimeSpan.Zero));
        ((PipelineResult)response.AdditionalProperties![TapPassChatKeys.Pipeline]!).ToolApprovals.Should().BeSameAs(held);
    }

    [Fact]
    public async Task Response_GatewayThatStillListsTheHeldCallInToolCalls_ViewDropsIt_FailClosed()
    {
        var gateway = new FakeGateway().Then(Responses.Answer(
            "",
            tappass: meta => meta["tool_approvals"] = new JsonArray(HeldCall("call_del", "delete_user", "{\"id\":7}")),
            completion: c =>
            {
                var message = c["choices"]![0]!["message"]!.AsObject();
                message["content"] = null;
                message["tool_calls"] = new JsonArray(WireCall("call_del", "delete_user", "{\"id\":7}"));
                c["choices"]![0]!["finish_reason"] = "tool_calls";
            }));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "remove user 7")]);

        response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Should().BeEmpty("a held call must never reach a function-invoking client");
        response.FinishReason.Should().Be(ChatFinishReason.Stop, "no runnable call remains");
        var raw = (ChatResponse)response.RawRepresentation!;
        raw.ToolCalls.Should().BeEmpty();
        raw.Pipeline.ToolApprovals.Should().ContainSingle().Which.ToolCallId.Should().Be("call_del");
    }

    [Fact]
    public async Task Streaming_ToolCallHeldForApproval_NoUpdateCarriesIt_LastUpdateHasTheApprovals()
    {
        var sse = new SseStream();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        using var agent = TestAgents.Create(gateway);
        var wx = new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion.chunk",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = new JsonObject
                {
                    ["tool_calls"] = new JsonArray(
                        new JsonObject { ["index"] = 0, ["id"] = "call_wx", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "weather", ["arguments"] = "{}" } },
                        // A gateway that still streams the held call: the view must drop it all the same.
                        new JsonObject { ["index"] = 1, ["id"] = "call_del", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "delete_user", ["arguments"] = "{\"id\":7}" } }),
                },
            }),
        }.ToJsonString();
        var meta = new JsonObject { ["classification"] = "PUBLIC", ["tool_approvals"] = new JsonArray(HeldCall("call_del", "delete_user", "{\"id\":7}")) };
        sse.Send(Responses.ChunkJson("ok", "assistant")).Send(wx).Send(Responses.FinalChunkJson(meta, "tool_calls")).Done();
        sse.Complete();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in agent.AsChatClient().GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")]))
        {
            updates.Add(update);
        }

        updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().Select(c => c.CallId).Should().Equal("call_wx");
        var held = updates[^1].AdditionalProperties![TapPassChatKeys.ToolApprovals].Should().BeAssignableTo<IReadOnlyList<TapPass.Protocol.ToolApproval>>().Subject;
        held.Should().ContainSingle().Which.Tool.Should().Be("delete_user");
        updates.Take(updates.Count - 1).Should().AllSatisfy(u => (u.AdditionalProperties?.ContainsKey(TapPassChatKeys.ToolApprovals) ?? false).Should().BeFalse());
    }

    [Fact]
    public async Task Response_NoHeldCall_HasNoToolApprovalsKey()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        var response = await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);

        response.AdditionalProperties!.Should().NotContainKey(TapPassChatKeys.ToolApprovals);
        ((PipelineResult)response.AdditionalProperties![TapPassChatKeys.Pipeline]!).ToolApprovals.Should().BeEmpty();
    }

    [Fact]
    public async Task Options_PassThroughSamplingStopAndResponseFormat()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var schema = JsonDocument.Parse("{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"}}}").RootElement;

        await agent.AsChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions
        {
            TopP = 0.5f,
            Seed = 7,
            StopSequences = ["END"],
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "reply"),
        });

        var sent = gateway.ChatRequests.Single().Json;
        ((double?)sent["top_p"]).Should().Be(0.5);
        ((long?)sent["seed"]).Should().Be(7);
        sent["stop"]!.ToJsonString().Should().Be("[\"END\"]");
        sent["response_format"]!.ToJsonString().Should().Be("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"reply\",\"schema\":" + schema.GetRawText() + "}}");
    }

    [Fact]
    public async Task Streaming_YieldsTextUpdates_ThenMetadata()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var client = agent.AsChatClient();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "stream this")], WithTapPass((TapPassChatKeys.SessionId, "ses_stream1"))))
        {
            updates.Add(update);
        }

        updates.Count.Should().BeGreaterThan(2);
        string.Concat(updates.Select(u => u.Text)).Should().Be("echo: stream this");
        var last = updates[^1];
        last.AdditionalProperties![TapPassChatKeys.Classification].Should().Be("INTERNAL");
        last.AdditionalProperties[TapPassChatKeys.SessionId].Should().Be("ses_stream1");
        last.FinishReason.Should().Be(ChatFinishReason.Stop);
        last.Contents.OfType<UsageContent>().Single().Details.TotalTokenCount.Should().Be(52);
        updates.Should().AllSatisfy(u => u.ConversationId.Should().BeNull());
        AIChatResponse merged = updates.ToChatResponse();
        merged.Text.Should().Be("echo: stream this");
        merged.Messages.Should().ContainSingle();
        merged.Usage!.TotalTokenCount.Should().Be(52);
        var request = gateway.ChatRequests.Single();
        ((bool?)request.Json["stream"]).Should().BeTrue();
        request.Header("X-TapPass-Session-Id").Should().Be("ses_stream1");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task GovernanceErrors_ThrowTheSameExceptions()
    {
        var gateway = new FakeGateway().Then(Responses.Error(403, "policy_block"), Responses.Error(428, "approval_required"));
        using var agent = TestAgents.Create(gateway);
        var client = agent.AsChatClient();

        var block = (await FluentActions.Awaiting(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "card 4111")]))
            .Should().ThrowAsync<PolicyBlockException>()).Which;
        var approval = (await FluentActions.Awaiting(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "restricted")]))
            {
            }
        }).Should().ThrowAsync<ApprovalRequiredException>()).Which;

        block.BlockedBy.Should().Be("detect_pii");
        block.SessionId.Should().Be("ses_err1");
        approval.ResumeToken.Should().Be("rt_abc123");
    }

    [Fact]
    public async Task MidStreamError_IsThrownFromTheEnumerator()
    {
        var stream = new SseStream();
        stream.Send(Responses.ChunkJson("partial ")).Send("{\"error\":" + JsonNode.Parse(Responses.ErrorJson("policy_block", null))!["error"]!.ToJsonString() + "}").Done();
        stream.Complete();
        var gateway = new FakeGateway().Then(Responses.Stream(stream));
        using var agent = TestAgents.Create(gateway);

        var texts = new List<string>();
        var act = async () =>
        {
            await foreach (var update in agent.AsChatClient().GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")]))
            {
                texts.Add(update.Text);
            }
        };

        await act.Should().ThrowAsync<PolicyBlockException>();
        texts.Should().Equal("partial ");
    }

    [Fact]
    public void GetService_ReturnsTheAgentAndMetadata()
    {
        using var agent = TestAgents.Create(new FakeGateway(), o => o.Model = "gpt-4o");
        var client = agent.AsChatClient();

        client.GetService<ITapPassAgent>().Should().BeSameAs(agent);
        client.GetService<TapPassAgent>().Should().BeSameAs(agent);
        client.GetService<IChatClient>().Should().BeSameAs(client);
        client.GetService<ITapPassAgent>("key").Should().BeNull();
        client.GetService<string>().Should().BeNull();
        var metadata = client.GetService<ChatClientMetadata>()!;
        metadata.ProviderName.Should().Be("tappass");
        metadata.ProviderUri.Should().Be(new Uri(FakeGateway.Url + "/"));
        metadata.DefaultModelId.Should().Be("gpt-4o");
    }

    [Fact]
    public async Task InvalidInput_IsRejectedBeforeSending()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        var client = agent.AsChatClient();
        ChatMessage[] hi = [new(ChatRole.User, "hi")];

        await FluentActions.Awaiting(() => client.GetResponseAsync(hi, WithTapPass((TapPassChatKeys.SessionId, "not a session")))).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => client.GetResponseAsync(hi, WithTapPass((TapPassChatKeys.SessionId, 42)))).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => client.GetResponseAsync(hi, WithTapPass((TapPassChatKeys.Flags, "pii=shred")))).Should().ThrowAsync<TapPassConfigException>();
        await FluentActions.Awaiting(() => client.GetResponseAsync(hi, new ChatOptions { Temperature = float.NaN })).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2 }, "image/png")])]))
            .Should().ThrowAsync<NotSupportedException>();
        FluentActions.Invoking(() => client.GetStreamingResponseAsync(hi, WithTapPass((TapPassChatKeys.TaskId, "bad task")))).Should().Throw<ArgumentException>();
        gateway.Requests.Should().BeEmpty();
    }

    [Fact]
    public void AsChatClient_NeedsATapPassAgent()
    {
        ITapPassAgent? none = null;

        FluentActions.Invoking(() => none!.AsChatClient()).Should().Throw<ArgumentNullException>();
    }
}
