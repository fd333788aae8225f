using System.Xml;
using TapPass.Governance.Identity;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>Operator and reviewer operations for the gateway's admin and approval endpoints.</summary>
internal sealed partial class GovernanceEngine
{
    private const int MaxReasonLength = 500;

    /// <summary>The JWK Set of the capability-token key, for <c>/.well-known/jwks.json</c>.</summary>
    public string Jwks() => _capabilityTokens.Jwks();

    /// <summary>The public capability-token key as a JWK (same <c>kid</c> as in the tokens' headers).</summary>
    public Audit.EcPublicJwk CapabilityTokenKey() => _capabilityTokens.PublicJwk();

    /// <summary>Verifies a capability token for a tool run (expired, tampered or other-scope tokens are rejected).</summary>
    public CapabilityTokenStatus VerifyCapabilityToken(string? token, string tool, string sessionId, string agentUuid, string? argsSha256 = null) =>
        _capabilityTokens.Verify(token, tool, sessionId, agentUuid, argsSha256, out _);

    /// <summary>The active break-glass state of <paramref name="org"/>, or null.</summary>
    public async Task<BreakGlassInfo?> GetBreakGlassAsync(string org, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await ActiveBreakGlassAsync(org).ConfigureAwait(false) is { } s
            ? new BreakGlassInfo { Level = s.Level, ExpiresAt = s.ExpiresAt, Reason = s.Reason }
            : null;
    }

