using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TapPass.Core.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Core.Tests.Transport;

public sealed class HttpTapPassTransportTests
{
    private static HttpTapPassTransport Create(FakeGateway gateway, string baseUrl = FakeGateway.Url, int maxRetries = 0) =>
        new(gateway.CreateClient(), new Uri(baseUrl), new TapPassAgentOptions { MaxRetries = maxRetries });

    private static ChatCompletionRequest Request(string text = "hi") => new() { Model = "gpt-4o-mini", Messages = [ChatCompletionMessage.Create("user", text)] };

    [Fact]
    public async Task ChatAsync_SendsEveryProtocolHeader()
    {
        var gateway = new FakeGateway();
        var transport = Create(gateway);
        var call = new TapPassCall
        {
            ApiKey = "tp_key",
            Flags = "mode=observe, pii=mask",
            SessionId = "ses_1",
            AgentUuid = FakeGateway.AgentUuid,
            TaskId = "tsk_1",
            ResumeToken = "rt_1",
            SandboxTier = "worker",
            IdempotencyKey = "idem-1",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            TraceState = "congo=t61rcWkgMzE",
        };

        var reply = await transport.ChatAsync(call, Request(), CancellationToken.None);

        reply.IsSuccess.Should().BeTrue();
        var r = gateway.ChatRequests.Single();
        r.Header("Authorization").Should().Be("Bearer tp_key");
        r.Header("X-TapPass-Flags").Should().Be("mode=observe, pii=mask");
        r.Header("X-TapPass-Session-Id").Should().Be("ses_1");
        r.Header("X-TapPass-Agent-Uuid").Should().Be(FakeGateway.AgentUuid);
        r.Header("X-TapPass-Task-Id").Should().Be("tsk_1");
        r.Header("X-TapPass-Resume-Token").Should().Be("rt_1");
        r.Header("X-TapPass-Sandbox-Tier").Should().Be("worker");
        r.Header("Idempotency-Key").Should().Be("idem-1");
        r.Header("traceparent").Should().Be(call.TraceParent);
        r.Header("tracestate").Should().Be(call.TraceState);
        r.Header("Accept").Should().Be("application/json");
        r.Header("User-Agent").Should().StartWith("tappass-dotnet/");
    }

    [Fact]
    public async Task ChatAsync_WithoutIdempotencyKey_GeneratesOne()
    {
        var gateway = new FakeGateway();

        await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        Guid.TryParse(gateway.ChatRequests.Single().Header("Idempotency-Key"), out _).Should().BeTrue();
        gateway.ChatRequests.Single().Header("Authorization").Should().BeNull();
    }

    [Fact]
    public async Task ChatAsync_ParsesTapPassResponseHeaders()
    {
        var gateway = new FakeGateway();

        var reply = await Create(gateway).ChatAsync(new TapPassCall { SessionId = "ses_h" }, Request(), CancellationToken.None);

        reply.Headers.SessionId.Should().Be("ses_h");
        reply.Headers.AgentUuid.Should().Be(FakeGateway.AgentUuid);
        reply.Headers.Classification.Should().Be("INTERNAL");
        reply.Headers.PipelineId.Should().StartWith("pl_");
        reply.StatusCode.Should().Be(200);
        reply.Value!.Tappass!.SessionId.Should().Be("ses_h");
    }

    [Fact]
    public async Task RetryAfter_AsHttpDate_IsRelativeToTheClock()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway().Then((_, _) =>
        {
            var m = Responses.JsonMessage(503, Responses.ErrorJson("break_glass_active", null));
            m.Headers.RetryAfter = new RetryConditionHeaderValue(time.GetUtcNow().AddSeconds(90));
            return Task.FromResult(m);
        });
        var transport = new HttpTapPassTransport(gateway.CreateClient(), new Uri(FakeGateway.Url), null, time);

