using System.Net;
using System.Text;
using System.Text.Json;
using TapPass.Governance.Providers;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Providers;

public sealed class OpenAiModelProviderTests
{
    private readonly FakeOpenAiHandler _handler = new();

    private OpenAiModelProvider Create(TimeSpan? timeout = null, int maxRetries = 0, long maxResponseBytes = 16L * 1024 * 1024) => new(
        new OpenAiProviderOptions
        {
            BaseUrl = new Uri("http://upstream.test/v1/"),
            ApiKey = "sk-upstream",
            Models = new Dictionary<string, string> { ["gpt-4o-mini"] = "llama3.1:8b" },
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
            MaxRetries = maxRetries,
            MaxResponseBytes = maxResponseBytes,
            RetryDelay = TimeSpan.FromMilliseconds(1),
        },
        TimeProvider.System,
        new HttpClient(_handler));

    private static ProviderRequest Request(string model = "gpt-4o-mini") => new()
    {
        Model = model,
        Messages =
        [
            ChatCompletionMessage.Create("system", "be brief"),
            ChatCompletionMessage.Create("user", "hi"),
            new ChatCompletionMessage
            {
                Role = "assistant",
                ToolCalls = [new ToolCall { Id = "call_0", Function = new FunctionCall { Name = "lookup", Arguments = "{\"q\":\"a\"}" } }],
            },
            new ChatCompletionMessage { Role = "tool", ToolCallId = "call_0", Content = "result" },
        ],
        Temperature = 0.25,
        MaxTokens = 64,
        Tools = [new ToolDefinition { Function = new FunctionDefinition { Name = "lookup", Description = "Looks up", Parameters = JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string"}}}""").RootElement } }],
        ToolChoice = JsonDocument.Parse("\"auto\"").RootElement,
        ResponseFormat = JsonDocument.Parse("""{"type":"json_object"}""").RootElement,
        AdditionalProperties = new Dictionary<string, JsonElement> { ["seed"] = JsonDocument.Parse("42").RootElement },
    };

    [Fact]
    public async Task Complete_MapsRequestAndResponse()
    {
        var provider = Create();

        var result = await provider.CompleteAsync(Request(), CancellationToken.None);

        result.Content.Should().Be("Hello there");
        result.Model.Should().Be("upstream-model");
        result.FinishReason.Should().Be("tool_calls");
        result.PromptTokens.Should().Be(11);
        result.CompletionTokens.Should().Be(7);
        result.ToolCalls.Should().ContainSingle().Which.Function.Arguments.Should().Be("{\"q\":\"x\"}");

        var (uri, auth, body) = _handler.Requests.Single();
        uri.ToString().Should().Be("http://upstream.test/v1/chat/completions");
        auth.Should().Be("Bearer sk-upstream");
        var root = body.RootElement;
        root.GetProperty("model").GetString().Should().Be("llama3.1:8b");
        root.GetProperty("messages").GetArrayLength().Should().Be(4);
        root.GetProperty("messages")[2].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString().Should().Be("lookup");
        root.GetProperty("messages")[3].GetProperty("tool_call_id").GetString().Should().Be("call_0");
        root.GetProperty("temperature").GetDouble().Should().BeApproximately(0.25, 1e-6);
        root.GetProperty("max_completion_tokens").GetInt32().Should().Be(64);
        root.GetProperty("tools")[0].GetProperty("function").GetProperty("parameters").GetProperty("type").GetString().Should().Be("object");
        root.GetProperty("tool_choice").GetString().Should().Be("auto");
        root.GetProperty("response_format").GetProperty("type").GetString().Should().Be("json_object");
        root.GetProperty("seed").GetInt32().Should().Be(42);
    }

    [Fact]
    public async Task Complete_UnmappedModel_IsSentUnchanged()
    {
        await Create().CompleteAsync(Request("other-model"), CancellationToken.None);

        _handler.Requests.Single().Body.RootElement.GetProperty("model").GetString().Should().Be("other-model");
    }

    [Fact]
    public void Models_AreTheClientFacingNames()
    {
        Create().Models.Should().Equal("gpt-4o-mini");
        Create().Name.Should().Be("openai");
    }

    [Fact]
    public async Task Stream_YieldsTextToolCallDeltasFinishAndUsage()
    {
        var updates = new List<ProviderStreamUpdate>();
        await foreach (var u in Create().StreamAsync(Request(), CancellationToken.None))
        {
            updates.Add(u);
        }

        string.Concat(updates.Select(u => u.ContentDelta)).Should().Be("Hello");
        var toolDeltas = updates.Where(u => u.ToolCalls is not null).SelectMany(u => u.ToolCalls!).ToList();
        toolDeltas[0].Id.Should().Be("call_9");
        toolDeltas[0].Function!.Name.Should().Be("lookup");
        string.Concat(toolDeltas.Select(d => d.Function?.Arguments)).Should().Be("{\"q\":1}");
        updates.Should().Contain(u => u.FinishReason == "stop");
        updates.Should().Contain(u => u.PromptTokens == 5 && u.CompletionTokens == 2);
        _handler.Requests.Single().Body.RootElement.GetProperty("stream").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Complete_Upstream500_ThrowsProviderExceptionWithoutBody()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("""{"error":{"message":"secret prompt echo"}}""", HttpStatusCode.InternalServerError);

        var act = () => Create().CompleteAsync(Request(), CancellationToken.None);

        var ex = (await act.Should().ThrowAsync<ProviderException>()).Which;
        ex.IsTimeout.Should().BeFalse();
        ex.Provider.Should().Be("openai");
        ex.Message.Should().Contain("500").And.NotContain("secret prompt echo");
    }

    [Fact]
    public async Task Stream_Upstream500_ThrowsProviderException()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("{}", HttpStatusCode.BadGateway);

        var act = async () =>
        {
            await foreach (var _ in Create().StreamAsync(Request(), CancellationToken.None))
            {
            }
        };

        (await act.Should().ThrowAsync<ProviderException>()).Which.IsTimeout.Should().BeFalse();
    }

    [Fact]
    public async Task Complete_SlowUpstream_ThrowsTimeout()
    {
        _handler.Delay = TimeSpan.FromSeconds(30);

        var act = () => Create(TimeSpan.FromMilliseconds(200)).CompleteAsync(Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ProviderException>()).Which.IsTimeout.Should().BeTrue();
    }

    [Fact]
    public async Task Stream_SlowUpstream_ThrowsTimeout()
    {
        _handler.Delay = TimeSpan.FromSeconds(30);

        var act = async () =>
        {
            await foreach (var _ in Create(TimeSpan.FromMilliseconds(200)).StreamAsync(Request(), CancellationToken.None))
            {
            }
        };

        (await act.Should().ThrowAsync<ProviderException>()).Which.IsTimeout.Should().BeTrue();
    }

    [Fact]
    public async Task Complete_CallerCancels_ThrowsOperationCanceled()
    {
        _handler.Delay = TimeSpan.FromSeconds(30);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var act = () => Create().CompleteAsync(Request(), cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Complete_ConnectFailure_ThrowsProviderException()
    {
        _handler.Respond = _ => throw new HttpRequestException("connection refused");

        var act = () => Create().CompleteAsync(Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ProviderException>()).Which.IsTimeout.Should().BeFalse();
    }

    private static async Task<List<ProviderStreamUpdate>> Drain(IAsyncEnumerable<ProviderStreamUpdate> stream)
    {
        var updates = new List<ProviderStreamUpdate>();
        await foreach (var u in stream)
        {
            updates.Add(u);
        }

        return updates;
    }

    private static HttpResponseMessage Chunked(string contentType, params byte[][] parts) =>
        new(HttpStatusCode.OK) { Content = new StreamContent(new ScriptedStream(parts, failAtEnd: false)) { Headers = { { "Content-Type", contentType } } } };

    [Fact]
    public async Task Stream_Upstream500_NeverSurfacesTheErrorBody()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("""{"error":{"message":"secret prompt echo"}}""", HttpStatusCode.InternalServerError);

        var act = () => Drain(Create().StreamAsync(Request(), CancellationToken.None));

        var ex = (await act.Should().ThrowAsync<ProviderException>()).Which;
        ex.Message.Should().Contain("500");
        ex.ToString().Should().NotContain("secret prompt echo");
    }

    [Fact]
    public async Task Complete_Upstream500_ExceptionChainNeverCarriesTheBody()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("""{"error":{"message":"secret prompt echo"}}""", HttpStatusCode.BadRequest);

        var act = () => Create().CompleteAsync(Request(), CancellationToken.None);

        var ex = (await act.Should().ThrowAsync<ProviderException>()).Which;
        ex.Message.Should().Contain("400");
        ex.ToString().Should().NotContain("secret prompt echo");
    }

    [Fact]
    public async Task Complete_OversizeAnswerWithLength_IsRefused()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"secret-""" + new string('a', 4096) + "\"}}]}");

        var act = () => Create(maxResponseBytes: 1024).CompleteAsync(Request(), CancellationToken.None);

        var ex = (await act.Should().ThrowAsync<ProviderException>()).Which;
        ex.Message.Should().Contain("1024").And.NotContain("secret-");
        ex.IsTimeout.Should().BeFalse();
    }

    [Fact]
    public async Task Complete_OversizeAnswerWithoutLength_IsRefused()
    {
        var json = Encoding.UTF8.GetBytes("""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":" """ + new string('a', 8192) + "\"}}]}");
        _handler.Respond = _ => Chunked("application/json", json[..1000], json[1000..]);

        var act = () => Create(maxResponseBytes: 2048).CompleteAsync(Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ProviderException>()).Which.Message.Should().Contain("2048");
    }

    [Fact]
    public async Task Complete_AnswerJustUnderTheBound_IsRead()
    {
        var response = FakeOpenAiHandler.CompletionResponse();
        var length = (await response.Content.ReadAsByteArrayAsync()).Length;
        _handler.Respond = _ => FakeOpenAiHandler.CompletionResponse();

        var result = await Create(maxResponseBytes: length).CompleteAsync(Request(), CancellationToken.None);

        result.Content.Should().Be("Hello there");
    }

    [Fact]
    public async Task Stream_OversizeStream_IsRefusedAfterTheEventsWithinTheBound()
    {
        var evt = Encoding.UTF8.GetBytes("""data: {"choices":[{"index":0,"delta":{"content":"abcdefgh"}}]}""" + "\n\n");
        var parts = Enumerable.Repeat(evt, 100).ToArray();
        _handler.Respond = _ => Chunked("text/event-stream", parts);
        var updates = new List<ProviderStreamUpdate>();

        var act = async () =>
        {
            await foreach (var u in Create(maxResponseBytes: evt.Length * 10).StreamAsync(Request(), CancellationToken.None))
            {
                updates.Add(u);
            }
        };

        (await act.Should().ThrowAsync<ProviderException>()).Which.Message.Should().Contain((evt.Length * 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        updates.Count.Should().BeInRange(1, 10);
    }

    [Fact]
    public async Task Complete_TransientStatusThenSuccess_IsRetried()
    {
        _handler.Respond = _ => _handler.Calls == 1 ? FakeOpenAiHandler.Json("{}", HttpStatusCode.ServiceUnavailable) : FakeOpenAiHandler.CompletionResponse();

        var result = await Create(maxRetries: 2).CompleteAsync(Request(), CancellationToken.None);

        result.Content.Should().Be("Hello there");
        _handler.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Complete_AlwaysTransient_StopsAfterMaxRetries()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("{}", HttpStatusCode.TooManyRequests);

        var act = () => Create(maxRetries: 2).CompleteAsync(Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ProviderException>()).Which.Message.Should().Contain("429");
        _handler.Calls.Should().Be(3);
    }

    [Fact]
    public async Task Complete_ClientError_IsNotRetried()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("{}", HttpStatusCode.BadRequest);

        var act = () => Create(maxRetries: 2).CompleteAsync(Request(), CancellationToken.None);

        await act.Should().ThrowAsync<ProviderException>();
        _handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Complete_ConnectFailureThenSuccess_IsRetried()
    {
        _handler.Respond = _ => _handler.Calls == 1 ? throw new HttpRequestException("connection refused") : FakeOpenAiHandler.CompletionResponse();

        var result = await Create(maxRetries: 1).CompleteAsync(Request(), CancellationToken.None);

        result.FinishReason.Should().Be("tool_calls");
        _handler.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Stream_TransientStatusBeforeTheFirstByte_IsRetried()
    {
        _handler.Respond = _ => _handler.Calls == 1 ? FakeOpenAiHandler.Json("{}", HttpStatusCode.BadGateway) : FakeOpenAiHandler.StreamResponse();

        var updates = await Drain(Create(maxRetries: 1).StreamAsync(Request(), CancellationToken.None));

        string.Concat(updates.Select(u => u.ContentDelta)).Should().Be("Hello");
        _handler.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Stream_FailureAfterTheStreamStarted_IsNotRetried()
    {
        var first = Encoding.UTF8.GetBytes("""data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}""" + "\n\n");
        _handler.Respond = _ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new ScriptedStream([first], failAtEnd: true)) { Headers = { { "Content-Type", "text/event-stream" } } },
        };
        var updates = new List<ProviderStreamUpdate>();

        var act = async () =>
        {
            await foreach (var u in Create(maxRetries: 3).StreamAsync(Request(), CancellationToken.None))
            {
                updates.Add(u);
            }
        };

        (await act.Should().ThrowAsync<ProviderException>()).Which.IsTimeout.Should().BeFalse();
        updates.Should().ContainSingle().Which.ContentDelta.Should().Be("Hel");
        _handler.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Stream_UpstreamErrorEvent_ThrowsWithoutItsText()
    {
        _handler.Respond = _ => Chunked("text/event-stream", Encoding.UTF8.GetBytes("""data: {"error":{"type":"server_error","message":"secret prompt echo"}}""" + "\n\n"));

        var act = () => Drain(Create().StreamAsync(Request(), CancellationToken.None));

        (await act.Should().ThrowAsync<ProviderException>()).Which.ToString().Should().NotContain("secret prompt echo");
    }

    [Fact]
    public async Task Stream_MalformedEvent_ThrowsProviderException()
    {
        _handler.Respond = _ => Chunked("text/event-stream", Encoding.UTF8.GetBytes("data: {not json\n\n"));

        var act = () => Drain(Create().StreamAsync(Request(), CancellationToken.None));

        await act.Should().ThrowAsync<ProviderException>();
    }

    [Fact]
    public async Task Complete_NoChoices_ThrowsProviderException()
    {
        _handler.Respond = _ => FakeOpenAiHandler.Json("""{"id":"x","model":"m","choices":[]}""");

        var act = () => Create().CompleteAsync(Request(), CancellationToken.None);

        (await act.Should().ThrowAsync<ProviderException>()).Which.Message.Should().Contain("could not be read");
    }

    [Fact]
    public async Task Stream_RequestAsksForUsage_AndDropsReservedPassthroughFields()
    {
        var request = Request() with
        {
            AdditionalProperties = new Dictionary<string, JsonElement>
            {
                ["seed"] = JsonDocument.Parse("7").RootElement,
                ["model"] = JsonDocument.Parse("\"evil\"").RootElement,
                ["stream"] = JsonDocument.Parse("false").RootElement,
                ["bad-name"] = JsonDocument.Parse("1").RootElement,
            },
            ToolChoice = JsonDocument.Parse("""{"type":"function","function":{"name":"lookup"},"extra":1}""").RootElement,
        };

        await Drain(Create().StreamAsync(request, CancellationToken.None));

        var root = _handler.Requests.Single().Body.RootElement;
        root.GetProperty("model").GetString().Should().Be("llama3.1:8b");
        root.GetProperty("stream").GetBoolean().Should().BeTrue();
        root.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().Should().BeTrue();
        root.GetProperty("seed").GetInt32().Should().Be(7);
        root.TryGetProperty("bad-name", out _).Should().BeFalse();
        root.GetProperty("tool_choice").GetRawText().Should().Be("""{"type":"function","function":{"name":"lookup"}}""");
        root.EnumerateObject().Count(p => p.Name == "model").Should().Be(1);
        root.EnumerateObject().Count(p => p.Name == "stream").Should().Be(1);
    }

    [Fact]
    public async Task Complete_DoesNotSendStreamFields()
    {
        await Create().CompleteAsync(Request(), CancellationToken.None);

        var root = _handler.Requests.Single().Body.RootElement;
        root.TryGetProperty("stream", out _).Should().BeFalse();
        root.TryGetProperty("stream_options", out _).Should().BeFalse();
    }

    /// <summary>A non-seekable body (no Content-Length) that returns its parts one read at a time, then ends or fails.</summary>
    private sealed class ScriptedStream(byte[][] parts, bool failAtEnd) : Stream
    {
        private int _part;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_part >= parts.Length)
            {
                return failAtEnd ? throw new IOException("connection reset") : 0;
            }

            var source = parts[_part].AsSpan(_offset);
            var n = Math.Min(source.Length, buffer.Length);
            source[..n].CopyTo(buffer);
            _offset += n;
            if (_offset == parts[_part].Length)
            {
                _part++;
                _offset = 0;
            }

            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