    /// <summary><c>POST /v1/admin/break-glass</c> with an ISO 8601 duration (<c>PT30M</c>).</summary>
    public Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(AgentIdentity admin, string level, string duration, string? reason, CancellationToken cancellationToken)
    {
        TimeSpan parsed;
        try
        {
            parsed = XmlConvert.ToTimeSpan(duration ?? "");
        }
        catch (FormatException)
        {
            return Task.FromResult(TapPassReply<BreakGlassInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "duration must be an ISO 8601 duration such as PT30M.", Param = "duration" }));
        }

        return DeclareBreakGlassAsync(admin, level, parsed, reason, cancellationToken);
    }

    /// <summary>
    /// Declares break-glass for the admin's org: <c>halt</c> refuses every agent call with 503
    /// <c>break_glass_active</c> and <c>Retry-After</c>; <c>observe</c> suspends blocking and marks responses with
    /// <c>tappass.break_glass</c>. It ends at <c>expires_at</c> (audited when first noticed) or when ended early.
    /// Requires the admin role.
    /// </summary>
    public async Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(AgentIdentity admin, string level, TimeSpan duration, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        if (!admin.HasRole(AgentRoles.Admin))
        {
            return TapPassReply<BreakGlassInfo>.Fail(403, new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "Declaring break-glass requires the admin role." });
        }

        var normalized = level?.Trim().ToLowerInvariant();
        if (normalized is not ("halt" or "observe"))
        {
            return TapPassReply<BreakGlassInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "level must be halt or observe.", Param = "level" });
        }

        if (duration <= TimeSpan.Zero || duration > _settings.MaxBreakGlassDuration)
        {
            return TapPassReply<BreakGlassInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = $"duration must be positive and at most {_settings.MaxBreakGlassDuration}.", Param = "duration" });
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength)
        {
            return TapPassReply<BreakGlassInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = $"reason is required (at most {MaxReasonLength} characters).", Param = "reason" });
        }

        var now = _time.GetUtcNow();
        var state = new BreakGlassState(admin.Org, normalized, now, now + duration, reason.Trim(), admin.AgentId);
        await _stores.BreakGlass.SetAsync(state, cancellationToken).ConfigureAwait(false);
        EngineLog.BreakGlassDeclared(_logger, state.Level, state.Org, state.ExpiresAt, admin.AgentId);
        try
        {
            await AppendAsync(Event("break_glass.declared", admin, null, null, Ids.New(Ids.Pipeline)) with
            {
                Decision = state.Level,
                Reason = state.Reason,
                Details = new JsonBag().Add("level", state.Level).Add("expires_at", state.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)).Build(),
            }).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            await _stores.BreakGlass.TryClearAsync(state, CancellationToken.None).ConfigureAwait(false);
            return TapPassReply<BreakGlassInfo>.Fail(503, Unavailable("The audit log is unavailable; break-glass was not declared."));
        }

        return TapPassReply<BreakGlassInfo>.Ok(new BreakGlassInfo { Level = state.Level, ExpiresAt = state.ExpiresAt, Reason = state.Reason });
    }

    /// <summary><c>DELETE /v1/admin/break-glass</c>: ends the admin's org's break-glass early (404 when none).</summary>
    public async Task<TapPassReply<BreakGlassInfo>> EndBreakGlassAsync(AgentIdentity admin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        if (!admin.HasRole(AgentRoles.Admin))
        {
            return TapPassReply<BreakGlassInfo>.Fail(403, new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "Ending break-glass requires the admin role." });
        }

        var state = await ActiveBreakGlassAsync(admin.Org).ConfigureAwait(false);
        if (state is null || !await _stores.BreakGlass.TryClearAsync(state, cancellationToken).ConfigureAwait(false))
        {
            return TapPassReply<BreakGlassInfo>.Fail(404, new ErrorBody { Type = ErrorTypes.NotFound, Message = "No break-glass is active." });
        }

        try
        {
            await AppendAsync(Event("break_glass.ended", admin, null, null, Ids.New(Ids.Pipeline)) with
            {
                Decision = "allow",
                Reason = "Ended early by an operator.",
                Details = new JsonBag().Add("level", state.Level).Add("expired", false).Build(),
            }).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            await _stores.BreakGlass.SetAsync(state, CancellationToken.None).ConfigureAwait(false);
            return TapPassReply<BreakGlassInfo>.Fail(503, Unavailable("The audit log is unavailable; break-glass was not ended."));
        }

        return TapPassReply<BreakGlassInfo>.Ok(new BreakGlassInfo { Level = state.Level, ExpiresAt = _time.GetUtcNow(), Reason = state.Reason });
    }

    /// <summary><c>GET /v1/approvals/{id}</c>: visible to approvers of the org and to the agent that asked (404 otherwise).
    /// The resume token is never shown here.</summary>
    public async Task<TapPassReply<ApprovalInfo>> GetApprovalAsync(AgentIdentity caller, string approvalId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var approval = Ids.IsWellFormed(approvalId, Ids.Approval) ? await _stores.Approvals.GetAsync(approvalId, cancellationToken).ConfigureAwait(false) : null;
        if (approval is null || approval.Org != caller.Org || !(caller.HasRole(AgentRoles.Approver) || caller.AgentUuid == approval.AgentUuid))
        {
            return TapPassReply<ApprovalInfo>.Fail(404, new ErrorBody { Type = ErrorTypes.NotFound, Message = "No such approval." });
        }

        return TapPassReply<ApprovalInfo>.Ok(ToInfo(approval));
    }

    /// <summary><c>POST /v1/approvals/{id}/decide</c> (approver role): approve or deny a pending, unexpired request.</summary>
    public async Task<TapPassReply<ApprovalInfo>> DecideApprovalAsync(AgentIdentity approver, string approvalId, ApprovalDecisionRequest decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approver);
        ArgumentNullException.ThrowIfNull(decision);
        if (!approver.HasRole(AgentRoles.Approver))
        {
            return TapPassReply<ApprovalInfo>.Fail(403, new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "Deciding approvals requires the approver role." });
        }

        var verdict = decision.Decision?.Trim().ToLowerInvariant();
        if (verdict is not ("approve" or "deny"))
        {
            return TapPassReply<ApprovalInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "decision must be approve or deny.", Param = "decision" });
        }

        if (decision.Reason is { Length: > MaxReasonLength })
        {
            return TapPassReply<ApprovalInfo>.Fail(400, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = $"reason must be at most {MaxReasonLength} characters.", Param = "reason" });
        }

        var approval = Ids.IsWellFormed(approvalId, Ids.Approval) ? await _stores.Approvals.GetAsync(approvalId, cancellationToken).ConfigureAwait(false) : null;
        if (approval is null || approval.Org != approver.Org)
        {
            return TapPassReply<ApprovalInfo>.Fail(404, new ErrorBody { Type = ErrorTypes.NotFound, Message = "No such approval." });
        }

        var now = _time.GetUtcNow();
        if (approval.Status == ApprovalStatus.Pending && now >= approval.ExpiresAt)
        {
            await _stores.Approvals.TryUpdateAsync(approval, approval with { Status = ApprovalStatus.Expired }, cancellationToken).ConfigureAwait(false);
            return TapPassReply<ApprovalInfo>.Fail(409, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "The approval request expired." });
        }

        if (approval.Status != ApprovalStatus.Pending)
        {
            return TapPassReply<ApprovalInfo>.Fail(409, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = $"The approval was already {approval.Status}." });
        }

        var next = approval with
        {
            Status = verdict == "approve" ? ApprovalStatus.Approved : ApprovalStatus.Denied,
            DecidedBy = approver.AgentId,
            DecisionReason = decision.Reason,
            DecidedAt = now,
        };
        if (!await _stores.Approvals.TryUpdateAsync(approval, next, cancellationToken).ConfigureAwait(false))
        {
            return TapPassReply<ApprovalInfo>.Fail(409, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "The approval was decided concurrently." });
        }

        try
        {
            await AppendAsync(Event("approval.decided", approver, approval.SessionId, null, Ids.New(Ids.Pipeline)) with
            {
                Decision = next.Status,
                Reason = decision.Reason,
                Details = new JsonBag().Add("approval_id", approval.Id).Add("subject", approval.Subject).Add("rule", approval.Rule).Add("requested_by", approval.AgentId).Build(),
            }).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            await _stores.Approvals.TryUpdateAsync(next, approval, CancellationToken.None).ConfigureAwait(false);
            return TapPassReply<ApprovalInfo>.Fail(503, Unavailable("The audit log is unavailable; the decision was not recorded."));
        }

        return TapPassReply<ApprovalInfo>.Ok(ToInfo(next));
    }

    private ApprovalInfo ToInfo(ApprovalRecord approval) => new()
    {
        ApprovalId = approval.Id,
        ApprovalUrl = ApprovalUrl(approval.Id),
        ExpiresAt = approval.ExpiresAt,
        Status = approval.Status == ApprovalStatus.Pending && _time.GetUtcNow() >= approval.ExpiresAt ? ApprovalStatus.Expired : approval.Status,
        Subject = approval.Subject,
        Rule = approval.Rule,
        Reason = approval.DecisionReason ?? approval.Reason,
    };
}
