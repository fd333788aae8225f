using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Audit;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Pipeline.Steps;
using TapPass.Governance.Providers;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>
/// The governance engine: the in-process implementation of <see cref="ITapPassTransport"/> that embedded mode and
/// the HTTP gateway both use, so both behave identically. Every public data-plane method authenticates the call's
/// API key; the <c>internal</c> overloads taking an <see cref="AgentIdentity"/> serve callers that authenticated
/// otherwise (<see cref="EmbeddedTransport"/>). Decisions are values (status + error body), never exceptions.
/// Every authenticated call writes one or more audit events and returns only after they were appended; if the audit
/// log fails the call is answered 503 <c>unavailable</c> (fail closed). Unauthenticated calls (401) are logged, not
/// audited, so anonymous traffic cannot grow the tamper-evident log.
/// </summary>
internal sealed partial class GovernanceEngine : ITapPassTransport
{
    private const int MaxIdempotencyKeyLength = 255;

    private readonly EngineSettings _settings;
    private readonly ITextInspector _inspector;
    private readonly ProviderRouter _router;
    private readonly IAuditLog _audit;
    private readonly EngineStores _stores;
    private readonly ApiKeyStore _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PipelineServices _services;
    private readonly IPipelineStep[] _inputSteps;
    private readonly IPipelineStep[] _outputSteps;
    private readonly IPipelineStep _costStep;
    private readonly ToolCallsStep _toolCallsStep;
    private readonly CapabilityTokens _capabilityTokens;

    public GovernanceEngine(
        EngineSettings settings,
        ITextInspector inspector,
        ProviderRouter router,
        IAuditLog audit,
        EngineStores stores,
        ApiKeyStore keys,
        TimeProvider? timeProvider = null,
        ILogger<GovernanceEngine>? logger = null)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _inspector = inspector ?? throw new ArgumentNullException(nameof(inspector));
        _router = router ?? throw new ArgumentNullException(nameof(router));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        _stores = stores ?? throw new ArgumentNullException(nameof(stores));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<GovernanceEngine>.Instance;
        _services = new PipelineServices(settings, inspector, stores.Budgets, stores.RateLimits, _time);
        _capabilityTokens = new CapabilityTokens(settings, _time);
        _inputSteps =
        [
            new NormalizeInputStep(_services),
            new DetectPiiStep(),
            new DetectSecretsStep(),
            new DetectInjectionStep(_services),
            new DetectExfiltrationStep(),
            new ClassifyDataStep(),
            new ChatToolIntegrityStep(this),
            new ChatTrustTierStep(this),
            new ChatApprovalStep(this),
            new BudgetStep(_services),
            new RateLimitStep(_services),
        ];
        _toolCallsStep = new ToolCallsStep(_services, CheckModelToolCallAsync);
        _outputSteps = [new ScanOutputStep(_services), _toolCallsStep];
        _costStep = new CostStep(_services);

