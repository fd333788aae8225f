using System.Net;
using System.Text.Json;
using TapPass.Governance.Providers;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Providers;

public sealed class OpenAiModelProviderTests
{
    private readonly FakeOpenAiHandler _handler = new();

    private OpenAiModelProvider Create(TimeSpan? timeout = null) => new(
        new OpenAiProviderOptions
        {
            BaseUrl = new Uri("http://upstream.test/v1/"),
            ApiKey = "sk-upstream",
            Models = new Dictionary<string, string> { ["gpt-4o-mini"] = "llama3.1:8b" },
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
            MaxRetries = 0,
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
}