        var reply = await transport.ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Headers.RetryAfter.Should().Be(TimeSpan.FromSeconds(90));
        reply.Error!.Type.Should().Be("break_glass_active");
    }

    [Fact]
    public async Task ErrorEnvelope_IsParsedWithEveryField()
    {
        var gateway = new FakeGateway().Then(Responses.Error(403, "policy_block"));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.IsSuccess.Should().BeFalse();
        reply.StatusCode.Should().Be(403);
        var e = reply.Error!;
        e.Type.Should().Be("policy_block");
        e.BlockedBy.Should().Be("detect_pii");
        e.Classification.Should().Be("RESTRICTED");
        e.StepDetails!["types"].GetArrayLength().Should().Be(2);
        e.SessionId.Should().Be("ses_err1");
        e.AuditUrl.Should().EndWith("/audit/sessions/ses_err1");
    }

    [Theory]
    [InlineData(502, "text/html", "<html>bad gateway</html>", "unavailable")]
    [InlineData(503, "text/plain", "down", "unavailable")]
    [InlineData(504, "text/html", "", "unavailable")]
    [InlineData(401, "text/plain", "no", "unauthorized")]
    [InlineData(400, "text/plain", "bad", "invalid_request")]
    [InlineData(404, "text/html", "<h1>404</h1>", "not_found")]
    [InlineData(403, "text/html", "<h1>Forbidden by WAF</h1>", "http_error")]
    [InlineData(500, "application/json", "{\"detail\":\"oops\"}", "http_error")]
    public async Task NonEnvelopeError_IsSynthesisedFromStatus_WithoutEchoingBody(int status, string mediaType, string body, string expectedType)
    {
        var gateway = new FakeGateway().Then(Responses.Text(status, mediaType, body));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Error!.Type.Should().Be(expectedType);
        reply.Error.Message.Should().Contain(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (body.Length > 0)
        {
            reply.Error.Message.Should().NotContain(body);
        }
    }

    [Fact]
    public async Task EnvelopeWithoutType_GetsTypeFromStatusAndKeepsMessage()
    {
        var gateway = new FakeGateway().Then(Responses.Text(503, "application/json", "{\"error\":{\"message\":\"maintenance\"}}"));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Error!.Type.Should().Be("unavailable");
        reply.Error.Message.Should().Be("maintenance");
    }

    [Fact]
    public async Task SuccessBodyOver5MiB_IsRejectedAsInvalidResponse()
    {
        var big = new string('a', HttpTapPassTransport.MaxBodyBytes + 10);
        var gateway = new FakeGateway().Then((request, _) => Task.FromResult(Responses.JsonMessage(200, Responses.CompletionJson(big, Responses.Meta(request)))));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.IsSuccess.Should().BeFalse();
        reply.Error!.Type.Should().Be("invalid_response");
        reply.Error.Message.Should().Contain("5 MiB");
    }

    [Fact]
    public async Task ChunkedBodyOver5MiBWithoutLength_IsRejectedAsInvalidResponse()
    {
        var gateway = new FakeGateway().Then((_, _) =>
        {
            var sse = new SseStream();
            var block = new string('x', 1024 * 1024);
            for (var i = 0; i < 6; i++)
            {
                sse.Raw(block);
            }

            sse.Complete();
            var content = new StreamContent(sse);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        });

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Error!.Type.Should().Be("invalid_response");
    }

    [Fact]
    public async Task MalformedSuccessJson_IsInvalidResponse()
    {
        var gateway = new FakeGateway().Then(Responses.Text(200, "application/json", "{\"choices\": 5"));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Error!.Type.Should().Be("invalid_response");
    }

    [Fact]
    public async Task RequestOver5MiB_IsRefusedLocallyWithoutSending()
    {
        var gateway = new FakeGateway();

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(new string('a', HttpTapPassTransport.MaxBodyBytes)), CancellationToken.None);

        reply.StatusCode.Should().Be(413);
        reply.Error!.Type.Should().Be("invalid_request");
        gateway.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("ses_1\r\nX-Evil: 1")]
    [InlineData("ses_é")]
    public async Task HeaderValueWithControlOrNonAscii_ThrowsWithoutEchoingValue(string sessionId)
    {
        var gateway = new FakeGateway();

        var act = () => Create(gateway).ChatAsync(new TapPassCall { SessionId = sessionId }, Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("X-TapPass-Session-Id").And.NotContain("Evil");
        gateway.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task BaseAddressWithPath_IsPrefixedToEveryEndpoint()
    {
        var gateway = new FakeGateway();
        var transport = Create(gateway, FakeGateway.Url + "/tappass");

        await transport.GetHealthAsync(CancellationToken.None);
        await transport.ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        transport.BaseAddress.ToString().Should().Be(FakeGateway.Url + "/tappass/");
        gateway.Requests.Select(r => r.Path).Should().Equal("/tappass/health", "/tappass/v1/chat/completions");
    }

    [Theory]
    [InlineData("ftp://gateway.example")]
    [InlineData("http://user:pw@gateway.example")]
    public void Constructor_BadBaseAddress_Throws(string url)
    {
        FluentActions.Invoking(() => new HttpTapPassTransport(new HttpClient(), new Uri(url))).Should().Throw<ArgumentException>()
            .Which.Message.Should().NotContain("pw@");
    }

    [Fact]
    public void Constructor_BadOptions_ThrowsConfigException()
    {
        FluentActions.Invoking(() => new HttpTapPassTransport(new HttpClient(), new Uri(FakeGateway.Url), new TapPassAgentOptions { MaxRetries = -1 }))
            .Should().Throw<TapPassConfigException>().Which.Setting.Should().Be("MaxRetries");
    }

    [Fact]
    public async Task GetHealth_ReadsBothVersions()
    {
        var gateway = new FakeGateway();

        var reply = await Create(gateway).GetHealthAsync(CancellationToken.None);

        reply.Value!.Status.Should().Be("healthy");
        reply.Value.ApiVersion.Should().Be("0.6.0");
        reply.Value.Version.Should().Be("1.4.2");
    }

    [Fact]
    public async Task GovernAsync_PostsToGovernAndParsesDecision()
    {
        var gateway = new FakeGateway().Then((_, _) => Task.FromResult(Responses.JsonMessage(200,
            "{\"outcome\":\"modify\",\"reason\":\"mirror\",\"modified_args\":{\"to\":\"supervisor@company.com\"},\"capability_token\":\"jws\",\"pipeline_uuid\":\"pl_g\"}")));
        var request = new GovernRequest
        {
            SessionId = "ses_1",
            Payload = new GovernPayload { Tool = "send_email", Args = System.Text.Json.JsonDocument.Parse("{\"to\":\"a@b.com\"}").RootElement, DefinitionSha256 = "abc" },
            Enforcement = new GovernEnforcement(),
        };

        var reply = await Create(gateway).GovernAsync(new TapPassCall { ApiKey = "tp_k" }, request, CancellationToken.None);

        reply.Value!.Outcome.Should().Be("modify");
        reply.Value.ModifiedArgs!.Value.GetProperty("to").GetString().Should().Be("supervisor@company.com");
        var sent = gateway.Requests.Single();
        sent.Path.Should().Be("/v1/govern");
        ((string?)sent.Json["type"]).Should().Be("TOOL_CALL");
        ((string?)sent.Json["payload"]!["definition_sha256"]).Should().Be("abc");
        sent.Header("Idempotency-Key").Should().NotBeNull();
    }

    [Fact]
    public async Task ReportExecution_OpenAndCloseSession_UseTheirEndpoints()
    {
        var gateway = new FakeGateway
        {
            Default = (request, _) => Task.FromResult(request.Path switch
            {
                "/v1/govern/execution" => Responses.JsonMessage(200, "{\"recorded\":true,\"event_id\":\"ae_1\"}"),
                "/v1/sessions" => Responses.JsonMessage(201, "{\"session_id\":\"ses_new\",\"agent_uuid\":\"" + FakeGateway.AgentUuid + "\"}"),
                _ => Responses.JsonMessage(200, "{\"session_id\":\"ses_new\",\"closed\":true}"),
            }),
        };
        var transport = Create(gateway);

        var report = await transport.ReportExecutionAsync(new TapPassCall(), new ExecutionReport { Tool = "search", Ok = true, DurationMs = 12.5 }, CancellationToken.None);
        var opened = await transport.OpenSessionAsync(new TapPassCall(), new SessionCreateRequest { Shared = true }, CancellationToken.None);
        var closed = await transport.CloseSessionAsync(new TapPassCall(), "ses_new", CancellationToken.None);

        report.Value!.EventId.Should().Be("ae_1");
        opened.StatusCode.Should().Be(201);
        opened.Value!.SessionId.Should().Be("ses_new");
        closed.Value!.Closed.Should().BeTrue();
        gateway.Requests.Select(r => (r.Method.Method, r.Path)).Should().Equal(
            ("POST", "/v1/govern/execution"), ("POST", "/v1/sessions"), ("DELETE", "/v1/sessions/ses_new"));
        ((double?)gateway.Requests[0].Json["duration_ms"]).Should().Be(12.5);
        gateway.Requests[2].Header("Idempotency-Key").Should().BeNull();
    }

    [Fact]
    public async Task CloseSession_MalformedId_Throws()
    {
        await FluentActions.Awaiting(() => Create(new FakeGateway()).CloseSessionAsync(new TapPassCall(), "../admin", CancellationToken.None))
            .Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task StreamChat_ReadsEventsUntilDone_IgnoringCommentsAndLaterData()
    {
        var sse = new SseStream();
        sse.Raw(": keep-alive\n\n")
            .Send(Responses.ChunkJson("a"))
            .Raw("event: message\ndata: " + Responses.ChunkJson("b") + "\n\n")
            .Done()
            .Send(Responses.ChunkJson("after done"));
        sse.Complete();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));

        await using var reply = await Create(gateway).StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);
        var contents = new List<string?>();
        await foreach (var chunk in reply.Chunks!)
        {
            contents.Add(chunk.Choices![0].Delta.Content);
        }

        contents.Should().Equal("a", "b");
        ((bool?)gateway.ChatRequests.Single().Json["stream"]).Should().BeTrue();
    }

    [Fact]
    public async Task StreamChat_ErrorEvent_IsAChunkWithErrorAndEndsTheSequence()
    {
        var sse = new SseStream();
        sse.Send(Responses.ChunkJson("a")).Send(Responses.ErrorJson("policy_block", null)).Send(Responses.ChunkJson("never")).Done();
        sse.Complete();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));

        await using var reply = await Create(gateway).StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);
        var chunks = new List<ChatCompletionChunk>();
        await foreach (var chunk in reply.Chunks!)
        {
            chunks.Add(chunk);
        }

        chunks.Should().HaveCount(2);
        chunks[1].Error!.Type.Should().Be("policy_block");
        chunks[1].Error!.BlockedBy.Should().Be("detect_pii");
    }

    [Fact]
    public async Task StreamChat_OverTheStreamBound_EndsWithInvalidResponseChunk()
    {
        var sse = new SseStream();
        sse.Send(Responses.ChunkJson("a"));
        for (var i = 0; i < 10; i++)
        {
            sse.Send(Responses.ChunkJson(new string('x', 200)));
        }

        sse.Done();
        sse.Complete();
        var gateway = new FakeGateway().Then(Responses.Stream(sse));
        var transport = new HttpTapPassTransport(gateway.CreateClient(), new Uri(FakeGateway.Url), new TransportSettings { MaxRetries = 0, MaxStreamBytes = 1024 }, null, null);

        await using var reply = await transport.StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);
        var chunks = new List<ChatCompletionChunk>();
        await foreach (var chunk in reply.Chunks!)
        {
            chunks.Add(chunk);
        }

        chunks[^1].Error!.Type.Should().Be("invalid_response");
        chunks[^1].Error!.Message.Should().Contain("1024 bytes");
        chunks.Count.Should().BeLessThan(6);
        HttpTapPassTransport.MaxStreamBytes.Should().Be(64L * 1024 * 1024);
    }

    [Fact]
    public void BoundedReadStream_ThrowsOncePastTheBound()
    {
        using var bounded = new BoundedReadStream(new MemoryStream(new byte[100]), 64);
        var buffer = new byte[50];

        bounded.Read(buffer, 0, 50).Should().Be(50);
        FluentActions.Invoking(() => bounded.Read(buffer, 0, 50)).Should().Throw<IOException>().WithMessage("*64 bytes*");
    }

    [Fact]
    public async Task StreamChat_DecisionBeforeStream_IsAnErrorReplyWithoutChunks()
    {
        var gateway = new FakeGateway().Then(Responses.Error(403, "trust_tier_denied"));

        await using var reply = await Create(gateway).StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.StatusCode.Should().Be(403);
        reply.Chunks.Should().BeNull();
        reply.Error!.RequiredTier.Should().Be("full");
    }

    [Fact]
    public async Task StreamChat_JsonInsteadOfEventStream_IsInvalidResponse()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("not a stream"));

        await using var reply = await Create(gateway).StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Error!.Type.Should().Be("invalid_response");
        reply.Error.Message.Should().Contain("application/json");
    }

    [Fact]
    public async Task StreamChat_DisposingReply_DisposesTheConnection()
    {
        var sse = new SseStream();
        sse.Send(Responses.ChunkJson("a"));
        var gateway = new FakeGateway().Then(Responses.Stream(sse));

        var reply = await Create(gateway).StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);
        await reply.DisposeAsync();

        sse.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public async Task StreamChat_ConnectionRefused_ThrowsConnectionExceptionAfterRetries()
    {
        var time = new FakeTimeProvider();
        var gateway = new FakeGateway { Default = Responses.Refused() };
        var transport = new HttpTapPassTransport(gateway.CreateClient(), new Uri(FakeGateway.Url), new TapPassAgentOptions { MaxRetries = 1 }, time);

        var call = transport.StreamChatAsync(new TapPassCall(), Request(), CancellationToken.None);
        await time.DriveAsync(call);

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<TapPassConnectionException>();
        gateway.ChatRequests.Should().HaveCount(2);
    }

    [Fact]
    public void ParseError_UnknownFieldsAndTypes_ArePreserved()
    {
        var error = HttpTapPassTransport.ParseError(499, Encoding.UTF8.GetBytes("{\"error\":{\"type\":\"budget_exceeded\",\"message\":\"over\",\"extra\":1}}"));

        error.Type.Should().Be("budget_exceeded");
        error.Message.Should().Be("over");
    }

    [Fact]
    public void ParseError_OversizeBody_SaysSo()
    {
        HttpTapPassTransport.ParseError(503, null).Message.Should().Contain("5 MiB");
    }

    [Fact]
    public async Task Answer_TappassExtensionFields_RoundTripThroughReply()
    {
        var gateway = new FakeGateway().Then(Responses.Answer("x", meta => meta["capability_tokens"] = new JsonObject { ["call_1"] = "jws" }));

        var reply = await Create(gateway).ChatAsync(new TapPassCall(), Request(), CancellationToken.None);

        reply.Value!.Tappass!.CapabilityTokens.Should().Contain("call_1", "jws");
    }
}
