using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TapPass.Configuration;
using TapPass.Diagnostics;
using TapPass.Protocol;

namespace TapPass.Transport;

/// <summary>
/// <see cref="ITapPassTransport"/> over HTTP (PROTOCOL.md): JSON through the source-generated
/// <see cref="TapPassJsonContext"/>, server-sent events for streams, and a <c>Polly.Core</c> pipeline with a total
/// timeout and jittered exponential retries for transient failures only (connect errors, timeouts, 502/503/504 that
/// are not break-glass). Governance decisions come back as error values, never retried. Every POST carries an
/// <c>Idempotency-Key</c> that stays the same across the retries of one call. Bodies read are bounded (5 MiB for
/// JSON). Transport failures surface as <see cref="TapPassConnectionException"/> naming the URL, never the key.
/// </summary>
/// <remarks>
/// Works with a typed client from <c>IHttpClientFactory</c>. Set the client's <see cref="HttpClient.Timeout"/> to
/// <see cref="Timeout.InfiniteTimeSpan"/> (or longer than <see cref="TapPassAgentOptions.Timeout"/>): this transport
/// enforces its own timeouts; a shorter client timeout acts as a per-attempt timeout.
/// </remarks>
public sealed class HttpTapPassTransport : ITapPassTransport
{
    /// <summary>Largest JSON body read from the gateway (and largest request body sent): 5 MiB.</summary>
    public const int MaxBodyBytes = 5 * 1024 * 1024;

    /// <summary>Largest server-sent-event stream read: 64 MiB.</summary>
    public const long MaxStreamBytes = 64L * 1024 * 1024;

    private const int MaxHeaderValueLength = 8 * 1024;
    private const int MaxReplyHeaderLength = 256;
    private const string ChatPath = "v1/chat/completions";
    private const string UserAgent = "tappass-dotnet/0.6";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptEventStream = new("text/event-stream");

    private readonly HttpClient _http;
    private readonly Uri _baseAddress;
    private readonly TimeSpan _timeout;
    private readonly long _maxStreamBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpAttempt> _pipeline;

    /// <summary>Creates a transport for the gateway at <paramref name="baseAddress"/>.</summary>
    /// <param name="httpClient">The client to send with (not disposed by the transport).</param>
    /// <param name="baseAddress">Gateway root URL, e.g. <c>http://localhost:9620</c>.</param>
    /// <param name="options">Timeouts and retries (<see cref="TapPassAgentOptions.Timeout"/>, <see cref="TapPassAgentOptions.AttemptTimeout"/>, <see cref="TapPassAgentOptions.MaxRetries"/>); defaults when null.</param>
    /// <param name="timeProvider">Clock for timeouts and backoff; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <exception cref="ArgumentException"><paramref name="baseAddress"/> is not an absolute http(s) URL without credentials.</exception>
    /// <exception cref="TapPassConfigException">An option is out of range.</exception>
    public HttpTapPassTransport(HttpClient httpClient, Uri baseAddress, TapPassAgentOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : this(httpClient, baseAddress, ToSettings(options), timeProvider, loggerFactory)
    {
    }

    internal HttpTapPassTransport(HttpClient httpClient, Uri baseAddress, TransportSettings settings, TimeProvider? timeProvider, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(settings);
        if (!ResolvedAgentOptions.TryParseBaseUrl(baseAddress.OriginalString, out var parsed, out var problem))
        {
            throw new ArgumentException($"The gateway URL {problem}.", nameof(baseAddress));
        }

        _http = httpClient;
        _baseAddress = parsed!;
        _timeout = settings.Timeout;
        _maxStreamBytes = settings.MaxStreamBytes;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<HttpTapPassTransport>() ?? NullLogger.Instance;
        _pipeline = BuildPipeline(settings, _time, _logger);
    }

    /// <summary>The gateway root URL (with a trailing slash).</summary>
    public Uri BaseAddress => _baseAddress;

    /// <inheritdoc />
    public async Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken)
    {
        var attempt = await SendAsync(HttpMethod.Get, "health", null, null, stream: false, cancellationToken).ConfigureAwait(false);
        return ToReply(attempt, TapPassJsonContext.Default.HealthResponse);
    }

