using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Configuration;
using TapPass.Diagnostics;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass;

/// <summary>
/// A governed AI agent talking to a TapPass gateway over HTTP (or in process, through an
/// <see cref="ITapPassTransport"/>). Every call goes through the gateway's governance pipeline; refusals surface as
/// <see cref="GovernanceDecision"/> exceptions, never retried. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Configuration: explicit <see cref="TapPassAgentOptions"/> values win over the <c>TAPPASS_URL</c>,
/// <c>TAPPASS_API_KEY</c>, <c>TAPPASS_FLAGS</c> and <c>TAPPASS_MODEL</c> environment variables, which win over the
/// defaults. Invalid configuration throws <see cref="TapPassConfigException"/> from the constructor.
/// </para>
/// <para>
/// History: each call sends the history as it was when the call started, followed by its message. When the call
/// succeeds, its user message (as sent) and the assistant's answer (as the gateway returned it, i.e. masked) are
/// appended together, atomically; a call that throws (a decision, a transport failure, cancellation, or a
/// <see cref="RedactionAppliedException"/>/<see cref="BreakGlassActiveException"/> raised by option) leaves the history
/// unchanged. Concurrent calls never corrupt it: each appends its own pair in completion order. A call still in flight
/// when <see cref="Reset"/> is called does not add its pair. The oldest pairs are dropped beyond
/// <see cref="TapPassAgentOptions.MaxHistoryMessages"/>. A stream appends its pair once it has been read to the end.
/// </para>
/// <para>
/// Sessions: ids come from the per-call <see cref="TapPassChatOptions"/> first, then the ambient
/// <see cref="TapPassSession.Current"/>, then <see cref="TapPassAgentOptions.AgentUuid"/>; ids the gateway returns are
/// recorded on <see cref="TapPassSession.Current"/>.
/// </para>
/// </remarks>
public sealed partial class TapPassAgent : ITapPassAgent
{
    private const int MaxResumeTokenLength = 2048;
    private const int MaxTools = 128;
    private const int MaxToolApprovals = 128; // held tool calls kept from one answer
    private const string ChatOperation = "chat";
    private const string StreamOperation = "stream";
    private static readonly Version MinimumApiVersion = new(0, 6, 0);

    private readonly ResolvedAgentOptions _options;
    private readonly ITapPassTransport _transport;
    private readonly GatewayVerificationCache _verifiedGateways;
    private readonly HttpClient? _ownedHttpClient;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _gatewayLabel;
    private readonly Lock _historyLock = new();
    private readonly List<ChatCompletionMessage> _history = [];
    private readonly Lock _versionLock = new();
    private readonly CancellationTokenSource _lifetime = new();
    private long _historyGeneration;
    private Task? _versionCheck;
    private int _disposed;

    /// <summary>Creates an agent that talks HTTP to the gateway configured in <paramref name="options"/> (or <c>TAPPASS_URL</c>).</summary>
    /// <param name="options">Options; unset values fall back to the environment.</param>
    /// <exception cref="TapPassConfigException">The configuration is invalid; <see cref="TapPassConfigException.Setting"/> names the setting.</exception>
    public TapPassAgent(TapPassAgentOptions options)
        : this(options, environment: null, httpClient: null, transport: null, loggerFactory: null, timeProvider: null)
    {
    }

    /// <summary>Creates an agent for the gateway at <paramref name="url"/> with <paramref name="apiKey"/>.</summary>
    /// <param name="url">Gateway URL, e.g. <c>https://tappass.example.com</c>.</param>
    /// <param name="apiKey">Agent API key (<c>tp_…</c>).</param>
    /// <exception cref="TapPassConfigException">The URL or key is invalid.</exception>
    public TapPassAgent(string url, string apiKey)
        : this(new TapPassAgentOptions { Url = url, ApiKey = apiKey })
    {
    }

    /// <summary>Creates an agent with its own HTTP client, logging and clock.</summary>
    /// <param name="options">Options; unset values fall back to the environment.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts and backoff; the system clock when null.</param>
    /// <exception cref="TapPassConfigException">The configuration is invalid.</exception>
    public TapPassAgent(TapPassAgentOptions options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider = null)
        : this(options, environment: null, httpClient: null, transport: null, loggerFactory, timeProvider)
    {
    }

