using TapPass.Governance.Identity;
using TapPass.Governance.Policy;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>Sessions (PROTOCOL.md §9).</summary>
internal sealed partial class GovernanceEngine
{
    private const int MaxSessionMetadata = 16;

    /// <inheritdoc />
    public async Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassReply<SessionResponse>.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await OpenSessionAsync(identity, call, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a session owned by <paramref name="identity"/> (shared: other agents of the org may join).</summary>
    internal async Task<TapPassReply<SessionResponse>> OpenSessionAsync(AgentIdentity identity, TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        request ??= new SessionCreateRequest();
        var pipelineId = Ids.New(Ids.Pipeline);
        try
        {
            if ((await PreludeAsync(identity, call, pipelineId, "session.rejected").ConfigureAwait(false)).Failure is { } early)
            {
                return early.ToReply<SessionResponse>();
            }

            return await IdempotentAsync(
                identity, call, "session.open", () => Serialize(request, TapPassJsonContext.Default.SessionCreateRequest), pipelineId,
                async () =>
                {
                    if (ValidateMetadata(request.Metadata) is { } invalid)
                    {
                        return (await RejectAsync(identity, call, pipelineId, "session.rejected", invalid, null).ConfigureAwait(false)).ToReply<SessionResponse>();
                    }

                    var session = await OpenSessionCoreAsync(identity, request.Shared == true, request.Metadata is null ? null : new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal), implicitly: false, call.TaskId, pipelineId, cancellationToken).ConfigureAwait(false);
                    return TapPassReply<SessionResponse>.Ok(ToResponse(session), Headers(identity, session.Id, null, pipelineId));
                },
                reply => new IdempotentOutcome { StatusCode = reply.StatusCode, Headers = reply.Headers, Error = reply.Error, Session = reply.Value },
                outcome => outcome.Session is { } s ? TapPassReply<SessionResponse>.Ok(s, outcome.Headers, outcome.StatusCode) : TapPassReply<SessionResponse>.Fail(outcome.StatusCode, outcome.Error!, outcome.Headers)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassReply<SessionResponse>.Fail(503, Correlate(Unavailable(), identity, null, call.TaskId, pipelineId));
        }
    }

    /// <inheritdoc />
    public async Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassReply<SessionResponse>.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await CloseSessionAsync(identity, call, sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes a session the caller may access. Closing a closed session answers it again.</summary>
    internal async Task<TapPassReply<SessionResponse>> CloseSessionAsync(AgentIdentity identity, TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        var pipelineId = Ids.New(Ids.Pipeline);
        try
        {
            if (CheckCallHeaders(identity, call) is { } invalid)
            {
                return (await RejectAsync(identity, call, pipelineId, "session.rejected", invalid, null).ConfigureAwait(false)).ToReply<SessionResponse>();
            }

            var (session, sessionError) = await AccessSessionAsync(identity, sessionId ?? "", requireLive: false, cancellationToken).ConfigureAwait(false);
            if (sessionError is not null)
            {
                return (await RejectAsync(identity, call, pipelineId, "session.rejected", sessionError, null).ConfigureAwait(false)).ToReply<SessionResponse>();
            }

            var closed = await _stores.Sessions.CloseAsync(session!.Id, cancellationToken).ConfigureAwait(false) ?? session with { Closed = true };
            await AppendAsync(Event("session.closed", identity, closed.Id, call.TaskId, pipelineId) with
            {
                Decision = "allow",
                Details = new JsonBag().Add("turns", (long)closed.Turns).Build(),
            }).ConfigureAwait(false);
            return TapPassReply<SessionResponse>.Ok(ToResponse(closed), Headers(identity, closed.Id, null, pipelineId));
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassReply<SessionResponse>.Fail(503, Correlate(Unavailable(), identity, sessionId, call.TaskId, pipelineId));
        }
    }

    /// <summary><c>GET /v1/sessions/{id}</c>: the session, if the caller may access it (otherwise 403).</summary>
    internal async Task<TapPassReply<SessionResponse>> GetSessionAsync(AgentIdentity identity, string sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var (session, error) = await AccessSessionAsync(identity, sessionId ?? "", requireLive: false, cancellationToken).ConfigureAwait(false);
        return error is not null
            ? TapPassReply<SessionResponse>.Fail(403, Correlate(error, identity, null, null, Ids.New(Ids.Pipeline)))
            : TapPassReply<SessionResponse>.Ok(ToResponse(session!), Headers(identity, session!.Id, null, Ids.New(Ids.Pipeline)));
    }

    private SessionResponse ToResponse(SessionRecord session) => new()
    {
        SessionId = session.Id,
        AgentUuid = session.AgentUuid,
        AuditUrl = AuditUrl(session.Id),
        ExpiresAt = session.ExpiresAt,
        Closed = session.Closed,
    };

    private static ErrorBody? ValidateMetadata(Dictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return null;
        }

        if (metadata.Count > MaxSessionMetadata ||
            metadata.Any(kv => kv.Key.Length is 0 or > 64 || !kv.Key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') || (kv.Value?.Length ?? 0) > 256))
        {
            return new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = $"metadata: at most {MaxSessionMetadata} entries, keys of 1-64 characters [A-Za-z0-9_.-], values up to 256 characters.", Param = "metadata" };
        }

        return null;
    }

    /// <summary>Joins the session a call names (if the caller may) or opens one implicitly; a refusal is audited.</summary>
    private async Task<(SessionRecord? Session, Failure? Failure)> JoinOrOpenSessionAsync(AgentIdentity identity, TapPassCall call, string? requested, string pipelineId, string rejectedEvent, CancellationToken cancellationToken)
    {
        if (requested is null)
        {
            return (await OpenSessionCoreAsync(identity, shared: false, null, implicitly: true, call.TaskId, pipelineId, cancellationToken).ConfigureAwait(false), null);
        }

        var (session, error) = await AccessSessionAsync(identity, requested, requireLive: true, cancellationToken).ConfigureAwait(false);
        return error is null
            ? (session, null)
            : (null, await RejectAsync(identity, call, pipelineId, rejectedEvent, error, null).ConfigureAwait(false));
    }

    private static ErrorBody InvalidFlags(FlagError error) => new()
    {
        Type = ErrorTypes.InvalidFlags,
        Message = error.Message,
        Flag = error.Flag,
        Value = error.Value,
        Allowed = [.. error.Allowed],
    };

    /// <summary>Writes one <c>flags.lock_applied</c> event per lock that overrode a request.</summary>
    private async Task AuditLocksAsync(AgentIdentity identity, FlagResolution resolution, string sessionId, string? taskId, string pipelineId)
    {
        foreach (var applied in resolution.LocksApplied)
        {
            EngineLog.LockApplied(_logger, identity.AgentId, applied.Flag, applied.Source, applied.LockedBy);
            await AppendAsync(Event("flags.lock_applied", identity, sessionId, taskId, pipelineId) with
            {
                Decision = "modify",
                Reason = $"Flag '{applied.Flag}' is locked by the {applied.LockedBy}; the requested value was not applied.",
                Details = new JsonBag().Add("flag", applied.Flag).Add("requested", applied.Requested).Add("locked", applied.Locked).Add("source", applied.Source).Add("locked_by", applied.LockedBy).Build(),
            }).ConfigureAwait(false);
        }
    }
}
