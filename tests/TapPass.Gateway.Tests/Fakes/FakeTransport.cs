using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Fakes;

/// <summary>
/// A hand-written engine: keys <c>tp_good</c> and <c>tp_admin</c> are valid; the last message's text selects the
/// outcome (BLOCK → policy_block, HALT → break_glass_active, CRASH → throws, MIDBLOCK/THROW → stream failures).
/// </summary>
internal sealed class FakeTransport : ITapPassTransport
{
    public static readonly TapPassReplyHeaders Headers = new()
    {
        SessionId = "ses_test",
        AgentUuid = "2f1c7a52-0000-4000-8000-000000000001",
        Classification = "PUBLIC",
        PipelineId = "pl_test",
    };

    public ConcurrentQueue<(string Operation, TapPassCall Call, object? Body)> Calls { get; } = new();

    /// <summary>When set, streams answer with these chunks instead of the scripted ones.</summary>
    public Func<IAsyncEnumerable<ChatCompletionChunk>>? StreamOverride { get; set; }

    public DateTimeOffset BreakGlassExpiresAt { get; set; } = DateTimeOffset.UnixEpoch.AddYears(60);

    public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<HealthResponse>.Ok(new HealthResponse { Status = "healthy", ApiVersion = "0.6.0" }));

    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("chat", call, request));
        if (Deny<ChatCompletionResponse>(call, request) is { } denied)
        {
            return Task.FromResult(denied);
        }

        var text = request.Messages[^1].Content ?? "";
        return Task.FromResult(TapPassReply<ChatCompletionResponse>.Ok(new ChatCompletionResponse
        {
            Id = "chatcmpl-test",
            Created = 1_700_000_000,
            Model = request.Model ?? "gpt-4o-mini",
            Choices = [new ChatChoice { Message = ChatCompletionMessage.Create("assistant", "echo: " + text), FinishReason = "stop" }],
            Usage = new UsageInfo { PromptTokens = 3, CompletionTokens = 2, TotalTokens = 5 },
            Tappass = new TapPassMetadata { SessionId = "ses_test", PipelineUuid = "pl_test", Flags = new() { ["mode"] = "enforce" } },
        }, Headers));
    }

    public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("stream", call, request));
        if (Deny<ChatCompletionResponse>(call, request) is { } denied)
        {
            return Task.FromResult(TapPassStreamReply.Fail(denied.StatusCode, denied.Error!, denied.Headers));
        }

        var text = request.Messages[^1].Content ?? "";
        return Task.FromResult(new TapPassStreamReply(200, Headers, StreamOverride?.Invoke() ?? Chunks(text, cancellationToken), null));
    }

    private static async IAsyncEnumerable<ChatCompletionChunk> Chunks(string text, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ChatCompletionChunk Delta(string? role, string? content, string? finish = null) => new()
        {
            Id = "chatcmpl-s",
            Object = "chat.completion.chunk",
            Created = 1_700_000_000,
            Model = "gpt-4o-mini",
            Choices = [new ChunkChoice { Delta = new ChatDelta { Role = role, Content = content }, FinishReason = finish }],
        };

        yield return Delta("assistant", "");
        await Task.Yield();
        yield return Delta(null, "Hel");
        yield return Delta(null, "lo");
        cancellationToken.ThrowIfCancellationRequested();
        if (text.Contains("MIDBLOCK", StringComparison.Ordinal))
        {
            yield return new ChatCompletionChunk { Error = new ErrorBody { Type = ErrorTypes.PolicyBlock, Message = "Output blocked by detect_pii", BlockedBy = "detect_pii" } };
            yield return Delta(null, "NEVER SENT");
            yield break;
        }

        if (text.Contains("THROW", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("internal detail that must not leak");
        }

        yield return Delta(null, null, "stop");
        yield return new ChatCompletionChunk
        {
            Id = "chatcmpl-s",
            Object = "chat.completion.chunk",
            Created = 1_700_000_000,
            Model = "gpt-4o-mini",
            Choices = [],
            Usage = new UsageInfo { PromptTokens = 3, CompletionTokens = 2, TotalTokens = 5 },
            Tappass = new TapPassMetadata { SessionId = "ses_test" },
        };
    }

    private TapPassReply<T>? Deny<T>(TapPassCall call, ChatCompletionRequest request)
        where T : class
    {
        if (call.ApiKey is not ("tp_good" or "tp_admin"))
        {
            return TapPassReply<T>.Fail(401, new ErrorBody { Type = ErrorTypes.Unauthorized, Message = "Invalid API key." });
        }

        var text = request.Messages[^1].Content ?? "";
        if (text.Contains("CRASH", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("secret internal detail");
        }

        if (text.Contains("MIDBLOCK", StringComparison.Ordinal) || text.Contains("THROW", StringComparison.Ordinal))
        {
            return null;
        }

        if (text.Contains("BLOCK", StringComparison.Ordinal))
        {
            return TapPassReply<T>.Fail(403, new ErrorBody
            {
                Type = ErrorTypes.PolicyBlock,
                Message = "Request blocked by detect_pii: PII detected in prompt",
                BlockedBy = "detect_pii",
                Reason = "PII detected in prompt: EMAIL",
                Classification = "RESTRICTED",
                SessionId = "ses_test",
                PipelineUuid = "pl_test",
            }, Headers with { Classification = "RESTRICTED" });
        }

        if (text.Contains("HALT", StringComparison.Ordinal))
        {
            return TapPassReply<T>.Fail(503, new ErrorBody
            {
                Type = ErrorTypes.BreakGlassActive,
                Message = "Break-glass halt is active.",
                Level = "halt",
                ExpiresAt = BreakGlassExpiresAt,
            }, Headers);
        }

        return null;
    }

    public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("govern", call, request));
        var outcome = request.Payload.Tool.StartsWith("delete", StringComparison.Ordinal) ? GovernOutcomes.Block : GovernOutcomes.Allow;
        return Task.FromResult(TapPassReply<GovernResponse>.Ok(new GovernResponse { Outcome = outcome, PipelineUuid = "pl_g", CapabilityToken = "jws" }, Headers));
    }

    public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("execution", call, report));
        return Task.FromResult(TapPassReply<ExecutionReportResponse>.Ok(new ExecutionReportResponse { Recorded = true, EventId = "ae_1" }, Headers));
    }

    public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("open", call, request));
        return Task.FromResult(TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = "ses_new", AgentUuid = Headers.AgentUuid }, Headers with { SessionId = "ses_new" }, 201));
    }

    public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        Calls.Enqueue(("close", call, sessionId));
        return Task.FromResult(sessionId == "ses_known"
            ? TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = sessionId, Closed = true }, Headers with { SessionId = sessionId })
            : TapPassReply<SessionResponse>.Fail(403, new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "Not your session." }));
    }
}
