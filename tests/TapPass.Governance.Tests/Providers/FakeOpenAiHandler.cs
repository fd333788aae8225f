using System.Net;
using System.Text;
using System.Text.Json;

namespace TapPass.Governance.Tests.Providers;

/// <summary>A tiny OpenAI-compatible chat-completions server as an HttpMessageHandler.</summary>
internal sealed class FakeOpenAiHandler : HttpMessageHandler
{
    public List<(Uri Uri, string? Authorization, JsonDocument Body)> Requests { get; } = [];

    public Func<JsonDocument, HttpResponseMessage>? Respond { get; set; }

    public TimeSpan Delay { get; set; }

    public int Calls { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Calls++;
        var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
        Requests.Add((request.RequestUri!, request.Headers.Authorization?.ToString(), body));
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        if (Respond is not null)
        {
            return Respond(body);
        }

        return body.RootElement.TryGetProperty("stream", out var s) && s.GetBoolean() ? StreamResponse() : CompletionResponse();
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage CompletionResponse() => Json("""
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"upstream-model",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there",
            "tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},
            "finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}
        """);

    public static HttpResponseMessage StreamResponse()
    {
        string[] chunks =
        [
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"}}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"lookup","arguments":""}}]}}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":1}"}}]}}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""",
        ];
        var sse = new StringBuilder();
        foreach (var chunk in chunks)
        {
            sse.Append("data: ").Append(chunk).Append("\n\n");
        }

        sse.Append("data: [DONE]\n\n");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(sse.ToString(), Encoding.UTF8, "text/event-stream") };
    }
}
