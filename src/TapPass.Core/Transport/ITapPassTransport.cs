using TapPass.Protocol;

namespace TapPass.Transport;

/// <summary>
/// The wire contract of PROTOCOL.md as an interface: a call's headers and body in, a status, response headers and
/// either a body or an error envelope out. Governance decisions are values here, never exceptions; the agent maps
/// them. Implemented over HTTP by the SDK and in-process by the engine (embedded mode), so both behave identically.
/// Implementations throw only for transport failures (<see cref="TapPassConnectionException"/>) and cancellation.
/// </summary>
public interface ITapPassTransport
{
    /// <summary><c>GET /health</c>.</summary>
    Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken);

    /// <summary><c>POST /v1/chat/completions</c> without streaming.</summary>
    Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <c>POST /v1/chat/completions</c> with <c>stream: true</c>. Completes once input-side governance has decided:
    /// either an error reply (no stream) or a stream of chunks to enumerate.
    /// </summary>
    Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/govern</c>.</summary>
    Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/govern/execution</c>.</summary>
    Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/sessions</c>.</summary>
    Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken);

    /// <summary><c>DELETE /v1/sessions/{id}</c>.</summary>
    Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken);
}

/// <summary>The request headers of one call (PROTOCOL.md §2).</summary>
public sealed record TapPassCall
{
    /// <summary>API key (<c>tp_…</c>), sent as a bearer token. Never logged.</summary>
    public string? ApiKey { get; init; }

    /// <summary><c>X-TapPass-Flags</c> header value.</summary>
    public string? Flags { get; init; }

    /// <summary><c>X-TapPass-Session-Id</c>.</summary>
    public string? SessionId { get; init; }

    /// <summary><c>X-TapPass-Agent-Uuid</c>.</summary>
    public string? AgentUuid { get; init; }

    /// <summary><c>X-TapPass-Task-Id</c>.</summary>
    public string? TaskId { get; init; }

    /// <summary><c>X-TapPass-Resume-Token</c>.</summary>
    public string? ResumeToken { get; init; }

    /// <summary><c>X-TapPass-Sandbox-Tier</c>: the tier the calling process has locked itself to (it can only lower the key's tier).</summary>
    public string? SandboxTier { get; init; }

    /// <summary><c>Idempotency-Key</c>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>W3C <c>traceparent</c>.</summary>
    public string? TraceParent { get; init; }

    /// <summary>W3C <c>tracestate</c>.</summary>
    public string? TraceState { get; init; }
}

/// <summary>Response headers of a data-plane answer (PROTOCOL.md §2).</summary>
public sealed record TapPassReplyHeaders
{
    /// <summary>Empty headers.</summary>
    public static TapPassReplyHeaders Empty { get; } = new();

    /// <summary><c>X-TapPass-Session-Id</c>.</summary>
    public string? SessionId { get; init; }

    /// <summary><c>X-TapPass-Agent-Uuid</c>.</summary>
    public string? AgentUuid { get; init; }

    /// <summary><c>X-TapPass-Classification</c>.</summary>
    public string? Classification { get; init; }

    /// <summary><c>X-TapPass-Pipeline-Id</c>.</summary>
    public string? PipelineId { get; init; }