    /// <inheritdoc />
    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        return PostAsync(ChatPath, call, request, TapPassJsonContext.Default.ChatCompletionRequest, TapPassJsonContext.Default.ChatCompletionResponse, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Sets <see cref="ChatCompletionRequest.Stream"/> to true. Retried only until the gateway answers with a status, never once the stream has started.</remarks>
    public async Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        request.Stream = true;
        var body = JsonSerializer.SerializeToUtf8Bytes(request, TapPassJsonContext.Default.ChatCompletionRequest);
        if (body.Length > MaxBodyBytes)
        {
            return TapPassStreamReply.Fail(413, RequestTooLarge());
        }

        var attempt = await SendAsync(HttpMethod.Post, ChatPath, call, body, stream: true, cancellationToken).ConfigureAwait(false);
        if (attempt.LiveResponse is not { } response)
        {
            return TapPassStreamReply.Fail(attempt.StatusCode, attempt.Error ?? InvalidResponse("The gateway accepted the stream without a body."), attempt.Headers);
        }

        var url = new Uri(_baseAddress, ChatPath);
        return new TapPassStreamReply(
            attempt.StatusCode,
            attempt.Headers,
            ReadEventsAsync(response, url, CancellationToken.None),
            null,
            () =>
            {
                response.Dispose();
                return ValueTask.CompletedTask;
            });
    }

    /// <inheritdoc />
    public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        return PostAsync("v1/govern", call, request, TapPassJsonContext.Default.GovernRequest, TapPassJsonContext.Default.GovernResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(report);
        return PostAsync("v1/govern/execution", call, report, TapPassJsonContext.Default.ExecutionReport, TapPassJsonContext.Default.ExecutionReportResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        return PostAsync("v1/sessions", call, request, TapPassJsonContext.Default.SessionCreateRequest, TapPassJsonContext.Default.SessionResponse, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!TapPassSession.IsWellFormedId(sessionId))
        {
            throw new ArgumentException("Session id must be 1-128 characters of [A-Za-z0-9_-].", nameof(sessionId));
        }

        var attempt = await SendAsync(HttpMethod.Delete, "v1/sessions/" + sessionId, call, null, stream: false, cancellationToken).ConfigureAwait(false);
        return ToReply(attempt, TapPassJsonContext.Default.SessionResponse);
    }

    private async Task<TapPassReply<TResponse>> PostAsync<TRequest, TResponse>(
        string path,
        TapPassCall call,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        CancellationToken cancellationToken)
        where TResponse : class
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        if (body.Length > MaxBodyBytes)
        {
            return TapPassReply<TResponse>.Fail(413, RequestTooLarge());
        }

        var attempt = await SendAsync(HttpMethod.Post, path, call, body, stream: false, cancellationToken).ConfigureAwait(false);
        return ToReply(attempt, responseType);
    }

    private static TapPassReply<T> ToReply<T>(HttpAttempt attempt, JsonTypeInfo<T> type)
        where T : class
    {
        if (attempt.Error is { } error)
        {
            return TapPassReply<T>.Fail(attempt.StatusCode, error, attempt.Headers);
        }

        if (attempt.Body is not { } body)
        {
            return TapPassReply<T>.Fail(attempt.StatusCode, InvalidResponse($"The gateway's answer exceeded {MaxBodyBytes / (1024 * 1024)} MiB."), attempt.Headers);
        }

        try
        {
            var value = JsonSerializer.Deserialize(body, type);
            return value is null
                ? TapPassReply<T>.Fail(attempt.StatusCode, InvalidResponse("The gateway answered with an empty body."), attempt.Headers)
                : TapPassReply<T>.Ok(value, attempt.Headers, attempt.StatusCode);
        }
        catch (JsonException)
        {
            return TapPassReply<T>.Fail(attempt.StatusCode, InvalidResponse("The gateway's answer is not valid JSON for this endpoint."), attempt.Headers);
        }
    }