        foreach (var (identity, key, hash) in settings.Keys)
        {
            if (key is not null)
            {
                _keys.AddKey(key, identity);
            }
            else if (hash is not null)
            {
                _keys.AddHash(hash, identity);
            }
        }
    }

    /// <summary>The names of the pipeline steps in the order they run (input, model call, output).</summary>
    public IReadOnlyList<string> StepOrder =>
        [.. _inputSteps.Select(s => s.Name), PipelineStepNames.CallModel, .. _outputSteps.Select(s => s.Name), _costStep.Name];

    /// <summary>The identity in-process calls without a key act as.</summary>
    public AgentIdentity EmbeddedIdentity => _settings.EmbeddedIdentity;

    /// <summary>The API keys (the server adds a development key when none is configured).</summary>
    public ApiKeyStore Keys => _keys;

    /// <summary>Product version (semver, no build metadata).</summary>
    public static string ProductVersion { get; } = ReadVersion();

    /// <summary>Finds the identity of an API key (for the gateway's admin and approval endpoints).</summary>
    public bool TryAuthenticate(string? apiKey, out AgentIdentity identity) => _keys.TryAuthenticate(apiKey, out identity);

    /// <summary>Audit page URL of a session.</summary>
    public string AuditUrl(string sessionId) => $"{_settings.PublicBaseUrl}/audit/sessions/{sessionId}";

    /// <summary>Approval page URL.</summary>
    public string ApprovalUrl(string approvalId) => $"{_settings.PublicBaseUrl}/approvals/{approvalId}";

    /// <inheritdoc />
    public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<HealthResponse>.Ok(new HealthResponse { Status = "healthy", Version = ProductVersion, ApiVersion = EngineSettings.ApiVersion }));

    /// <summary><c>GET /v1/models</c>: every routed model.</summary>
    public ModelList ListModels()
    {
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        return new ModelList { Data = [.. _router.ListModels().Select(m => new ModelInfo { Id = m.Model, OwnedBy = m.Provider, Created = created })] };
    }

    // ---- authentication and correlation -------------------------------------------------------------------------

    private bool Authenticate(TapPassCall call, out AgentIdentity identity, out ErrorBody? error)
    {
        ArgumentNullException.ThrowIfNull(call);
        error = null;
        if (_keys.TryAuthenticate(call.ApiKey, out identity))
        {
            if (!identity.HasRole(AgentRoles.Agent))
            {
                error = new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "This API key may not make agent calls (it lacks the agent role)." };
                return false;
            }

            return true;
        }

        EngineLog.AuthenticationFailed(_logger);
        error = new ErrorBody { Type = ErrorTypes.Unauthorized, Message = "Missing or invalid API key. Send Authorization: Bearer tp_…" };
        return false;
    }

    private static int StatusOf(ErrorBody error) => error.Type switch
    {
        ErrorTypes.Unauthorized => 401,
        ErrorTypes.InvalidFlags or ErrorTypes.InvalidRequest => 400,
        ErrorTypes.UpstreamError => 502,
        ErrorTypes.Unavailable or ErrorTypes.BreakGlassActive => 503,
        ErrorTypes.ApprovalRequired => 428,
        ErrorTypes.ToolIntegrityViolation => 422,
        ErrorTypes.NotFound => 404,
        _ => 403,
    };

    /// <summary>Checks the agent-uuid claim, task id and sandbox tier headers.</summary>
    private static ErrorBody? CheckCallHeaders(AgentIdentity identity, TapPassCall call)
    {
        if (call.AgentUuid is { } claimed &&
            (!Guid.TryParse(claimed, out var g) || !string.Equals(g.ToString("D"), identity.AgentUuid, StringComparison.OrdinalIgnoreCase)))
        {
            return new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "X-TapPass-Agent-Uuid does not match the agent of this API key." };
        }

        if (call.TaskId is { } task && !TapPassSession.IsWellFormedId(task))
        {
            return new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "X-TapPass-Task-Id must be 1-128 characters of [A-Za-z0-9_-].", Param = TapPassHeaders.TaskId };
        }

        if (call.SandboxTier is { } tier && !TrustTiers.TryParse(tier, out _))
        {
            return new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "X-TapPass-Sandbox-Tier must be observer, worker, standard or full.", Param = TapPassHeaders.SandboxTier };
        }

        return null;
    }

    /// <summary>The caller's effective tier: the key's tier, lowered (never raised) by the sandbox tier header.</summary>
    internal static TrustTier EffectiveTier(AgentIdentity identity, TapPassCall call) =>
        call.SandboxTier is { } s && TrustTiers.TryParse(s, out var sandbox) && sandbox < identity.TrustTier ? sandbox : identity.TrustTier;

    private ErrorBody Correlate(ErrorBody error, AgentIdentity? identity, string? sessionId, string? taskId, string pipelineId)
    {
        error.SessionId ??= sessionId;
        error.TaskId ??= taskId;
        error.AgentUuid ??= identity?.AgentUuid;
        error.PipelineUuid ??= pipelineId;
        error.AuditUrl ??= sessionId is null ? null : AuditUrl(sessionId);
        return error;
    }

    private static TapPassReplyHeaders Headers(AgentIdentity? identity, string? sessionId, Classification? classification, string pipelineId, TimeSpan? retryAfter = null) => new()
    {
        SessionId = sessionId,
        AgentUuid = identity?.AgentUuid,
        Classification = classification?.ToWire(),
        PipelineId = pipelineId,
        RetryAfter = retryAfter,
    };

    // ---- sessions ------------------------------------------------------------------------------------------------

    /// <summary>
    /// The session a call names, if the caller may use it: our id format, same org, same agent unless shared, live.
    /// Every failure is the same 403 <c>session_forbidden</c>, so a probe learns nothing about other sessions.
    /// </summary>
    private async Task<(SessionRecord? Session, ErrorBody? Error)> AccessSessionAsync(AgentIdentity identity, string sessionId, bool requireLive, CancellationToken cancellationToken)
    {
        static ErrorBody Forbidden() => new() { Type = ErrorTypes.SessionForbidden, Message = "The session does not exist, has ended, or belongs to another agent." };
        if (!Ids.IsWellFormed(sessionId, Ids.Session))
        {
            return (null, Forbidden());
        }

        var session = await _stores.Sessions.GetAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (session is null || !string.Equals(session.Org, identity.Org, StringComparison.Ordinal) ||
            (!session.Shared && !string.Equals(session.AgentUuid, identity.AgentUuid, StringComparison.Ordinal)) ||
            (requireLive && !session.IsLive(_time.GetUtcNow())))
        {
            return (null, Forbidden());
        }

        return (session, null);
    }

    private async Task<SessionRecord> OpenSessionCoreAsync(AgentIdentity identity, bool shared, IReadOnlyDictionary<string, string>? metadata, bool implicitly, string? taskId, string pipelineId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var session = await _stores.Sessions.CreateAsync(new SessionRecord
        {
            Id = Ids.New(Ids.Session),
            Org = identity.Org,
            AgentId = identity.AgentId,
            AgentUuid = identity.AgentUuid,
            Shared = shared,
            CreatedAt = now,
            ExpiresAt = now + _settings.SessionLifetime,
            Metadata = metadata,
        }, cancellationToken).ConfigureAwait(false);

        await AppendAsync(Event("session.opened", identity, session.Id, taskId, pipelineId) with
        {
            Decision = "allow",
            Details = new JsonBag().Add("implicit", implicitly).Add("shared", shared).Build(),
        }).ConfigureAwait(false);
        return session;
    }

    // ---- audit ---------------------------------------------------------------------------------------------------

    private AuditEvent Event(string type, AgentIdentity identity, string? sessionId, string? taskId, string pipelineId) => new()
    {
        Timestamp = _time.GetUtcNow(),
        EventType = type,
        Org = identity.Org,
        AgentId = identity.AgentId,
        AgentUuid = identity.AgentUuid,
        SessionId = sessionId,
        TaskId = taskId,
        PipelineUuid = pipelineId,
    };

    /// <summary>Appends an event. Not cancellable: once a decision is taken its record is written.</summary>
    private async Task<AuditRecord> AppendAsync(AuditEvent e)
    {
        try
        {
            return await _audit.AppendAsync(e, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            EngineLog.AuditFailed(_logger, e.EventType, ex.GetType().Name);
            throw new AuditUnavailableException(ex);
        }
    }

    private static ErrorBody Unavailable(string message = "The audit log is unavailable; the call was not completed.") =>
        new() { Type = ErrorTypes.Unavailable, Message = message };

    // ---- idempotency ---------------------------------------------------------------------------------------------

    private static ErrorBody? CheckIdempotencyKey(string? key) =>
        key is null || (key.Length is > 0 and <= MaxIdempotencyKeyLength && key.All(c => c is >= '!' and <= '~'))
            ? null
            : new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "Idempotency-Key must be 1-255 printable ASCII characters.", Param = TapPassHeaders.IdempotencyKey };

    private static string IdempotencyScope(AgentIdentity identity, string key) => $"{identity.Org}\n{identity.AgentUuid}\n{key}";

    private static string RequestHash(string operation, TapPassCall call, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in new[] { operation, call.Flags, call.SessionId, call.TaskId, call.ResumeToken, call.AgentUuid, call.SandboxTier })
        {
            hash.AppendData(Encoding.UTF8.GetBytes(part ?? "\u0000"));
            hash.AppendData("\n"u8);
        }

        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Runs <paramref name="run"/> under the call's Idempotency-Key (PROTOCOL.md §2): replay within the
    /// retention period, 422 for the same key with a different request, 409 while the first call is still running.
    /// 5xx answers are not stored, so a retry runs again. <paramref name="body"/> serialises the request for the
    /// request hash, only when the call has a key (a chat body can be megabytes).</summary>
    private async Task<TapPassReply<T>> IdempotentAsync<T>(
        AgentIdentity identity,
        TapPassCall call,
        string operation,
        Func<byte[]> body,
        string pipelineId,
        Func<Task<TapPassReply<T>>> run,
        Func<TapPassReply<T>, IdempotentOutcome> save,
        Func<IdempotentOutcome, TapPassReply<T>> restore)
        where T : class
    {
        if (call.IdempotencyKey is null)
        {
            return await run().ConfigureAwait(false);
        }

        var scope = IdempotencyScope(identity, call.IdempotencyKey);
        var begin = await _stores.Idempotency.BeginAsync(scope, RequestHash(operation, call, body()), CancellationToken.None).ConfigureAwait(false);
        switch (begin.State)
        {
            case IdempotencyState.Conflict:
                return TapPassReply<T>.Fail(422, Correlate(new ErrorBody { Type = ErrorTypes.IdempotencyConflict, Message = "This Idempotency-Key was used with a different request." }, identity, null, call.TaskId, pipelineId));
            case IdempotencyState.InProgress:
                return TapPassReply<T>.Fail(409, Correlate(new ErrorBody { Type = ErrorTypes.IdempotencyConflict, Message = "A request with this Idempotency-Key is still being processed." }, identity, null, call.TaskId, pipelineId));
            case IdempotencyState.Replay:
                await AppendAsync(Event("idempotency.replayed", identity, begin.Outcome!.Headers.SessionId, call.TaskId, pipelineId) with
                {
                    Decision = "replay",
                    Details = new JsonBag().Add("operation", operation).Add("status", (long)begin.Outcome.StatusCode).Build(),
                }).ConfigureAwait(false);
                return restore(begin.Outcome);
        }

        var stored = false;
        try
        {
            var reply = await run().ConfigureAwait(false);
            if (reply.StatusCode < 500)
            {
                await _stores.Idempotency.CompleteAsync(scope, save(reply), CancellationToken.None).ConfigureAwait(false);
                stored = true;
            }

            return reply;
        }
        finally
        {
            if (!stored)
            {
                await _stores.Idempotency.AbandonAsync(scope, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static string ReadVersion()
    {
        var v = typeof(GovernanceEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.6.0";
        var plus = v.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? v : v[..plus];
    }

    private static byte[] Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
}

/// <summary>The audit log could not record a decision; the engine answers 503 <c>unavailable</c>.</summary>
internal sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException() : this(null)
    {
    }

    public AuditUnavailableException(Exception? innerException) : base("The audit log is unavailable.", innerException)
    {
    }

    public AuditUnavailableException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