    /// <summary><c>Retry-After</c>.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>An answer: status and headers, and either <see cref="Value"/> (2xx) or <see cref="Error"/>.</summary>
/// <typeparam name="T">Body type of a success.</typeparam>
public sealed class TapPassReply<T>
    where T : class
{
    /// <summary>HTTP status code (or its in-process equivalent).</summary>
    public required int StatusCode { get; init; }

    /// <summary>Body of a success.</summary>
    public T? Value { get; init; }

    /// <summary>Body of a failure.</summary>
    public ErrorBody? Error { get; init; }

    /// <summary>Response headers.</summary>
    public TapPassReplyHeaders Headers { get; init; } = TapPassReplyHeaders.Empty;

    /// <summary>True for a 2xx answer with a body.</summary>
    public bool IsSuccess => Error is null && Value is not null && StatusCode is >= 200 and < 300;

    /// <summary>A success.</summary>
    public static TapPassReply<T> Ok(T value, TapPassReplyHeaders? headers = null, int statusCode = 200) =>
        new() { StatusCode = statusCode, Value = value, Headers = headers ?? TapPassReplyHeaders.Empty };

    /// <summary>A failure.</summary>
    public static TapPassReply<T> Fail(int statusCode, ErrorBody error, TapPassReplyHeaders? headers = null) =>
        new() { StatusCode = statusCode, Error = error, Headers = headers ?? TapPassReplyHeaders.Empty };
}

/// <summary>
/// The answer to a streaming chat call: an error before the stream started, or a stream of chunks. A mid-stream
/// governance error arrives as a chunk whose <see cref="ChatCompletionChunk.Error"/> is set; the stream ends after it.
/// Dispose to release the underlying connection if the stream is not enumerated to its end.
/// </summary>
public sealed class TapPassStreamReply : IAsyncDisposable
{
    private readonly Func<ValueTask>? _dispose;

    /// <summary>Creates a reply.</summary>
    /// <param name="statusCode">Status code.</param>
    /// <param name="headers">Response headers.</param>
    /// <param name="chunks">The stream, when the call was accepted.</param>
    /// <param name="error">The error, when it was not.</param>
    /// <param name="dispose">Releases the underlying resources.</param>
    public TapPassStreamReply(int statusCode, TapPassReplyHeaders headers, IAsyncEnumerable<ChatCompletionChunk>? chunks, ErrorBody? error, Func<ValueTask>? dispose = null)
    {
        StatusCode = statusCode;
        Headers = headers;
        Chunks = chunks;
        Error = error;
        _dispose = dispose;
    }

    /// <summary>Status code.</summary>
    public int StatusCode { get; }

    /// <summary>Response headers.</summary>
    public TapPassReplyHeaders Headers { get; }

    /// <summary>The chunks (until <c>[DONE]</c>), or null when <see cref="Error"/> is set.</summary>
    public IAsyncEnumerable<ChatCompletionChunk>? Chunks { get; }

    /// <summary>Error before the stream started.</summary>
    public ErrorBody? Error { get; }

    /// <summary>An error reply.</summary>
    public static TapPassStreamReply Fail(int statusCode, ErrorBody error, TapPassReplyHeaders? headers = null) =>
        new(statusCode, headers ?? TapPassReplyHeaders.Empty, null, error);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dispose?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>Header names of the TapPass protocol (PROTOCOL.md §2).</summary>
public static class TapPassHeaders
{
    /// <summary>Governance flags.</summary>
    public const string Flags = "X-TapPass-Flags";
    /// <summary>Alias of <see cref="Flags"/>.</summary>
    public const string FlagsAlias = "X-Governance-Flags";
    /// <summary>Session id.</summary>
    public const string SessionId = "X-TapPass-Session-Id";
    /// <summary>Alias of <see cref="SessionId"/>.</summary>
    public const string SessionIdAlias = "X-TapPass-Session";
    /// <summary>Alias of <see cref="SessionId"/>.</summary>
    public const string SessionIdAlias2 = "X-Session-Id";
    /// <summary>Agent uuid.</summary>
    public const string AgentUuid = "X-TapPass-Agent-Uuid";
    /// <summary>Task id.</summary>
    public const string TaskId = "X-TapPass-Task-Id";
    /// <summary>Resume token.</summary>
    public const string ResumeToken = "X-TapPass-Resume-Token";
    /// <summary>Sandbox tier of the calling process.</summary>
    public const string SandboxTier = "X-TapPass-Sandbox-Tier";
    /// <summary>Classification of the request.</summary>
    public const string Classification = "X-TapPass-Classification";
    /// <summary>Pipeline run id.</summary>
    public const string PipelineId = "X-TapPass-Pipeline-Id";
    /// <summary>Idempotency key.</summary>
    public const string IdempotencyKey = "Idempotency-Key";
}
