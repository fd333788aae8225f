using System.Diagnostics;
using System.Text.Json.Nodes;
using TapPass.Core.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Core.Tests;

public sealed class TapPassAgentTests
{
    [Fact]
    public async Task ChatAsync_Answer_MapsContentUsagePipelineAndCorrelationIds()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("Hello Alice", meta =>
        {
            meta["classification"] = "CONFIDENTIAL";
            meta["session_id"] = "ses_abc";
            meta["task_id"] = "tsk_1";
            meta["pipeline_uuid"] = "pl_42";
            meta["turn_index"] = 3;
            meta["redactions"] = new JsonArray(new JsonObject { ["type"] = "EMAIL", ["replacement"] = "[MASKED_EMAIL]", ["phase"] = "output" });
            meta["flags"] = new JsonObject { ["mode"] = "enforce", ["pii"] = "mask" };
        }));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.ChatAsync("What are the GDPR requirements?");

        response.Content.Should().Be("Hello Alice");
        response.Model.Should().Be("gpt-4o-mini-2024-07-18");
        response.FinishReason.Should().Be("stop");
        response.Usage.PromptTokens.Should().Be(12);
        response.Usage.CompletionTokens.Should().Be(40);
        response.Usage.TotalTokens.Should().Be(52);
        response.Pipeline.Classification.Should().Be(Classification.Confidential);
        response.Pipeline.Blocked.Should().BeFalse();
        response.Pipeline.Flags.Should().Contain("pii", "mask").And.Contain("mode", "enforce");
        response.Pipeline.Detections.Should().ContainSingle(d => d.Type == "EMAIL" && d.Start == 10 && d.Length == 17);
        response.Pipeline.Redactions.Should().ContainSingle(r => r.Replacement == "[MASKED_EMAIL]");
        response.Pipeline.Steps.Should().ContainSingle(s => s.Name == "detect_pii" && s.DurationUs == 41);
        response.Pipeline.Cost!.Usd.Should().Be(0.000031m);
        response.Pipeline.InjectionScore.Should().Be(0.02);
        response.Pipeline.TurnIndex.Should().Be(3);
        response.Pipeline.Degraded.Should().BeFalse();
        response.SessionId.Should().Be("ses_abc");
        response.TaskId.Should().Be("tsk_1");
        response.AgentUuid.Should().Be(FakeGateway.AgentUuid);
        response.PipelineUuid.Should().Be("pl_42");
        response.AuditUrl.Should().Be(FakeGateway.Url + "/audit/sessions/ses_fake");
    }

    [Fact]
    public async Task ChatAsync_ToolCallsInAnswer_AreReturned()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("", completion: c =>
        {
            var message = c["choices"]![0]!["message"]!.AsObject();
            message["content"] = null;
            message["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "call_1",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "search", ["arguments"] = "{\"q\":\"gdpr\"}" },
            });
            c["choices"]![0]!["finish_reason"] = "tool_calls";
        }));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.ChatAsync("find it");

        response.Content.Should().BeEmpty();
        response.FinishReason.Should().Be("tool_calls");
        response.ToolCalls.Should().ContainSingle(t => t.Id == "call_1" && t.Function.Name == "search" && t.Function.Arguments == "{\"q\":\"gdpr\"}");
    }

    [Fact]
    public async Task ChatAsync_Request_CarriesOpenAiBodyAndProtocolHeaders()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.Flags["pii"] = "mask");
        var options = new TapPassChatOptions
        {
            Model = "gpt-4o",
            Temperature = 0.2,
            MaxTokens = 100,
            Tools = [new ToolDefinition { Function = new FunctionDefinition { Name = "search", Description = "Search" } }],
        };
        options.Flags["mode"] = "lockdown";

        await agent.ChatAsync("Complex analysis", options);

        var request = gateway.ChatRequests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Header("Authorization").Should().Be("Bearer " + FakeGateway.ApiKey);
        request.Header("X-TapPass-Flags").Should().Be("mode=lockdown, pii=mask");
        request.Header("Idempotency-Key").Should().MatchRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
        request.Header("Content-Type").Should().Be("application/json; charset=utf-8");
        var body = request.Json;
        ((string?)body["model"]).Should().Be("gpt-4o");
        ((double?)body["temperature"]).Should().Be(0.2);
        ((int?)body["max_tokens"]).Should().Be(100);
        ((string?)body["tools"]![0]!["function"]!["name"]).Should().Be("search");
        body["messages"]!.AsArray().Should().ContainSingle();
        ((string?)body["messages"]![0]!["role"]).Should().Be("user");
        ((string?)body["messages"]![0]!["content"]).Should().Be("Complex analysis");
        body["stream"].Should().BeNull();
    }

    [Fact]
    public async Task ChatAsync_PerCallFlag_OverridesAgentDefaultOfSameKey()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.Flags["mode"] = "observe";
            o.Flags["pii"] = "mask";
        });
        var options = new TapPassChatOptions();
        options.Flags["PII"] = " Block ";

        var response = await agent.ChatAsync("hi", options);

        gateway.ChatRequests.Single().Header("X-TapPass-Flags").Should().Be("mode=observe, pii=block");
        response.Pipeline.Flags.Should().Contain("pii", "block");
        agent.DefaultFlags.ToHeaderValue().Should().Be("mode=observe, pii=mask");
    }

    [Fact]
    public async Task ChatAsync_NoFlagsAnywhere_SendsNoFlagsHeaderAndEchoesNothing()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("hi");

        gateway.ChatRequests.Single().Header("X-TapPass-Flags").Should().BeNull();
    }

    [Fact]
    public async Task ChatAsync_InvalidPerCallFlag_ThrowsConfigExceptionNamingFlagWithoutSending()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.VerifyGatewayVersion = false);
        var options = new TapPassChatOptions();
        options.Flags["pii"] = "shred";

        var act = () => agent.ChatAsync("hi", options);

        var ex = (await act.Should().ThrowAsync<TapPassConfigException>()).Which;
        ex.Flag.Should().Be("pii");
        ex.Value.Should().Be("shred");
        ex.Allowed.Should().Contain("mask");
        ex.Message.Should().Contain("pii");
        gateway.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("bad id!", null, null)]
    [InlineData(null, "not-a-uuid", null)]
    [InlineData(null, null, "tsk 1")]
    public async Task ChatAsync_MalformedPerCallIds_ThrowArgumentExceptionWithoutSending(string? sessionId, string? agentUuid, string? taskId)
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        var act = () => agent.ChatAsync("hi", new TapPassChatOptions { SessionId = sessionId, AgentUuid = agentUuid, TaskId = taskId });

        await act.Should().ThrowAsync<ArgumentException>();
        gateway.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("token with space")]
    [InlineData("")]
    public async Task ChatAsync_MalformedResumeToken_Throws(string token)
    {
        using var agent = TestAgents.Create(new FakeGateway());

        var act = () => agent.ChatAsync("hi", new TapPassChatOptions { ResumeToken = token });

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*ResumeToken*");
    }

    [Fact]
    public async Task ChatAsync_BadPerCallNumbers_Throw()
    {
        using var agent = TestAgents.Create(new FakeGateway());

        await agent.Invoking(a => a.ChatAsync("hi", new TapPassChatOptions { MaxTokens = 0 })).Should().ThrowAsync<ArgumentException>();
        await agent.Invoking(a => a.ChatAsync("hi", new TapPassChatOptions { Temperature = double.NaN })).Should().ThrowAsync<ArgumentException>();
        await agent.Invoking(a => a.ChatAsync("hi", new TapPassChatOptions { Model = "bad\nmodel" })).Should().ThrowAsync<ArgumentException>();
        await agent.Invoking(a => a.ChatAsync(null!)).Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public async Task ChatAsync_ResumeToken_IsSentAsHeader()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("hi", new TapPassChatOptions { ResumeToken = "rt_abc123" });

        gateway.ChatRequests.Single().Header("X-TapPass-Resume-Token").Should().Be("rt_abc123");
    }

    [Fact]
    public async Task ChatAsync_PerCallModel_OverridesDefaultAndDefaultIsGpt4oMini()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("a");
        await agent.ChatAsync("b", new TapPassChatOptions { Model = "gpt-4o" });

        agent.Model.Should().Be("gpt-4o-mini");
        gateway.ChatRequests.Select(r => (string?)r.Json["model"]).Should().Equal("gpt-4o-mini", "gpt-4o");
    }

    [Fact]
    public async Task ChatAsync_TwoCalls_SecondSendsHistoryOfFirst()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("My name is Alice");
        await agent.ChatAsync("What's my name?");

        var messages = gateway.ChatRequests[1].Json["messages"]!.AsArray();
        messages.Select(m => (string?)m!["role"]).Should().Equal("user", "assistant", "user");
        messages.Select(m => (string?)m!["content"]).Should().Equal("My name is Alice", "echo: My name is Alice", "What's my name?");
        agent.History.Select(m => m.Content).Should().Equal("My name is Alice", "echo: My name is Alice", "What's my name?", "echo: What's my name?");
    }

    [Fact]
    public async Task Reset_ClearsHistory_NextCallSendsOnlyItsMessage()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        await agent.ChatAsync("My name is Alice");

        agent.Reset();
        await agent.ChatAsync("What's my name?");

        agent.History.Should().HaveCount(2);
        gateway.ChatRequests[1].Json["messages"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task History_StoresUserMessageAsSentAndAssistantAnswerAsReturned()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("Write to [MASKED_EMAIL]"));
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("My email is alice@example.com");

        agent.History.Select(m => m.Content).Should().Equal("My email is alice@example.com", "Write to [MASKED_EMAIL]");
    }

    [Fact]
    public async Task History_IsACopy_ChangingItDoesNotChangeTheAgent()
    {
        using var agent = TestAgents.Create(new FakeGateway());
        await agent.ChatAsync("hi");

        agent.History[0].Content = "tampered";

        agent.History[0].Content.Should().Be("hi");
    }

    [Fact]
    public async Task ChatAsync_Blocked_LeavesHistoryUnchangedAndBlockedMessageIsNotResent()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        await agent.ChatAsync("first");
        gateway.Then(Responses.Error(403, "policy_block"));

        await agent.Invoking(a => a.ChatAsync("card 4111 1111 1111 1111")).Should().ThrowAsync<PolicyBlockException>();
        await agent.ChatAsync("second");

        agent.History.Select(m => m.Content).Should().Equal("first", "echo: first", "second", "echo: second");
        gateway.ChatRequests[2].Json["messages"]!.AsArray().Select(m => (string?)m!["content"]).Should().NotContain(c => c!.Contains("4111"));
    }

    [Fact]
    public async Task History_MaxHistoryMessages_DropsOldestPairs()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.MaxHistoryMessages = 4);

        foreach (var m in new[] { "one", "two", "three" })
        {
            await agent.ChatAsync(m);
        }

        agent.History.Select(m => m.Content).Should().Equal("two", "echo: two", "three", "echo: three");
    }

    [Fact]
    public async Task History_OddBound_KeepsWholePairsOnly()
    {
        using var agent = TestAgents.Create(new FakeGateway(), o => o.MaxHistoryMessages = 3);

        await agent.ChatAsync("one");
        await agent.ChatAsync("two");

        agent.History.Select(m => m.Content).Should().Equal("two", "echo: two");
    }

    [Fact]
    public async Task History_ZeroBound_KeepsNothingAndSendsOnlyTheMessage()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway, o => o.MaxHistoryMessages = 0);

        await agent.ChatAsync("one");
        await agent.ChatAsync("two");

        agent.History.Should().BeEmpty();
        gateway.ChatRequests[1].Json["messages"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task ChatAsync_FiftyParallelCalls_HistoryHasHundredMessagesInConsistentPairs()
    {
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => agent.ChatAsync("message " + i))));

        var history = agent.History;
        history.Should().HaveCount(100);
        for (var i = 0; i < history.Count; i += 2)
        {
            history[i].Role.Should().Be("user");
            history[i + 1].Role.Should().Be("assistant");
            history[i + 1].Content.Should().Be("echo: " + history[i].Content);
        }

        history.Where(m => m.Role == "user").Select(m => m.Content).Should().OnlyHaveUniqueItems().And.HaveCount(50);
    }

    [Fact]
    public async Task ChatAsync_ParallelCallsWithBlocks_OnlySuccessfulPairsAreAppended()
    {
        var gateway = new FakeGateway
        {
            Default = (request, ct) => request.LastUserMessage.EndsWith('3')
                ? Responses.Error(403, "policy_block")(request, ct)
                : Responses.Echo()(request, ct),
        };
        using var agent = TestAgents.Create(gateway);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            try
            {
                await agent.ChatAsync("m" + i);
                return true;
            }
            catch (PolicyBlockException)
            {
                return false;
            }
        })));

        results.Count(r => !r).Should().Be(4);
        var history = agent.History;
        history.Should().HaveCount(72);
        history.Where(m => m.Role == "user").Should().NotContain(m => m.Content!.EndsWith('3'));
        for (var i = 0; i < history.Count; i += 2)
        {
            history[i + 1].Content.Should().Be("echo: " + history[i].Content);
        }
    }

    [Fact]
    public async Task Reset_WhileCallInFlight_ThatCallDoesNotAppendItsPair()
    {
        var gate = new TaskCompletionSource();
        var gateway = new FakeGateway();
        using var agent = TestAgents.Create(gateway);
        await agent.ChatAsync("before");
        gateway.Then(Responses.Gated(gate.Task, Responses.Echo()));

        var inFlight = agent.ChatAsync("during");
        await WaitUntil(() => gateway.ChatRequests.Count == 2);
        agent.Reset();
        gate.SetResult();
        await inFlight;

        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatAsync_RaiseOnRedaction_ThrowsWithMaskedResponseAndKeepsHistory()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("Mail [MASKED_EMAIL]", meta =>
            meta["redactions"] = new JsonArray(new JsonObject { ["type"] = "EMAIL", ["replacement"] = "[MASKED_EMAIL]", ["phase"] = "output" })));
        using var agent = TestAgents.Create(gateway, o => o.RaiseOnRedaction = true);

        var ex = (await agent.Invoking(a => a.ChatAsync("who?")).Should().ThrowAsync<RedactionAppliedException>()).Which;

        ex.Response!.Content.Should().Be("Mail [MASKED_EMAIL]");
        ex.Redactions.Should().ContainSingle(r => r.Type == "EMAIL");
        ex.PipelineUuid.Should().StartWith("pl_");
        ex.SessionId.Should().StartWith("ses_");
        ex.Message.Should().Contain("EMAIL").And.NotContain("who?");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatAsync_RedactionsWithoutRaiseOnRedaction_ReturnsResponse()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("Mail [MASKED_EMAIL]", meta =>
            meta["redactions"] = new JsonArray(new JsonObject { ["type"] = "EMAIL", ["replacement"] = "[MASKED_EMAIL]", ["phase"] = "output" })));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.ChatAsync("who?");

        response.Pipeline.Redactions.Should().ContainSingle();
        agent.History.Should().HaveCount(2);
    }

    [Fact]
    public async Task ChatAsync_RespectBreakGlass_200WithBreakGlass_Throws()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("ok", meta =>
            meta["break_glass"] = new JsonObject { ["level"] = "observe", ["expires_at"] = "2025-06-01T13:00:00+00:00", ["reason"] = "incident" }));
        using var agent = TestAgents.Create(gateway, o => o.RespectBreakGlass = true);

        var ex = (await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<BreakGlassActiveException>()).Which;

        ex.Level.Should().Be("observe");
        ex.ExpiresAt.Should().Be(new DateTimeOffset(2025, 6, 1, 13, 0, 0, TimeSpan.Zero));
        ex.Reason.Should().Be("incident");
        ex.PipelineUuid.Should().StartWith("pl_");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatAsync_BreakGlassObserveWithoutRespect_ReturnsResponseWithBreakGlass()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("ok", meta =>
            meta["break_glass"] = new JsonObject { ["level"] = "observe" }));
        using var agent = TestAgents.Create(gateway);

        var response = await agent.ChatAsync("hi");

        response.Pipeline.BreakGlass!.Level.Should().Be("observe");
    }

    [Fact]
    public async Task ChatAsync_AnswerWithoutTappassObject_FallsBackToResponseHeaders()
    {
        var gateway = new FakeGateway().Then((request, _) =>
        {
            var json = JsonNode.Parse(Responses.CompletionJson("plain", Responses.Meta(request)))!.AsObject();
            json.Remove("tappass");
            var message = Responses.JsonMessage(200, json.ToJsonString());
            message.Headers.Add("X-TapPass-Session-Id", "ses_hdr");
            message.Headers.Add("X-TapPass-Classification", "RESTRICTED");
            message.Headers.Add("X-TapPass-Pipeline-Id", "pl_hdr");
            message.Headers.Add("X-TapPass-Agent-Uuid", FakeGateway.AgentUuid);
            return Task.FromResult(message);
        });
        using var agent = TestAgents.Create(gateway, o => o.Flags["pii"] = "mask");

        var response = await agent.ChatAsync("hi");

        response.SessionId.Should().Be("ses_hdr");
        response.PipelineUuid.Should().Be("pl_hdr");
        response.AgentUuid.Should().Be(FakeGateway.AgentUuid);
        response.Pipeline.Classification.Should().Be(Classification.Restricted);
        response.Pipeline.Flags.Should().Contain("pii", "mask");
    }

    [Fact]
    public async Task Dispose_OwnedClient_LaterCallsThrowObjectDisposed()
    {
        var agent = new TapPassAgent(new TapPassAgentOptions { Url = "http://127.0.0.1:1", ApiKey = "tp_x" });
        await agent.DisposeAsync();
        agent.Dispose();

        await agent.Invoking(a => a.ChatAsync("hi")).Should().ThrowAsync<ObjectDisposedException>();
        agent.Invoking(a => a.StreamAsync("hi")).Should().Throw<ObjectDisposedException>();
        agent.Invoking(a => a.Chat("hi")).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task Dispose_SuppliedHttpClient_IsNotDisposed()
    {
        var gateway = new FakeGateway();
        using var client = gateway.CreateClient();
        var agent = new TapPassAgent(TestAgents.Options(), client);

        agent.Dispose();

        using var response = await client.GetAsync(new Uri(FakeGateway.Url + "/health"));
        response.IsSuccessStatusCode.Should().BeTrue();
    }

    [Fact]
    public void Constructor_UrlAndKey_MirrorsPythonAgentUrlKey()
    {
        using var agent = new TapPassAgent("https://tappass.example.com", "tp_abc");

        agent.Model.Should().Be("gpt-4o-mini");
        agent.History.Should().BeEmpty();
    }

    [Fact]
    public void Constructors_NullArguments_Throw()
    {
        FluentActions.Invoking(() => new TapPassAgent((TapPassAgentOptions)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new TapPassAgent(new TapPassAgentOptions(), (HttpClient)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new TapPassAgent(new TapPassAgentOptions(), (ITapPassTransport)null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task Constructor_WithLoggerFactoryAndClock_LogsWithoutPromptOrKey()
    {
        var logs = new RecordingLoggerFactory();
        var gateway = new FakeGateway();
        using var client = gateway.CreateClient();
        // Public constructor with logging; the owned-client variant is exercised for its logger/clock parameters too.
        using var owned = new TapPassAgent(TestAgents.Options(), logs, TimeProvider.System);
        using var agent = new TapPassAgent(TestAgents.Options(o => o.MaxRetries = 1), client, logs, TimeProvider.System);
        const string secretPrompt = "my card is 4111 1111 1111 1111 and I am Alice";
        gateway.Then(Responses.Error(503, "unavailable"), Responses.Echo(), Responses.Error(403, "policy_block"));

        await agent.ChatAsync(secretPrompt);
        await agent.Invoking(a => a.ChatAsync(secretPrompt)).Should().ThrowAsync<PolicyBlockException>();

        logs.Entries.Should().Contain(e => e.EventName == "RetryScheduled");
        logs.Entries.Should().Contain(e => e.EventName == "DecisionReceived" && e.Message.Contains("policy_block") && e.Message.Contains("detect_pii"));
        logs.Entries.Should().Contain(e => e.EventName == "CallCompleted");
        logs.AllText.Should().NotContain("4111").And.NotContain("Alice").And.NotContain(FakeGateway.ApiKey);
    }

    [Fact]
    public async Task ChatAsync_UnreachableGateway_LogsUrlNeverKey()
    {
        var logs = new RecordingLoggerFactory();
        var gateway = new FakeGateway { Default = Responses.Refused() };
        using var agent = TestAgents.Create(gateway, o =>
        {
            o.MaxRetries = 0;
            o.VerifyGatewayVersion = false;
        }, loggerFactory: logs);

        var ex = (await agent.Invoking(a => a.ChatAsync("secret prompt text")).Should().ThrowAsync<TapPassConnectionException>()).Which;

        ex.Message.Should().Contain(FakeGateway.Url).And.NotContain(FakeGateway.ApiKey);
        logs.Entries.Should().Contain(e => e.EventName == "GatewayUnreachable" && e.Message.Contains(FakeGateway.Url));
        logs.AllText.Should().NotContain(FakeGateway.ApiKey).And.NotContain("secret prompt text");
    }

    [Fact]
    public async Task ChatAsync_Activity_HasSpanPerCallWithTagsAndSendsTraceparent()
    {
        var sessionId = "ses_" + Guid.NewGuid().ToString("N");
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "TapPass",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (activities)
                {
                    activities.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var gateway = new FakeGateway().Then(Responses.Echo(), Responses.Error(403, "policy_block", extra: e => e["session_id"] = sessionId));
        using var agent = TestAgents.Create(gateway);

        await agent.ChatAsync("hi", new TapPassChatOptions { SessionId = sessionId });
        await agent.Invoking(a => a.ChatAsync("hi", new TapPassChatOptions { SessionId = sessionId })).Should().ThrowAsync<PolicyBlockException>();
        await agent.StreamAsync("hi", new TapPassChatOptions { SessionId = sessionId }).ToResponseAsync();

        List<Activity> mine;
        lock (activities)
        {
            mine = activities.Where(a => Equals(a.GetTagItem("tappass.session_id"), sessionId)).ToList();
        }

        var ok = mine.Single(a => a.OperationName == "tappass.chat" && a.Status == ActivityStatusCode.Ok);
        ok.Kind.Should().Be(ActivityKind.Client);
        ok.GetTagItem("tappass.agent_uuid").Should().Be(FakeGateway.AgentUuid);
        ok.GetTagItem("tappass.classification").Should().Be("INTERNAL");
        ok.GetTagItem("tappass.blocked").Should().Be(false);
        ((string)ok.GetTagItem("tappass.pipeline_uuid")!).Should().StartWith("pl_");
        gateway.ChatRequests[0].Header("traceparent").Should().Be(ok.Id);

        var blocked = mine.Single(a => a.OperationName == "tappass.chat" && a.Status == ActivityStatusCode.Error);
        blocked.GetTagItem("tappass.blocked").Should().Be(true);
        blocked.GetTagItem("tappass.error_type").Should().Be("policy_block");
        blocked.GetTagItem("tappass.classification").Should().Be("RESTRICTED");
        blocked.GetTagItem("tappass.pipeline_uuid").Should().Be("pl_err1");

        mine.Should().ContainSingle(a => a.OperationName == "tappass.stream" && a.Status == ActivityStatusCode.Ok);
    }

    [Fact]
    public async Task EmbeddedTransport_NoUrlNeeded_SameMappingAndHeaders()
    {
        var transport = new FakeTransport();
        using var agent = new TapPassAgent(new TapPassAgentOptions { ApiKey = "tp_embedded", Flags = { ["pii"] = "mask" } }, transport);

        var response = await agent.ChatAsync("hello");
        var streamed = await agent.StreamAsync("again").ToResponseAsync();

        response.Content.Should().Be("embedded: hello");
        response.Pipeline.Classification.Should().Be(Classification.Confidential);
        response.SessionId.Should().Be("ses_embedded");
        streamed.Content.Should().Be("embedded: again");
        var (call, request) = transport.Calls.First();
        call.ApiKey.Should().Be("tp_embedded");
        call.Flags.Should().Be("pii=mask");
        call.IdempotencyKey.Should().NotBeNullOrEmpty();
        request.Messages.Should().ContainSingle();
        agent.History.Should().HaveCount(4);
    }

    [Fact]
    public async Task EmbeddedTransport_DecisionValue_IsMappedToException()
    {
        var transport = new FakeTransport
        {
            OnChat = (_, _) => TapPassReply<ChatCompletionResponse>.Fail(403, new ErrorBody { Type = "policy_block", BlockedBy = "detect_secrets", Reason = "secret" }),
        };
        using var agent = new TapPassAgent(new TapPassAgentOptions(), transport);

        var ex = (await agent.Invoking(a => a.ChatAsync("x")).Should().ThrowAsync<PolicyBlockException>()).Which;

        ex.BlockedBy.Should().Be("detect_secrets");
        ex.StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task EmbeddedTransport_ErrorReplyWithoutBody_IsMappedByStatus()
    {
        var transport = new FakeTransport { OnChat = (_, _) => new TapPassReply<ChatCompletionResponse> { StatusCode = 503 } };
        using var agent = new TapPassAgent(new TapPassAgentOptions(), transport);

        await agent.Invoking(a => a.ChatAsync("x")).Should().ThrowAsync<TapPassConnectionException>();
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("Condition not reached.");
            }

            await Task.Delay(5);
        }
    }
}