    /// <summary>
    /// Creates an agent that sends through <paramref name="httpClient"/> (for example a typed client from
    /// <c>IHttpClientFactory</c>). The client is not disposed by the agent. When neither the options nor
    /// <c>TAPPASS_URL</c> give a URL, the client's <see cref="HttpClient.BaseAddress"/> is used.
    /// </summary>
    /// <param name="options">Options; unset values fall back to the environment.</param>
    /// <param name="httpClient">The client.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts and backoff; the system clock when null.</param>
    /// <exception cref="TapPassConfigException">The configuration is invalid.</exception>
    public TapPassAgent(TapPassAgentOptions options, HttpClient httpClient, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(options, environment: null, httpClient ?? throw new ArgumentNullException(nameof(httpClient)), transport: null, loggerFactory, timeProvider)
    {
    }

    /// <summary>
    /// Creates an agent over <paramref name="transport"/>, for example the engine's in-process transport (embedded
    /// mode: no URL needed, same semantics).
    /// </summary>
    /// <param name="options">Options; unset values fall back to the environment.</param>
    /// <param name="transport">The transport.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock; the system clock when null.</param>
    /// <exception cref="TapPassConfigException">The configuration is invalid.</exception>
    public TapPassAgent(TapPassAgentOptions options, ITapPassTransport transport, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(options, environment: null, httpClient: null, transport ?? throw new ArgumentNullException(nameof(transport)), loggerFactory, timeProvider)
    {
    }

    /// <summary>The constructor behind the public ones; tests inject the environment and the jitter source.</summary>
    internal TapPassAgent(
        TapPassAgentOptions options,
        Func<string, string?>? environment,
        HttpClient? httpClient,
        ITapPassTransport? transport,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        Func<double>? jitter = null,
        GatewayVerificationCache? verifiedGateways = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _verifiedGateways = verifiedGateways ?? GatewayVerificationCache.Shared;
        _options = ResolvedAgentOptions.Resolve(
            options,
            environment ?? ResolvedAgentOptions.ProcessEnvironment,
            urlRequired: transport is null,
            fallbackBaseUrl: httpClient?.BaseAddress);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<TapPassAgent>() ?? NullLogger.Instance;

        if (transport is not null)
        {
            _transport = transport;
            _gatewayLabel = _options.BaseUrl?.ToString() ?? "embedded";
            return;
        }

        var baseUrl = _options.BaseUrl!;
        if (httpClient is null)
        {
            _ownedHttpClient = CreateHttpClient(_options);
            httpClient = _ownedHttpClient;
        }

        var settings = new TransportSettings
        {
            Timeout = _options.Timeout,
            AttemptTimeout = _options.AttemptTimeout,
            MaxRetries = _options.MaxRetries,
            Random = jitter,
        };
        _transport = new HttpTapPassTransport(httpClient, baseUrl, settings, _time, loggerFactory);
        _gatewayLabel = baseUrl.ToString();
    }

    /// <inheritdoc />
    public string Model => _options.Model;

    /// <summary>The gateway's base URL, or null in embedded mode.</summary>
    public Uri? GatewayUrl => _options.BaseUrl;

    /// <summary>The default flags every call sends (merged under per-call flags).</summary>
    public GovernanceFlags DefaultFlags => _options.Flags;

    /// <inheritdoc />
    /// <remarks>A copy: changing it does not change the agent's history.</remarks>
    public IReadOnlyList<ChatCompletionMessage> History
    {
        get
        {
            lock (_historyLock)
            {
                return _history.Select(Clone).ToArray();
            }
        }
    }

    /// <inheritdoc />
    public async Task<ChatResponse> ChatAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        var spec = Describe(options);
        return await ChatCoreAsync(Prepare(message, spec, stream: false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a prepared (non-streamed) call and maps the answer; appends to the history unless the call is stateless.</summary>
    private async Task<ChatResponse> ChatCoreAsync(PreparedCall prepared, CancellationToken cancellationToken)
    {
        using var activity = StartActivity(TapPassDiagnostics.ChatActivity, prepared);
        var started = _time.GetTimestamp();
        Log.CallStarting(_logger, ChatOperation, prepared.Request.Model ?? "", prepared.Call.SessionId);
        try
        {
            await EnsureGatewayVersionAsync(cancellationToken).ConfigureAwait(false);
            var call = WithTraceContext(prepared.Call);
            var reply = await _transport.ChatAsync(call, prepared.Request, cancellationToken).ConfigureAwait(false);
            if (!reply.IsSuccess)
            {
                throw Refusal(ChatOperation, reply.StatusCode, reply.Error, reply.Headers, activity);
            }

            var response = MapResponse(reply.Value!, reply.Headers, prepared.Flags);
            AnswerDecisions.ObserveAmbient(response.SessionId, response.AgentUuid, response.AuditUrl, response.TaskId);
            RaiseIfConfigured(ChatOperation, response, activity);
            AppendHistory(prepared, response.Content);
            Complete(ChatOperation, activity, response, started);
            return response;
        }
        catch (Exception ex) when (RecordFailure(ChatOperation, activity, ex))
        {
            throw; // not reached: RecordFailure only observes
        }
    }

    /// <inheritdoc />
    /// <remarks>Runs <see cref="ChatAsync"/> on the thread pool, so blocking on it under a single-threaded <see cref="SynchronizationContext"/> cannot deadlock.</remarks>
    public ChatResponse Chat(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        return SyncBridge.Run(
            static s => new ValueTask<ChatResponse>(s.Agent.ChatAsync(s.Message, s.Options, s.Token)),
            (Agent: this, Message: message, Options: options, Token: cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Nothing is sent until the stream is enumerated. Per-call options are validated (and copied) now; the ambient
    /// session and the history are read when enumeration starts. The stream is retried only before it starts.
    /// </remarks>
    public ChatStream StreamAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        var spec = Describe(options);
        return new ChatStream((complete, token) => StreamCoreAsync(() => Prepare(message, spec, stream: true), complete, token), cancellationToken);
    }

    /// <inheritdoc />
    public ChatStreamSync Stream(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) =>
        new(StreamAsync(message, options, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public void Reset()
    {
        lock (_historyLock)
        {
            _history.Clear();
            _historyGeneration++;
        }
    }

    /// <summary>Disposes the HTTP client if the agent created it. Calls after disposal throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _lifetime.Cancel();
        _ownedHttpClient?.Dispose();
    }

    /// <inheritdoc cref="Dispose" />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Streams a call prepared when enumeration starts (so the ambient session and the history are read then).</summary>
    private async IAsyncEnumerable<string> StreamCoreAsync(Func<PreparedCall> prepare, Action<ChatResponse> complete, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var prepared = prepare();
        using var activity = StartActivity(TapPassDiagnostics.StreamActivity, prepared);
        var started = _time.GetTimestamp();
        Log.CallStarting(_logger, StreamOperation, prepared.Request.Model ?? "", prepared.Call.SessionId);

        TapPassStreamReply reply;
        try
        {
            await EnsureGatewayVersionAsync(cancellationToken).ConfigureAwait(false);
            reply = await _transport.StreamChatAsync(WithTraceContext(prepared.Call), prepared.Request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RecordFailure(StreamOperation, activity, ex))
        {
            throw; // not reached
        }

        await using (reply.ConfigureAwait(false))
        {
            if (reply.Error is not null || reply.Chunks is null)
            {
                throw Refusal(StreamOperation, reply.StatusCode, reply.Error, reply.Headers, activity);
            }

            var accumulator = new StreamAccumulator();
            var chunks = reply.Chunks.GetAsyncEnumerator(cancellationToken);
            await using (chunks.ConfigureAwait(false))
            {
                while (true)
                {
                    ChatCompletionChunk chunk;
                    try
                    {
                        if (!await chunks.MoveNextAsync().ConfigureAwait(false))
                        {
                            break;
                        }

                        chunk = chunks.Current;
                    }
                    catch (Exception ex) when (RecordFailure(StreamOperation, activity, ex))
                    {
                        throw; // not reached
                    }

                    if (chunk.Error is { } error)
                    {
                        throw Refusal(StreamOperation, DefaultStatus(error.Type), error, reply.Headers, activity);
                    }

                    var text = accumulator.Add(chunk);
                    if (text.Length > 0)
                    {
                        yield return text;
                    }
                }
            }

            var response = accumulator.ToResponse(reply.Headers, prepared.Flags, prepared.Request.Model ?? "");
            AnswerDecisions.ObserveAmbient(response.SessionId, response.AgentUuid, response.AuditUrl, response.TaskId);
            complete(response);
            RaiseIfConfigured(StreamOperation, response, activity);
            AppendHistory(prepared, response.Content);
            Complete(StreamOperation, activity, response, started);
        }
    }

    /// <summary>Validates and copies per-call options (eagerly, so argument errors surface at the call).</summary>
    private CallSpec Describe(TapPassChatOptions? options)
    {
        var model = string.IsNullOrWhiteSpace(options?.Model) ? _options.Model : options.Model.Trim();
        if (!ResolvedAgentOptions.IsValidModel(model))
        {
            throw new ArgumentException("The model must be 1-256 printable characters.", nameof(options));
        }

        var flags = options is { Flags.Count: > 0 } ? _options.Flags.Merge(GovernanceFlags.From(options.Flags)) : _options.Flags;
        if (options is null)
        {
            return new CallSpec(model, flags, null, null, null, null, null, null, null);
        }

        if (options.SessionId is not null && !TapPassSession.IsWellFormedId(options.SessionId))
        {
            throw new ArgumentException("SessionId must be 1-128 characters of [A-Za-z0-9_-].", nameof(options));
        }

        if (options.AgentUuid is not null && !TapPassSession.IsWellFormedAgentUuid(options.AgentUuid))
        {
            throw new ArgumentException("AgentUuid must be a UUID (36 characters, hyphenated).", nameof(options));
        }

        if (options.TaskId is not null && !TapPassSession.IsWellFormedId(options.TaskId))
        {
            throw new ArgumentException("TaskId must be 1-128 characters of [A-Za-z0-9_-].", nameof(options));
        }

        if (options.ResumeToken is { } token &&
            (token.Length is 0 or > MaxResumeTokenLength || token.Any(c => c is < '!' or > '~')))
        {
            throw new ArgumentException($"ResumeToken must be 1-{MaxResumeTokenLength} printable ASCII characters.", nameof(options));
        }

        if (options.MaxTokens is <= 0)
        {
            throw new ArgumentException("MaxTokens must be positive.", nameof(options));
        }

        if (options.Temperature is { } t && (!double.IsFinite(t) || t < 0))
        {
            throw new ArgumentException("Temperature must be a finite, non-negative number.", nameof(options));
        }

        if (options.Tools is { Count: > MaxTools })
        {
            throw new ArgumentException($"At most {MaxTools} tools per call.", nameof(options));
        }

        return new CallSpec(
            model,
            flags,
            options.SessionId,
            options.AgentUuid,
            options.TaskId,
            options.ResumeToken,
            options.Temperature,
            options.MaxTokens,
            options.Tools?.ToList());
    }

    /// <summary>Reads the ambient session, snapshots the history and builds the request and its headers.</summary>
    private PreparedCall Prepare(string message, CallSpec spec, bool stream)
    {
        var session = TapPassSession.Current;
        var user = ChatCompletionMessage.Create("user", message);
        long generation;
        var messages = new List<ChatCompletionMessage>();
        lock (_historyLock)
        {
            generation = _historyGeneration;
            messages.Capacity = _history.Count + 1;
            messages.AddRange(_history.Select(Clone));
        }

        messages.Add(Clone(user));
        var request = new ChatCompletionRequest
        {
            Model = spec.Model,
            Messages = messages,
            Temperature = spec.Temperature,
            MaxTokens = spec.MaxTokens,
            Tools = spec.Tools,
        };
        if (stream)
        {
            request.Stream = true;
            request.StreamOptions = new StreamOptions { IncludeUsage = true };
        }

        var call = BuildCall(spec.Flags, spec.SessionId, spec.AgentUuid, spec.TaskId, spec.ResumeToken, session);
        return new PreparedCall(request, call, spec.Flags, user, generation);
    }

    /// <summary>
    /// The headers of one call: the agent's key, <paramref name="flags"/> (already merged over the agent's defaults),
    /// and ids from explicit values first, then <paramref name="session"/>, then <see cref="TapPassAgentOptions.AgentUuid"/>.
    /// </summary>
    private TapPassCall BuildCall(GovernanceFlags flags, string? sessionId, string? agentUuid, string? taskId, string? resumeToken, TapPassSession? session) => new()
    {
        ApiKey = _options.ApiKey,
        Flags = flags.Count > 0 ? flags.ToHeaderValue() : null,
        SessionId = sessionId ?? session?.SessionId,
        AgentUuid = agentUuid ?? session?.AgentUuid ?? _options.AgentUuid,
        TaskId = taskId ?? session?.TaskId,
        ResumeToken = resumeToken,
        SandboxTier = ProcessSandboxTier.Current,
        IdempotencyKey = Guid.NewGuid().ToString("D"),
    };

    private static TapPassCall WithTraceContext(TapPassCall call) =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current
            ? call with { TraceParent = current.Id, TraceState = current.TraceStateString }
            : call;

    private static Activity? StartActivity(string name, PreparedCall prepared)
    {
        var activity = TapPassDiagnostics.ActivitySource.StartActivity(name, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TapPassDiagnostics.ModelTag, prepared.Request.Model);
            activity.SetTag(TapPassDiagnostics.SessionIdTag, prepared.Call.SessionId);
            activity.SetTag(TapPassDiagnostics.AgentUuidTag, prepared.Call.AgentUuid);
        }

        return activity;
    }

    private void Complete(string operation, Activity? activity, ChatResponse response, long started)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TapPassDiagnostics.SessionIdTag, response.SessionId);
            activity.SetTag(TapPassDiagnostics.AgentUuidTag, response.AgentUuid);
            activity.SetTag(TapPassDiagnostics.PipelineUuidTag, response.PipelineUuid);
            activity.SetTag(TapPassDiagnostics.ClassificationTag, response.Pipeline.Classification.ToWire());
            activity.SetTag(TapPassDiagnostics.BlockedTag, response.Pipeline.Blocked);
            activity.SetStatus(ActivityStatusCode.Ok);
        }

        Log.CallCompleted(_logger, operation, _time.GetElapsedTime(started).TotalMilliseconds, response.Pipeline.Classification.ToWire(), response.PipelineUuid);
    }

    /// <summary>Maps an error answer to its exception, records the returned ids, logs the decision and tags the span.</summary>
    private TapPassException Refusal(string operation, int statusCode, ErrorBody? error, TapPassReplyHeaders headers, Activity? activity)
    {
        error ??= new ErrorBody
        {
            Type = statusCode is 502 or 503 or 504 ? ErrorTypes.Unavailable : ErrorTypes.HttpError,
            Message = $"The TapPass gateway answered {statusCode} without an error.",
        };
        AnswerDecisions.ObserveAmbient(error.SessionId ?? headers.SessionId, error.AgentUuid ?? headers.AgentUuid, error.AuditUrl, error.TaskId);
        var exception = TapPassException.FromError(statusCode, error, headers.RetryAfter, _gatewayLabel);
        var decision = exception as GovernanceDecision;
        if (decision is not null)
        {
            Log.DecisionReceived(_logger, operation, error.Type, statusCode, error.BlockedBy, error.PipelineUuid ?? headers.PipelineId);
        }
        else
        {
            Log.CallFailed(_logger, operation, error.Type, statusCode);
        }

        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TapPassDiagnostics.ErrorTypeTag, error.Type);
            activity.SetTag(TapPassDiagnostics.BlockedTag, decision is not null);
            activity.SetTag(TapPassDiagnostics.SessionIdTag, error.SessionId ?? headers.SessionId);
            activity.SetTag(TapPassDiagnostics.AgentUuidTag, error.AgentUuid ?? headers.AgentUuid);
            activity.SetTag(TapPassDiagnostics.PipelineUuidTag, error.PipelineUuid ?? headers.PipelineId);
            if (ClassificationNames.TryParse(error.Classification ?? headers.Classification, out var classification))
            {
                activity.SetTag(TapPassDiagnostics.ClassificationTag, classification.ToWire());
            }

            activity.SetStatus(ActivityStatusCode.Error, error.Type);
        }

        return exception;
    }

    /// <summary>Exception filter: records a failure on the span and in the log, and never catches.</summary>
    private bool RecordFailure(string operation, Activity? activity, Exception exception)
    {
        switch (exception)
        {
            case OperationCanceledException:
                Log.CallCancelled(_logger, operation);
                activity?.SetStatus(ActivityStatusCode.Error, "cancelled");
                break;
            case TapPassException tapPass:
                // Refusals were logged when they were mapped; connection failures by the transport.
                if (activity is { IsAllDataRequested: true } && activity.Status != ActivityStatusCode.Error)
                {
                    activity.SetTag(TapPassDiagnostics.ErrorTypeTag, tapPass.ErrorType ?? tapPass.GetType().Name);
                    activity.SetStatus(ActivityStatusCode.Error, tapPass.ErrorType ?? tapPass.GetType().Name);
                }

                break;
            default:
                Log.CallFailed(_logger, operation, exception.GetType().Name, null);
                activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
                break;
        }

        return false;
    }

    private void RaiseIfConfigured(string operation, ChatResponse response, Activity? activity)
    {
        if (AnswerDecisions.Raised(response, _options.RespectBreakGlass, _options.RaiseOnRedaction, "gateway") is not { } decision)
        {
            return;
        }

        if (decision is BreakGlassActiveException breakGlass)
        {
            Log.BreakGlassRaised(_logger, operation, breakGlass.Level);
        }
        else
        {
            Log.RedactionRaised(_logger, operation, response.Pipeline.Redactions.Count);
        }

        activity?.SetStatus(ActivityStatusCode.Error, decision.ErrorType);
        throw decision;
    }

    private void AppendHistory(PreparedCall prepared, string assistantContent)
    {
        var max = _options.MaxHistoryMessages;
        if (max == 0 || prepared.UserMessage is null)
        {
            return; // no history kept, or a stateless call (the IChatClient view)
        }

        lock (_historyLock)
        {
            if (prepared.HistoryGeneration != _historyGeneration)
            {
                return; // Reset() ran while this call was in flight.
            }

            _history.Add(prepared.UserMessage);
            _history.Add(ChatCompletionMessage.Create("assistant", assistantContent));
            var excess = _history.Count - max;
            if (excess > 0)
            {
                _history.RemoveRange(0, Math.Min(_history.Count, excess + (excess % 2)));
            }
        }
    }

    private Task EnsureGatewayVersionAsync(CancellationToken cancellationToken)
    {
        if (!_options.VerifyGatewayVersion || IsGatewayVerified())
        {
            return Task.CompletedTask;
        }

        Task check;
        lock (_versionLock)
        {
            // Only a success is cached: a failed check (unreachable, too old) runs again on the next call.
            if (_versionCheck is null || _versionCheck.IsFaulted || _versionCheck.IsCanceled)
            {
                _versionCheck = VerifyGatewayVersionAsync(_lifetime.Token);
            }

            check = _versionCheck;
        }

        return check.IsCompletedSuccessfully ? check : check.WaitAsync(cancellationToken);
    }

    private async Task VerifyGatewayVersionAsync(CancellationToken cancellationToken)
    {
        var reply = await _transport.GetHealthAsync(cancellationToken).ConfigureAwait(false);
        if (!reply.IsSuccess)
        {
            var error = reply.Error;
            if (reply.StatusCode is 502 or 503 or 504 || error?.Type == ErrorTypes.Unavailable)
            {
                throw new TapPassConnectionException($"TapPass gateway at {_gatewayLabel} is unavailable (GET /health answered {reply.StatusCode}).", _gatewayLabel)
                {
                    StatusCode = reply.StatusCode,
                    ErrorType = error?.Type ?? ErrorTypes.Unavailable,
                };
            }

            if (reply.StatusCode == 404)
            {
                throw new TapPassConfigException($"{_gatewayLabel} has no GET /health endpoint: is it a TapPass gateway? (Set VerifyGatewayVersion = false to skip this check.)", nameof(TapPassAgentOptions.Url));
            }

            throw TapPassException.FromError(reply.StatusCode, error ?? new ErrorBody { Type = ErrorTypes.HttpError, Message = $"GET /health answered {reply.StatusCode}." }, reply.Headers.RetryAfter, _gatewayLabel);
        }

        var health = reply.Value!;
        var reported = string.IsNullOrWhiteSpace(health.ApiVersion) ? health.Version : health.ApiVersion;
        if (!TryParseApiVersion(reported, out var version) || version < MinimumApiVersion)
        {
            var shown = string.IsNullOrWhiteSpace(reported) ? "(none)" : reported.Length > 40 ? reported[..40] + "…" : reported;
            Log.GatewayVersionRejected(_logger, _gatewayLabel, shown);
            throw new TapPassConfigException(
                $"The TapPass gateway at {_gatewayLabel} implements API version {shown}; this SDK needs {MinimumApiVersion} or later. Upgrade the gateway (or set VerifyGatewayVersion = false).",
                nameof(TapPassAgentOptions.Url));
        }

        Log.GatewayVersionVerified(_logger, _gatewayLabel, version.ToString());
        MarkGatewayVerified();
    }

    private bool IsGatewayVerified() => _verifiedGateways.Contains(_options.BaseUrl, _transport);

    private void MarkGatewayVerified() => _verifiedGateways.Add(_options.BaseUrl, _transport);

    /// <summary>Parses <c>0.6.0</c>, <c>v0.6</c>, <c>1.2.3-beta+build</c>; pre-release and build suffixes are ignored.</summary>
    internal static bool TryParseApiVersion(string? value, out Version version)
    {
        version = new Version(0, 0, 0);
        if (string.IsNullOrWhiteSpace(value) || value.Length > 64)
        {
            return false;
        }

        var text = value.Trim();
        if (text[0] is 'v' or 'V')
        {
            text = text[1..];
        }

        var cut = text.IndexOfAny(['-', '+']);
        if (cut >= 0)
        {
            text = text[..cut];
        }

        if (text.Length == 0 || !text.All(c => char.IsAsciiDigit(c) || c == '.'))
        {
            return false;
        }

        if (!text.Contains('.', StringComparison.Ordinal))
        {
            text += ".0";
        }

        if (!Version.TryParse(text, out var parsed))
        {
            return false;
        }

        version = new Version(parsed.Major, parsed.Minor, Math.Max(parsed.Build, 0));
        return true;
    }

    internal static ChatResponse MapResponse(ChatCompletionResponse value, TapPassReplyHeaders headers, GovernanceFlags sentFlags)
    {
        var choice = value.Choices.Count > 0 ? value.Choices[0] : null;
        var meta = value.Tappass;
        var pipeline = ToPipeline(meta, headers, sentFlags);
        var (toolCalls, finishReason) = RunnableToolCalls(choice?.Message.ToolCalls ?? [], choice?.FinishReason, pipeline.ToolApprovals);
        return new ChatResponse
        {
            Content = choice?.Message.Content ?? "",
            Model = value.Model,
            Usage = ToUsage(value.Usage),
            Pipeline = pipeline,
            ToolCalls = toolCalls,
            FinishReason = finishReason,
            SessionId = meta?.SessionId ?? headers.SessionId,
            TaskId = meta?.TaskId,
            AgentUuid = meta?.AgentUuid ?? headers.AgentUuid,
            PipelineUuid = meta?.PipelineUuid ?? headers.PipelineId,
            AuditUrl = meta?.AuditUrl,
        };
    }

    private static TokenUsage ToUsage(UsageInfo? usage) => usage is null
        ? new TokenUsage()
        : new TokenUsage { PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens, TotalTokens = usage.TotalTokens };

    private static PipelineResult ToPipeline(TapPassMetadata? meta, TapPassReplyHeaders headers, GovernanceFlags sentFlags)
    {
        ClassificationNames.TryParse(meta?.Classification ?? headers.Classification, out var classification);
        IReadOnlyDictionary<string, string> flags = meta is { Flags.Count: > 0 }
            ? new Dictionary<string, string>(meta.Flags, StringComparer.OrdinalIgnoreCase)
            : sentFlags.ToDictionary();
        return new PipelineResult
        {
            Classification = classification,
            Blocked = meta?.Blocked ?? false,
            Flags = flags,
            Detections = meta?.Detections ?? [],
            Redactions = meta?.Redactions ?? [],
            Steps = meta?.Steps ?? [],
            Cost = meta?.Cost,
            InjectionScore = meta?.InjectionScore,
            Degraded = meta?.Degraded ?? false,
            BreakGlass = meta?.BreakGlass,
            TurnIndex = meta?.TurnIndex ?? 0,
            ToolApprovals = meta?.ToolApprovals is { Count: > 0 } approvals ? [.. approvals.OfType<ToolApproval>().Take(MaxToolApprovals)] : [],
        };
    }

    /// <summary>
    /// The tool calls of an answer a caller may run, and the finish reason that goes with them. Fail closed: a call the
    /// gateway lists as held for approval is never returned as a runnable call, even by a gateway that also left it in
    /// <c>tool_calls</c>; when no call remains, <c>tool_calls</c> as the finish reason becomes <c>stop</c>.
    /// </summary>
    internal static (IReadOnlyList<ToolCall> Calls, string? FinishReason) RunnableToolCalls(IReadOnlyList<ToolCall> calls, string? finishReason, IReadOnlyList<ToolApproval> held)
    {
        if (held.Count == 0 || calls.Count == 0)
        {
            return (calls, finishReason);
        }

        var heldIds = held.Select(h => h.ToolCallId ?? "").ToHashSet(StringComparer.Ordinal);
        var kept = calls.Where(c => !heldIds.Contains(c.Id ?? "")).ToArray();
        if (kept.Length == calls.Count)
        {
            return (calls, finishReason);
        }

        return (kept, kept.Length == 0 && finishReason is "tool_calls" or "function_call" ? "stop" : finishReason);
    }

    /// <summary>The status a mid-stream error event stands for (PROTOCOL.md §4).</summary>
    internal static int DefaultStatus(string? errorType) => errorType switch
    {
        ErrorTypes.PolicyBlock or ErrorTypes.TrustTierDenied or ErrorTypes.SessionForbidden => 403,
        ErrorTypes.ApprovalRequired => 428,
        ErrorTypes.BreakGlassActive or ErrorTypes.Unavailable => 503,
        ErrorTypes.ToolIntegrityViolation => 422,
        ErrorTypes.InvalidFlags or ErrorTypes.InvalidRequest => 400,
        ErrorTypes.Unauthorized => 401,
        ErrorTypes.IdempotencyConflict => 409,
        ErrorTypes.NotFound => 404,
        ErrorTypes.UpstreamError or ErrorTypes.InvalidResponse => 502,
        _ => 500,
    };

    private static ChatCompletionMessage Clone(ChatCompletionMessage m) => new() { Role = m.Role, Content = m.Content, Name = m.Name };

    private static HttpClient CreateHttpClient(ResolvedAgentOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = options.Timeout < TimeSpan.FromSeconds(10) ? options.Timeout : TimeSpan.FromSeconds(10),
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private sealed record CallSpec(
        string Model,
        GovernanceFlags Flags,
        string? SessionId,
        string? AgentUuid,
        string? TaskId,
        string? ResumeToken,
        double? Temperature,
        int? MaxTokens,
        List<ToolDefinition>? Tools);

    /// <summary>A call ready to send; <see cref="UserMessage"/> is null for a stateless call, which never touches the history.</summary>
    private sealed record PreparedCall(ChatCompletionRequest Request, TapPassCall Call, GovernanceFlags Flags, ChatCompletionMessage? UserMessage, long HistoryGeneration);

    /// <summary>Collects a stream's deltas, final usage and TapPass metadata into a <see cref="ChatResponse"/>.</summary>
    internal sealed class StreamAccumulator
    {
        private const int MaxToolCalls = 128;
        private readonly StringBuilder _content = new();
        private readonly SortedDictionary<int, (string Id, string Type, string Name, StringBuilder Arguments)> _toolCalls = [];
        private string? _model;
        private string? _finishReason;
        private UsageInfo? _usage;
        private TapPassMetadata? _meta;

        /// <summary>Adds a chunk; returns its text delta (possibly empty).</summary>
        public string Add(ChatCompletionChunk chunk)
        {
            _model ??= chunk.Model;
            _usage = chunk.Usage ?? _usage;
            _meta = chunk.Tappass ?? _meta;
            if (chunk.Choices is not { Count: > 0 } choices)
            {
                return "";
            }

            var text = "";
            foreach (var choice in choices)
            {
                if (choice.Index != 0)
                {
                    continue;
                }

                _finishReason = choice.FinishReason ?? _finishReason;
                if (!string.IsNullOrEmpty(choice.Delta.Content))
                {
                    text = text.Length == 0 ? choice.Delta.Content : text + choice.Delta.Content;
                }

                foreach (var call in choice.Delta.ToolCalls ?? [])
                {
                    if (!_toolCalls.TryGetValue(call.Index, out var entry))
                    {
                        if (_toolCalls.Count >= MaxToolCalls || call.Index < 0)
                        {
                            continue;
                        }

                        entry = ("", "function", "", new StringBuilder());
                    }

                    entry.Id = string.IsNullOrEmpty(call.Id) ? entry.Id : call.Id;
                    entry.Type = string.IsNullOrEmpty(call.Type) ? entry.Type : call.Type;
                    entry.Name += call.Function?.Name ?? "";
                    entry.Arguments.Append(call.Function?.Arguments);
                    _toolCalls[call.Index] = entry;
                }
            }

            _content.Append(text);
            return text;
        }

        public ChatResponse ToResponse(TapPassReplyHeaders headers, GovernanceFlags sentFlags, string requestedModel)
        {
            var pipeline = ToPipeline(_meta, headers, sentFlags);
            var (toolCalls, finishReason) = RunnableToolCalls(
                _toolCalls.Values
                    .Select(c => new ToolCall { Id = c.Id, Type = c.Type, Function = new FunctionCall { Name = c.Name, Arguments = c.Arguments.Length == 0 ? "{}" : c.Arguments.ToString() } })
                    .ToArray(),
                _finishReason,
                pipeline.ToolApprovals);
            return new ChatResponse
            {
                Content = _content.ToString(),
                Model = _model ?? requestedModel,
                Usage = ToUsage(_usage),
                Pipeline = pipeline,
                ToolCalls = toolCalls,
                FinishReason = finishReason,
                SessionId = _meta?.SessionId ?? headers.SessionId,
                TaskId = _meta?.TaskId,
                AgentUuid = _meta?.AgentUuid ?? headers.AgentUuid,
                PipelineUuid = _meta?.PipelineUuid ?? headers.PipelineId,
                AuditUrl = _meta?.AuditUrl,
            };
        }
    }
}