    /// <summary>Sends one logical call through the resilience pipeline.</summary>
    private async Task<HttpAttempt> SendAsync(HttpMethod method, string path, TapPassCall? call, byte[]? body, bool stream, CancellationToken cancellationToken)
    {
        var url = new Uri(_baseAddress, path);
        var headers = BuildHeaders(method, call);
        var state = new AttemptState(this, method, url, headers, body, stream);
        var context = ResilienceContextPool.Shared.Get(method.Method + " /" + path, cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(static (ctx, s) => s.Transport.AttemptAsync(s, ctx.CancellationToken), context, state).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            throw Unreachable(url, path, $"did not answer within {FormatTimeout(_timeout)}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            throw Unreachable(url, path, ex is OperationCanceledException ? "timed out" : ex.Message, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private TapPassConnectionException Unreachable(Uri url, string operation, string reason, Exception inner)
    {
        var exception = new TapPassConnectionException($"TapPass gateway unreachable at {url}: {reason}.", _baseAddress.ToString(), inner);
        Log.GatewayUnreachable(_logger, inner, url.ToString(), operation);
        return exception;
    }

    /// <summary>One HTTP attempt: sends, reads a bounded body or the error envelope; for an accepted stream, stops at the headers.</summary>
    private async ValueTask<HttpAttempt> AttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(state.Method, state.Url);
        foreach (var (name, value) in state.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.Accept.Add(state.Stream ? AcceptEventStream : AcceptJson);
        if (state.Body is not null)
        {
            request.Content = new ByteArrayContent(state.Body);
            request.Content.Headers.ContentType = JsonContentType;
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var status = (int)response.StatusCode;
            var headers = ReadHeaders(response);
            if (status is >= 200 and < 300)
            {
                if (state.Stream)
                {
                    var mediaType = response.Content.Headers.ContentType?.MediaType;
                    if (!string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
                    {
                        return HttpAttempt.Failure(status, headers, InvalidResponse($"The gateway answered a stream request with '{Bounded(mediaType) ?? "no content type"}' instead of text/event-stream."));
                    }

                    var live = HttpAttempt.Stream(status, headers, response);
                    response = null; // ownership moves to the caller
                    return live;
                }

                return HttpAttempt.Success(status, headers, await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false));
            }

            var errorBody = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
            return HttpAttempt.Failure(status, headers, ParseError(status, errorBody));
        }
        finally
        {
            response?.Dispose();
        }
    }

    private List<KeyValuePair<string, string>> BuildHeaders(HttpMethod method, TapPassCall? call)
    {
        var headers = new List<KeyValuePair<string, string>>(10) { new("User-Agent", UserAgent) };
        if (call is not null)
        {
            if (!string.IsNullOrEmpty(call.ApiKey))
            {
                CheckHeaderValue("Authorization", call.ApiKey);
                headers.Add(new("Authorization", "Bearer " + call.ApiKey));
            }

            Add(headers, TapPassHeaders.Flags, call.Flags);
            Add(headers, TapPassHeaders.SessionId, call.SessionId);
            Add(headers, TapPassHeaders.AgentUuid, call.AgentUuid);
            Add(headers, TapPassHeaders.TaskId, call.TaskId);
            Add(headers, TapPassHeaders.ResumeToken, call.ResumeToken);
            Add(headers, TapPassHeaders.SandboxTier, call.SandboxTier);
            Add(headers, "traceparent", call.TraceParent);
            Add(headers, "tracestate", call.TraceState);
        }

        if (method == HttpMethod.Post)
        {
            // One key per logical call, reused by every retry of it.
            var key = string.IsNullOrEmpty(call?.IdempotencyKey) ? Guid.NewGuid().ToString("D") : call.IdempotencyKey;
            Add(headers, TapPassHeaders.IdempotencyKey, key);
        }

        return headers;

        static void Add(List<KeyValuePair<string, string>> headers, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                CheckHeaderValue(name, value);
                headers.Add(new(name, value));
            }
        }
    }

    /// <summary>Rejects values that would break the header block; never echoes the value (it may be a key).</summary>
    private static void CheckHeaderValue(string name, string value)
    {
        if (value.Length > MaxHeaderValueLength)
        {
            throw new ArgumentException($"The {name} header value is longer than {MaxHeaderValueLength} characters.");
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException($"The {name} header value contains control or non-ASCII characters.");
            }
        }
    }

    private TapPassReplyHeaders ReadHeaders(HttpResponseMessage response)
    {
        TimeSpan? retryAfter = null;
        if (response.Headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta)
            {
                retryAfter = delta;
            }
            else if (ra.Date is { } date)
            {
                var wait = date - _time.GetUtcNow();
                retryAfter = wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }

            if (retryAfter > TimeSpan.FromDays(1))
            {
                retryAfter = TimeSpan.FromDays(1);
            }
        }

        return new TapPassReplyHeaders
        {
            SessionId = Header(response, TapPassHeaders.SessionId),
            AgentUuid = Header(response, TapPassHeaders.AgentUuid),
            Classification = Header(response, TapPassHeaders.Classification),
            PipelineId = Header(response, TapPassHeaders.PipelineId),
            RetryAfter = retryAfter,
        };

        static string? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) ? Bounded(values.FirstOrDefault()?.Trim()) : null;
    }

    private static string? Bounded(string? value) =>
        string.IsNullOrEmpty(value) || value.Length > MaxReplyHeaderLength ? null : value;

    /// <summary>Reads a body of at most <see cref="MaxBodyBytes"/>; null when it is larger.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is > MaxBodyBytes)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>
    /// The error of a non-2xx answer: the gateway's envelope when there is one, else an error synthesised from the
    /// status (a proxy's HTML 502/503/504 becomes <c>unavailable</c>). Never includes the raw body.
    /// </summary>
    internal static ErrorBody ParseError(int status, byte[]? body)
    {
        ErrorBody? parsed = null;
        if (body is { Length: > 0 })
        {
            try
            {
                parsed = JsonSerializer.Deserialize(body, TapPassJsonContext.Default.ErrorEnvelope)?.Error;
            }
            catch (JsonException)
            {
                parsed = null;
            }
        }

        var synthesized = status switch
        {
            502 or 503 or 504 => ErrorTypes.Unavailable,
            400 or 413 => ErrorTypes.InvalidRequest,
            401 => ErrorTypes.Unauthorized,
            404 => ErrorTypes.NotFound,
            _ => ErrorTypes.HttpError,
        };

        if (parsed is null)
        {
            return new ErrorBody
            {
                Type = synthesized,
                Message = body is null
                    ? $"The TapPass gateway answered {status} with a body larger than {MaxBodyBytes / (1024 * 1024)} MiB."
                    : $"The TapPass gateway answered {status} without a TapPass error envelope.",
            };
        }

        if (string.IsNullOrWhiteSpace(parsed.Type))
        {
            parsed.Type = synthesized;
        }

        if (string.IsNullOrWhiteSpace(parsed.Message))
        {
            parsed.Message = $"The TapPass gateway answered {status} ({parsed.Type}).";
        }

        return parsed;
    }

    private static ErrorBody InvalidResponse(string message) => new() { Type = ErrorTypes.InvalidResponse, Message = message };

    private static ErrorBody RequestTooLarge() => new()
    {
        Type = ErrorTypes.InvalidRequest,
        Message = $"The request body exceeds {MaxBodyBytes / (1024 * 1024)} MiB; it was not sent.",
        Param = "messages",
    };

    /// <summary>
    /// Reads server-sent events until <c>[DONE]</c>. A mid-stream error event, a malformed event or an oversize
    /// stream ends the sequence with one chunk whose <see cref="ChatCompletionChunk.Error"/> is set. A stream that
    /// stops before <c>[DONE]</c>, or is silent for longer than the timeout, is a <see cref="TapPassConnectionException"/>.
    /// </summary>
    private async IAsyncEnumerable<ChatCompletionChunk> ReadEventsAsync(HttpResponseMessage response, Uri url, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The idle timer runs only while waiting for the gateway, never while the consumer holds an event.
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token);
        idle.CancelAfter(_timeout);

        ChatCompletionChunk? terminal = null;
        var body = await Guard(response.Content.ReadAsStreamAsync(linked.Token)).ConfigureAwait(false);
        var bounded = new BoundedReadStream(body, _maxStreamBytes);
        await using (bounded.ConfigureAwait(false))
        {
            var parser = SseParser.Create(bounded, static (_, data) => SseEvent.Parse(data));
            var events = parser.EnumerateAsync(linked.Token).GetAsyncEnumerator(linked.Token);
            await using (events.ConfigureAwait(false))
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        idle.CancelAfter(_timeout);
                        more = await Guard(events.MoveNextAsync().AsTask()).ConfigureAwait(false);
                        idle.CancelAfter(Timeout.InfiniteTimeSpan);
                    }
                    catch (StreamTooLargeException)
                    {
                        terminal = new ChatCompletionChunk { Error = InvalidResponse($"The stream exceeded {_maxStreamBytes.ToString(CultureInfo.InvariantCulture)} bytes.") };
                        break;
                    }

                    if (!more)
                    {
                        throw Unreachable(url, ChatPath, "the stream ended before [DONE]", new IOException("Unexpected end of the event stream."));
                    }

                    var item = events.Current.Data;
                    if (item.Done)
                    {
                        yield break;
                    }

                    if (item.Chunk is null)
                    {
                        terminal = new ChatCompletionChunk { Error = InvalidResponse("The gateway sent a malformed stream event.") };
                        break;
                    }

                    yield return item.Chunk;
                    if (item.Chunk.Error is not null)
                    {
                        yield break;
                    }
                }
            }
        }

        if (terminal is not null)
        {
            yield return terminal;
        }

        async Task<T> Guard<T>(Task<T> task)
        {
            try
            {
                return await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex) when (idle.IsCancellationRequested)
            {
                throw Unreachable(url, ChatPath, $"no stream event within {FormatTimeout(_timeout)}", ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or (IOException and not StreamTooLargeException))
            {
                throw Unreachable(url, ChatPath, "the stream was interrupted: " + ex.Message, ex);
            }
        }
    }

    private static string FormatTimeout(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1
            ? timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s"
            : timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    private static TransportSettings ToSettings(TapPassAgentOptions? options)
    {
        if (options is null)
        {
            return new TransportSettings();
        }

        var resolved = ResolvedAgentOptions.Resolve(options, static _ => null, urlRequired: false);
        return new TransportSettings { Timeout = resolved.Timeout, AttemptTimeout = resolved.AttemptTimeout, MaxRetries = resolved.MaxRetries };
    }

    private static ResiliencePipeline<HttpAttempt> BuildPipeline(TransportSettings settings, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<HttpAttempt> { TimeProvider = time };
        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = settings.Timeout });
        if (settings.MaxRetries > 0)
        {
            var random = settings.Random ?? Random.Shared.NextDouble;
            builder.AddRetry(new RetryStrategyOptions<HttpAttempt>
            {
                MaxRetryAttempts = settings.MaxRetries,
                ShouldHandle = static args => ValueTask.FromResult(TapPassRetryPolicy.IsTransient(args.Outcome, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    TapPassRetryPolicy.Backoff(args.AttemptNumber, random(), args.Outcome.Result?.Headers.RetryAfter)),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception is { } ex ? ex.GetType().Name : "status " + args.Outcome.Result!.StatusCode.ToString(CultureInfo.InvariantCulture);
                    var operation = args.Context.OperationKey ?? "request";
                    var space = operation.IndexOf(' ', StringComparison.Ordinal);
                    Log.RetryScheduled(logger, space > 0 ? operation[..space] : operation, space > 0 ? operation[(space + 1)..] : "", args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, reason);
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (settings.AttemptTimeout is { } attemptTimeout)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = attemptTimeout });
        }

        return builder.Build();
    }

    private sealed record AttemptState(HttpTapPassTransport Transport, HttpMethod Method, Uri Url, List<KeyValuePair<string, string>> Headers, byte[]? Body, bool Stream);

    /// <summary>One parsed server-sent event.</summary>
    private readonly record struct SseEvent(bool Done, ChatCompletionChunk? Chunk)
    {
        public static SseEvent Parse(ReadOnlySpan<byte> data)
        {
            var trimmed = data.Trim(" \t\r\n"u8);
            if (trimmed.SequenceEqual("[DONE]"u8))
            {
                return new SseEvent(true, null);
            }

            try
            {
                return new SseEvent(false, JsonSerializer.Deserialize(trimmed, TapPassJsonContext.Default.ChatCompletionChunk));
            }
            catch (JsonException)
            {
                return new SseEvent(false, null);
            }
        }
    }
}

/// <summary>Timeouts and retries of <see cref="HttpTapPassTransport"/>.</summary>
internal sealed record TransportSettings
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan? AttemptTimeout { get; init; }

    public int MaxRetries { get; init; } = 2;

    /// <summary>Largest event stream read; <see cref="HttpTapPassTransport.MaxStreamBytes"/> by default. Tests lower it.</summary>
    public long MaxStreamBytes { get; init; } = HttpTapPassTransport.MaxStreamBytes;

    /// <summary>Jitter source, uniform in [0, 1); <see cref="Random.Shared"/> when null. Tests pin it.</summary>
    public Func<double>? Random { get; init; }
}
