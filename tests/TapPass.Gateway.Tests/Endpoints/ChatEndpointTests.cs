using System.Net;
using System.Text;
using System.Text.Json;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Endpoints;

public sealed class ChatEndpointTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> Post(string json, string? key = FakeAdmin.AgentKey, Action<HttpRequestMessage>? edit = null)
    {
        var request = _host.Request(HttpMethod.Post, "/v1/chat/completions", json, key);
        edit?.Invoke(request);
        return _host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Chat_Allowed_ReturnsCompletionAndEchoesHeaders()
    {
        using var response = await Post(Wire.Chat("hi"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await Wire.Read(response, TapPassJsonContext.Default.ChatCompletionResponse);
        body.Choices[0].Message.Content.Should().Be("echo: hi");
        body.Tappass!.SessionId.Should().Be("ses_test");
        response.Headers.GetValues(TapPassHeaders.SessionId).Should().Equal("ses_test");
        response.Headers.GetValues(TapPassHeaders.AgentUuid).Should().Equal(FakeTransport.Headers.AgentUuid);
        response.Headers.GetValues(TapPassHeaders.Classification).Should().Equal("PUBLIC");
        response.Headers.GetValues(TapPassHeaders.PipelineId).Should().Equal("pl_test");
    }

    [Fact]
    public async Task Chat_PolicyBlock_Returns403EnvelopeWithHeaders()
    {
        using var response = await Post(Wire.Chat("please BLOCK this"));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var error = await Wire.ErrorOf(response);
        error.Type.Should().Be(ErrorTypes.PolicyBlock);
        error.BlockedBy.Should().Be("detect_pii");
        error.Classification.Should().Be("RESTRICTED");
        response.Headers.GetValues(TapPassHeaders.Classification).Should().Equal("RESTRICTED");
        response.Headers.GetValues(TapPassHeaders.PipelineId).Should().Equal("pl_test");
    }

    [Fact]
    public async Task Chat_BreakGlass_Returns503WithRetryAfter()
    {
        using var response = await Post(Wire.Chat("HALT"));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.BreakGlassActive);
        response.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThan(60);
    }

    [Fact]
    public async Task Chat_MissingKey_Returns401WithoutCallingTheEngine()
    {
        using var response = await Post(Wire.Chat("hi"), key: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.Unauthorized);
        response.Headers.WwwAuthenticate.Should().NotBeEmpty();
        _host.Transport.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_InvalidKey_Returns401FromTheEngine()
    {
        using var response = await Post(Wire.Chat("hi"), key: "tp_wrong");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.Unauthorized);
    }

    [Fact]
    public async Task Chat_XApiKeyHeader_IsAccepted()
    {
        using var response = await Post(Wire.Chat("hi"), key: null, edit: r => r.Headers.Add("x-api-key", FakeAdmin.AgentKey));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _host.Transport.Calls.Single().Call.ApiKey.Should().Be(FakeAdmin.AgentKey);
    }

    [Theory]
    [InlineData(TapPassHeaders.SessionId)]
    [InlineData(TapPassHeaders.SessionIdAlias)]
    [InlineData(TapPassHeaders.SessionIdAlias2)]
    public async Task Chat_SessionHeaderAliases_ReachTheEngine(string header)
    {
        using var response = await Post(Wire.Chat("hi"), edit: r => r.Headers.Add(header, "ses_abc"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _host.Transport.Calls.Single().Call.SessionId.Should().Be("ses_abc");
    }

    [Fact]
    public async Task Chat_ProtocolHeaders_ArePassedToTheEngine()
    {
        using var response = await Post(Wire.Chat("hi"), edit: r =>
        {
            r.Headers.Add(TapPassHeaders.FlagsAlias, "pii=mask");
            r.Headers.Add(TapPassHeaders.AgentUuid, "uuid-a");
            r.Headers.Add(TapPassHeaders.TaskId, "tsk_1");
            r.Headers.Add(TapPassHeaders.ResumeToken, "rt_1");
            r.Headers.Add(TapPassHeaders.SandboxTier, "worker");
            r.Headers.Add(TapPassHeaders.IdempotencyKey, "idem-1");
            r.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var call = _host.Transport.Calls.Single().Call;
        call.Flags.Should().Be("pii=mask");
        call.AgentUuid.Should().Be("uuid-a");
        call.TaskId.Should().Be("tsk_1");
        call.ResumeToken.Should().Be("rt_1");
        call.SandboxTier.Should().Be("worker");
        call.IdempotencyKey.Should().Be("idem-1");
        call.TraceParent.Should().Contain("0af7651916cd43dd8448eb211c80319c");
    }

    [Fact]
    public async Task Chat_InvalidIdempotencyKey_Returns400WithParam()
    {
        using var response = await Post(Wire.Chat("hi"), edit: r => r.Headers.TryAddWithoutValidation(TapPassHeaders.IdempotencyKey, new string('k', 300)));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Wire.ErrorOf(response)).Param.Should().Be(TapPassHeaders.IdempotencyKey);
        _host.Transport.Calls.Should().BeEmpty();
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("", null)]
    [InlineData("[1,2]", null)]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}", "temperature")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"10\"}", "max_tokens")]
    [InlineData("{\"messages\":\"hello\"}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":42}]}", "messages[0].content")]
    [InlineData("{\"messages\":[]}", "messages")]
    [InlineData("{\"model\":\"x\"}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":7}", "temperature")]
    public async Task Chat_BadInput_Returns400InvalidRequestWithParam(string body, string? param)
    {
        using var response = await Post(body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = await Wire.ErrorOf(response);
        error.Type.Should().Be(ErrorTypes.InvalidRequest);
        if (param is not null)
        {
            error.Param.Should().StartWith(param);
        }

        _host.Transport.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_UnknownFields_ArePassedThrough()
    {
        using var response = await Post("""{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":7,"logit_bias":{"1":2}}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var request = (ChatCompletionRequest)_host.Transport.Calls.Single().Body!;
        request.AdditionalProperties!.Keys.Should().BeEquivalentTo("seed", "logit_bias");
    }

    [Fact]
    public async Task Chat_BodyOver5MiB_Returns413WithoutCallingTheEngine()
    {
        var big = Wire.Chat(new string('a', 5 * 1024 * 1024 + 10));

        using var response = await Post(big);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.InvalidRequest);
        _host.Transport.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_ChunkedBodyOverLimit_Returns413WhileReading()
    {
        // No Content-Length: the limit must be enforced while reading.
        var request = _host.Request(HttpMethod.Post, "/v1/chat/completions");
        request.Content = new StreamContent(new EndlessStream());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await _host.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        _host.Transport.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_EngineThrows_Returns500EnvelopeWithoutDetails()
    {
        using var response = await Post(Wire.Chat("CRASH"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain("secret internal detail").And.NotContain("InvalidOperationException");
        JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("type").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Stream_SendsChunksThenUsageThenDone()
    {
        using var response = await Post(Wire.Chat("hi", stream: true));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        response.Headers.GetValues(TapPassHeaders.SessionId).Should().Equal("ses_test");
        var data = await Wire.SseData(response);
        data[^1].Should().Be("[DONE]");
        var chunks = data.SkipLast(1).Select(d => JsonSerializer.Deserialize(d, TapPassJsonContext.Default.ChatCompletionChunk)!).ToList();
        string.Concat(chunks.Where(c => c.Choices is { Count: > 0 }).Select(c => c.Choices![0].Delta.Content)).Should().Be("Hello");
        chunks[^1].Choices.Should().BeEmpty();
        chunks[^1].Usage!.TotalTokens.Should().Be(5);
        chunks[^1].Tappass!.SessionId.Should().Be("ses_test");
    }

    [Fact]
    public async Task Stream_RawFraming_IsDataLinesSeparatedByBlankLines()
    {
        using var response = await Post(Wire.Chat("hi", stream: true));
        var raw = await response.Content.ReadAsStringAsync();

        raw.Should().StartWith("data: {").And.EndWith("data: [DONE]\n\n");
        raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(e => e.StartsWith("data: ") && !e.Contains('\n'));
    }

    [Fact]
    public async Task Stream_InputBlock_IsAnOrdinaryHttpError()
    {
        using var response = await Post(Wire.Chat("BLOCK", stream: true));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.PolicyBlock);
        response.Headers.GetValues(TapPassHeaders.PipelineId).Should().Equal("pl_test");
    }

    [Fact]
    public async Task Stream_MidStreamBlock_SendsErrorEventThenDoneAndNothingAfter()
    {
        using var response = await Post(Wire.Chat("MIDBLOCK", stream: true));
        var data = await Wire.SseData(response);

        data[^1].Should().Be("[DONE]");
        var error = JsonDocument.Parse(data[^2]).RootElement;
        error.EnumerateObject().Select(p => p.Name).Should().Equal("error");
        error.GetProperty("error").GetProperty("type").GetString().Should().Be(ErrorTypes.PolicyBlock);
        string.Join("", data).Should().NotContain("NEVER SENT");
    }

    [Fact]
    public async Task Stream_EngineFailsMidStream_SendsGenericErrorEventThenDone()
    {
        using var response = await Post(Wire.Chat("THROW", stream: true));
        var data = await Wire.SseData(response);

        data[^1].Should().Be("[DONE]");
        data[^2].Should().Contain("\"error\"").And.NotContain("internal detail");
    }

    [Fact]
    public async Task Chat_WrongMethod_Returns405Envelope()
    {
        using var response = await _host.Client.SendAsync(_host.Request(HttpMethod.Get, "/v1/chat/completions"));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Contain("POST");
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.InvalidRequest);
    }

    [Fact]
    public async Task UnknownV1Route_Returns404Envelope()
    {
        using var response = await _host.Client.SendAsync(_host.Request(HttpMethod.Post, "/v1/embeddings", "{}"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.NotFound);
    }

    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)' ', offset, count);
            return count;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
