using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Core.Tests.Fakes;

/// <summary>An in-memory <see cref="ITapPassTransport"/> (embedded mode): answers with values, records calls.</summary>
public sealed class FakeTransport : ITapPassTransport
{
    public ConcurrentQueue<(TapPassCall Call, ChatCompletionRequest Request)> Calls { get; } = new();

    public Func<TapPassCall, ChatCompletionRequest, TapPassReply<ChatCompletionResponse>>? OnChat { get; set; }

    public string ApiVersion { get; set; } = "0.6.0";

    public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<HealthResponse>.Ok(new HealthResponse { Status = "healthy", ApiVersion = ApiVersion }));

    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue((call, request));
        return Task.FromResult(OnChat?.Invoke(call, request) ?? TapPassReply<ChatCompletionResponse>.Ok(Answer("embedded: " + request.Messages[^1].Content)));
    }

    public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue((call, request));
        return Task.FromResult(new TapPassStreamReply(200, TapPassReplyHeaders.Empty, Chunks("embedded: " + request.Messages[^1].Content), null));
    }

    public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<GovernResponse>.Ok(new GovernResponse { Outcome = GovernOutcomes.Allow }));

    public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<ExecutionReportResponse>.Ok(new ExecutionReportResponse { Recorded = true }));

    public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = "ses_embedded" }));

    public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = sessionId, Closed = true }));

    public static ChatCompletionResponse Answer(string content) => new()
    {
        Model = "embedded-model",
        Choices = [new ChatChoice { Message = ChatCompletionMessage.Create("assistant", content), FinishReason = "stop" }],
        Usage = new UsageInfo { PromptTokens = 1, CompletionTokens = 2, TotalTokens = 3 },
        Tappass = new TapPassMetadata { Classification = "CONFIDENTIAL", SessionId = "ses_embedded", PipelineUuid = "pl_embedded" },
    };

    private static async IAsyncEnumerable<ChatCompletionChunk> Chunks(string content, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var part in content.Chunk(5))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatCompletionChunk { Choices = [new ChunkChoice { Delta = new ChatDelta { Content = new string(part) } }] };
        }

        yield return new ChatCompletionChunk
        {
            Choices = [],
            Usage = new UsageInfo { TotalTokens = 3 },
            Tappass = new TapPassMetadata { Classification = "CONFIDENTIAL", SessionId = "ses_embedded" },
        };
    }
}
