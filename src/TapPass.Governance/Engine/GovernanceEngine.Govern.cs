using System.Text.Json;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Pipeline.Steps;
using TapPass.Governance.Policy;
using TapPass.Governance.Policy.Tools;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>Tool governance: <c>POST /v1/govern</c> and <c>POST /v1/govern/execution</c> (PROTOCOL.md §6).</summary>
internal sealed partial class GovernanceEngine
{
    private const int MaxArgumentBytes = 1_000_000;

    /// <inheritdoc />
    public async Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassReply<GovernResponse>.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await GovernAsync(identity, call, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Decides one tool call for <paramref name="identity"/>. Decisions are 200 answers: <c>block</c> (tool rules,
    /// trust tier with <c>required_tier</c>/<c>actual_tier</c>, integrity with <c>violation</c>, a rejected resume
    /// token), <c>needs_approval</c> (with the approval), <c>modify</c> (with <c>modified_args</c>) or <c>allow</c>;
    /// allow and modify carry a capability token. Under <c>enforcement.mode = audit</c>, <c>mode=observe</c> or
    /// break-glass observe nothing is blocked or held (the would-be decision is in the reason and the audit event);
    /// under <c>mode=warn</c> blocks are only flagged but modifications apply. Non-2xx answers mean the call itself
    /// was invalid or governance is unavailable.
    /// </summary>
    internal async Task<TapPassReply<GovernResponse>> GovernAsync(AgentIdentity identity, TapPassCall call, GovernRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        var pipelineId = Ids.New(Ids.Pipeline);
        try
        {
            var (early, breakGlass) = await PreludeAsync(identity, call, pipelineId, "tool.rejected").ConfigureAwait(false);
            if (early is not null)
            {
                return early.ToReply<GovernResponse>();
            }

            return await IdempotentAsync(
                identity, call, "govern", () => Serialize(request, TapPassJsonContext.Default.GovernRequest), pipelineId,
                () => GovernCoreAsync(identity, call, request, pipelineId, breakGlass, cancellationToken),
                reply => new IdempotentOutcome { StatusCode = reply.StatusCode, Headers = reply.Headers, Error = reply.Error, Govern = reply.Value },
                outcome => outcome.Govern is { } g ? TapPassReply<GovernResponse>.Ok(g, outcome.Headers, outcome.StatusCode) : TapPassReply<GovernResponse>.Fail(outcome.StatusCode, outcome.Error!, outcome.Headers)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassReply<GovernResponse>.Fail(503, Correlate(Unavailable(), identity, null, call.TaskId, pipelineId));
        }
    }

    private static ErrorBody? ValidateGovern(GovernRequest request)
    {
        static ErrorBody Bad(string message, string param) => new() { Type = ErrorTypes.InvalidRequest, Message = message, Param = param };

        if (!string.Equals(request.Type, "TOOL_CALL", StringComparison.OrdinalIgnoreCase))
        {
            return Bad("type must be TOOL_CALL.", "type");
        }

        if (request.Payload is null || !IsToolName(request.Payload.Tool))
        {
            return Bad("payload.tool must be 1-128 characters of [A-Za-z0-9_.:/-].", "payload.tool");
        }

        if (request.Payload.Args is { } args)
        {
            if (args.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                return Bad("payload.args must be a JSON object.", "payload.args");
            }

            if (args.GetRawText().Length > MaxArgumentBytes)
            {
                return Bad("payload.args is too large.", "payload.args");
            }
        }

        if (request.Payload.DefinitionSha256 is { } d && (d.Length != 64 || !d.All(char.IsAsciiHexDigit)))
        {
            return Bad("payload.definition_sha256 must be a SHA-256 hex digest.", "payload.definition_sha256");
        }

        if (request.BehaviorId is { Length: > 128 })
        {
            return Bad("behavior_id must be at most 128 characters.", "behavior_id");
        }

        if (request.Enforcement?.Mode is { } m && !(m.Equals("enforce", StringComparison.OrdinalIgnoreCase) || m.Equals("audit", StringComparison.OrdinalIgnoreCase)))
        {
            return Bad("enforcement.mode must be enforce or audit.", "enforcement.mode");
        }

        if (request.SessionId is { } s && !TapPassSession.IsWellFormedId(s))
        {
            return Bad("session_id is malformed.", "session_id");
        }

        return null;
    }

    private async Task<TapPassReply<GovernResponse>> GovernCoreAsync(AgentIdentity identity, TapPassCall call, GovernRequest request, string pipelineId, BreakGlassState? breakGlass, CancellationToken cancellationToken)
    {
        if (ValidateGovern(request) is { } invalid)
        {
            return (await RejectAsync(identity, call, pipelineId, "tool.rejected", invalid, null).ConfigureAwait(false)).ToReply<GovernResponse>();
        }

        if (!_settings.Flags.TryResolve(call.Flags, identity, out var resolution, out var flagError))
        {
            return (await RejectAsync(identity, call, pipelineId, "tool.rejected", InvalidFlags(flagError!), null).ConfigureAwait(false)).ToReply<GovernResponse>();
        }

        var (joined, sessionFailure) = await JoinOrOpenSessionAsync(identity, call, request.SessionId ?? call.SessionId, pipelineId, "tool.rejected", cancellationToken).ConfigureAwait(false);
        if (sessionFailure is not null)
        {
            return sessionFailure.ToReply<GovernResponse>();
        }

        var session = joined!;

        await AuditLocksAsync(identity, resolution, session.Id, call.TaskId, pipelineId).ConfigureAwait(false);

        var flags = resolution.Flags;
        var tool = request.Payload.Tool;
        var args = request.Payload.Args is { ValueKind: JsonValueKind.Object } a ? a : (JsonElement?)null;
        var argsDigest = Digests.Json(args);
        var auditOnly = string.Equals(request.Enforcement?.Mode, "audit", StringComparison.OrdinalIgnoreCase);
        var suspended = auditOnly || breakGlass is { Level: "observe" };
        var mode = auditOnly ? GovernanceMode.Observe : flags.Mode;

        // Classification of the arguments (informational; a failure degrades).
        Classification? classification = null;
        var degraded = false;
        if (args is { } argsValue)
        {
            try
            {
                var raw = argsValue.GetRawText();
                var inspection = _inspector.Inspect(raw);
                classification = ClassifyDataStep.Floor(inspection.Classification, NormalizeInputStep.ValidatedEntities(inspection, raw.Length));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                EngineLog.StepFailed(_logger, PipelineStepNames.ClassifyData, ex.GetType().Name, pipelineId, false);
                degraded = true;
            }
        }
        else
        {
            classification = Classification.Public;
        }

        var decision = new GovernDecision();
        var wouldBlock = new List<string>();

        bool Enforced(string rule)
        {
            var action = ModeRules.Apply(mode, suspended, "block", out var would);
            if (would)
            {
                wouldBlock.Add(rule);
            }

            return action == "block";
        }

        // 1. Tool integrity.
        var violation = await CheckIntegrityAsync(session.Id, tool, request.Payload.DefinitionSha256?.ToLowerInvariant(), cancellationToken).ConfigureAwait(false);
        if (violation is not null && Enforced(ToolIntegrityRule))
        {
            decision.Block(ToolIntegrityRule, IntegrityError(tool, violation).Message);
            decision.Violation = violation;
        }

        // 2. Trust tier.
        var actual = EffectiveTier(identity, call);
        var requiredTool = RequiredTier(tool);
        var requiredData = classification is { } c ? RequiredTier(c) : null;
        var required = requiredTool is null ? requiredData : requiredData is null ? requiredTool : (requiredTool > requiredData ? requiredTool : requiredData);
        if (!decision.Decided && required is { } req && actual < req && Enforced(TrustTierRule))
        {
            decision.Block(TrustTierRule, TierError(req, actual, $"Tool '{tool}'").Message);
            decision.RequiredTier = req.ToWire();
            decision.ActualTier = actual.ToWire();
        }

        // 3. Tool rules (tools, email, files, db).
        Policy.Tools.ToolDecision? rules = null; // qualified: Core's internal TapPass.ToolDecision is visible here as well
        if (!decision.Decided)
        {
            rules = _settings.Tools.Evaluate(tool, args, flags);
            if (rules.IsBlock && Enforced(rules.BlockedBy ?? ToolRuleEvaluator.ToolPermissions))
            {
                decision.Block(rules.BlockedBy ?? ToolRuleEvaluator.ToolPermissions, rules.Reason ?? "tool call refused");
            }
            else if (rules.Outcome == "modify" && mode != GovernanceMode.Observe && !auditOnly)
            {
                decision.Outcome = GovernOutcomes.Modify;
                decision.BlockedBy = rules.BlockedBy;
                decision.Reason = rules.Reason;
                decision.ModifiedArgs = rules.ModifiedArgs;
            }
        }

        // 4. Approvals: a resume token is checked and consumed, otherwise a rule may hold the call.
        string? approvalId = null;
        if (!decision.Decided)
        {
            var subject = "tool:" + tool;
            if (call.ResumeToken is { } token)
            {
                var (used, refusal) = await ConsumeResumeTokenAsync(identity, token, session.Id, subject, argsDigest, classification ?? Classification.Public, cancellationToken).ConfigureAwait(false);
                approvalId = used;
                if (refusal is not null && Enforced(PipelineStepNames.RequireApproval))
                {
                    if (refusal.StatusCode == 428)
                    {
                        decision.Hold(refusal.Error);
                        approvalId = refusal.Error.ApprovalId;
                    }
                    else
                    {
                        decision.Block(PipelineStepNames.RequireApproval, refusal.Error.Reason ?? "The resume token was rejected.");
                    }
                }
            }
            else if (MatchToolRule(tool, classification, args) is { } rule && Enforced(PipelineStepNames.RequireApproval))
            {
                var held = await RequestApprovalAsync(identity, session.Id, subject, argsDigest, rule, classification, cancellationToken).ConfigureAwait(false);
                decision.Hold(held);
                approvalId = held.ApprovalId;
            }
        }

        if (!decision.Decided && decision.Outcome != GovernOutcomes.Modify)
        {
            decision.Outcome = GovernOutcomes.Allow;
            if (wouldBlock.Count > 0)
            {
                decision.Reason = $"Allowed without enforcement ({(auditOnly ? "enforcement=audit" : suspended ? "break-glass observe" : "mode=" + flags.Values["mode"])}); would have been refused by: {string.Join(", ", wouldBlock)}.";
            }
        }

        string? capability = null;
        if (decision.Outcome is GovernOutcomes.Allow or GovernOutcomes.Modify)
        {
            capability = _capabilityTokens.Issue(identity.Org, identity.AgentUuid, session.Id, tool,
                decision.Outcome == GovernOutcomes.Modify ? Digests.Json(decision.ModifiedArgs) : argsDigest);
        }

        var now = _time.GetUtcNow();
        var details = new JsonBag()
            .Add("kinds", (rules?.Kinds ?? _settings.Tools.Recognise(tool, args)).ToString().ToLowerInvariant())
            .Add("enforcement", auditOnly ? "audit" : "enforce")
            .Add("violation", decision.Violation)
            .Add("required_tier", decision.RequiredTier)
            .Add("actual_tier", decision.ActualTier)
            .Add("approval_id", approvalId)
            .Add("behavior_id", request.BehaviorId)
            .Add("degraded", degraded);
        if (wouldBlock.Count > 0)
        {
            details.Add("would_block", wouldBlock);
        }

        if (breakGlass is not null)
        {
            details.Add("break_glass", breakGlass.Level);
        }

        await AppendAsync(Event(decision.Outcome == GovernOutcomes.NeedsApproval ? "approval.requested" : "tool.decided", identity, session.Id, call.TaskId, pipelineId) with
        {
            Decision = decision.Outcome,
            BlockedBy = decision.BlockedBy,
            Reason = decision.Reason,
            Tool = tool,
            Classification = classification?.ToWire(),
            Flags = flags.ToDictionary(),
            Details = details.Build(),
        }).ConfigureAwait(false);

        var response = new GovernResponse
        {
            Outcome = decision.Outcome,
            Reason = decision.Reason,
            BlockedBy = decision.BlockedBy,
            PipelineUuid = pipelineId,
            DecidedAt = now,
            ModifiedArgs = decision.ModifiedArgs,
            Approval = decision.Approval,
            RequiredTier = decision.RequiredTier,
            ActualTier = decision.ActualTier,
            Violation = decision.Violation,
            CapabilityToken = capability,
            Classification = classification?.ToWire(),
            SessionId = session.Id,
            TaskId = call.TaskId,
            AgentUuid = identity.AgentUuid,
            AuditUrl = AuditUrl(session.Id),
        };
        return TapPassReply<GovernResponse>.Ok(response, Headers(identity, session.Id, classification, pipelineId));
    }

    private sealed class GovernDecision
    {
        public string Outcome { get; set; } = GovernOutcomes.Allow;
        public string? BlockedBy { get; set; }
        public string? Reason { get; set; }
        public JsonElement? ModifiedArgs { get; set; }
        public ApprovalInfo? Approval { get; set; }
        public string? RequiredTier { get; set; }
        public string? ActualTier { get; set; }
        public string? Violation { get; set; }

        /// <summary>Blocked or held: later rules do not run.</summary>
        public bool Decided => Outcome is GovernOutcomes.Block or GovernOutcomes.NeedsApproval;

        public void Block(string rule, string reason)
        {
            Outcome = GovernOutcomes.Block;
            BlockedBy = rule;
            Reason = reason;
            ModifiedArgs = null;
        }

        public void Hold(ErrorBody approval)
        {
            Outcome = GovernOutcomes.NeedsApproval;
            BlockedBy = PipelineStepNames.RequireApproval;
            Reason = approval.Reason ?? approval.Message;
            ModifiedArgs = null;
            Approval = new ApprovalInfo
            {
                ApprovalId = approval.ApprovalId,
                ApprovalUrl = approval.ApprovalUrl,
                ResumeToken = approval.ResumeToken,
                ExpiresAt = approval.ExpiresAt,
                Status = ApprovalStatus.Pending,
                Rule = approval.BlockedBy,
                Reason = approval.Reason,
            };
        }
    }

    // ---- execution reports ---------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken)
    {
        if (!Authenticate(call, out var identity, out var error))
        {
            return TapPassReply<ExecutionReportResponse>.Fail(StatusOf(error!), Correlate(error!, null, null, null, Ids.New(Ids.Pipeline)));
        }

        return await ReportExecutionAsync(identity, call, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the outcome of a governed tool run (metadata only: ok, duration, result size, error type).</summary>
    internal async Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(AgentIdentity identity, TapPassCall call, ExecutionReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(report);
        var pipelineId = Ids.New(Ids.Pipeline);
        try
        {
            if ((CheckCallHeaders(identity, call) ?? CheckIdempotencyKey(call.IdempotencyKey) ?? ValidateReport(report)) is { } invalid)
            {
                return (await RejectAsync(identity, call, pipelineId, "tool.rejected", invalid, null).ConfigureAwait(false)).ToReply<ExecutionReportResponse>();
            }

            return await IdempotentAsync(
                identity, call, "govern.execution", () => Serialize(report, TapPassJsonContext.Default.ExecutionReport), pipelineId,
                async () =>
                {
                    string? sessionId = null;
                    if ((report.SessionId ?? call.SessionId) is { } requested)
                    {
                        var (session, sessionError) = await AccessSessionAsync(identity, requested, requireLive: false, cancellationToken).ConfigureAwait(false);
                        if (sessionError is not null)
                        {
                            return (await RejectAsync(identity, call, pipelineId, "tool.rejected", sessionError, null).ConfigureAwait(false)).ToReply<ExecutionReportResponse>();
                        }

                        sessionId = session!.Id;
                    }

                    var record = await AppendAsync(Event("tool.executed", identity, sessionId, call.TaskId, pipelineId) with
                    {
                        Decision = report.Ok ? "ok" : "error",
                        Tool = report.Tool,
                        Details = new JsonBag()
                            .Add("ok", report.Ok)
                            .Add("duration_ms", report.DurationMs)
                            .Add("result_size", report.ResultSize is { } size ? size.ToString(System.Globalization.CultureInfo.InvariantCulture) : null)
                            .Add("error_type", report.ErrorType)
                            .Add("decision_pipeline_uuid", report.PipelineUuid)
                            .Build(),
                    }).ConfigureAwait(false);
                    return TapPassReply<ExecutionReportResponse>.Ok(new ExecutionReportResponse { Recorded = true, EventId = record.Event.EventId }, Headers(identity, sessionId, null, pipelineId));
                },
                reply => new IdempotentOutcome { StatusCode = reply.StatusCode, Headers = reply.Headers, Error = reply.Error, Execution = reply.Value },
                outcome => outcome.Execution is { } e ? TapPassReply<ExecutionReportResponse>.Ok(e, outcome.Headers, outcome.StatusCode) : TapPassReply<ExecutionReportResponse>.Fail(outcome.StatusCode, outcome.Error!, outcome.Headers)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditUnavailableException or StoreFullException)
        {
            return TapPassReply<ExecutionReportResponse>.Fail(503, Correlate(Unavailable(), identity, null, call.TaskId, pipelineId));
        }
    }

    private static ErrorBody? ValidateReport(ExecutionReport report)
    {
        static ErrorBody Bad(string message, string param) => new() { Type = ErrorTypes.InvalidRequest, Message = message, Param = param };

        if (!IsToolName(report.Tool))
        {
            return Bad("tool must be 1-128 characters of [A-Za-z0-9_.:/-].", "tool");
        }

        if (!double.IsFinite(report.DurationMs) || report.DurationMs < 0 || report.DurationMs > 1e9)
        {
            return Bad("duration_ms must be a non-negative number.", "duration_ms");
        }

        if (report.ResultSize is < 0)
        {
            return Bad("result_size must not be negative.", "result_size");
        }

        if (report.ErrorType is { } t && (t.Length is 0 or > 128 || !t.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '`' or '+' or '<' or '>' or ',' or '[' or ']')))
        {
            return Bad("error_type must be a type name (1-128 characters).", "error_type");
        }

        if (report.PipelineUuid is { } p && !Ids.IsWellFormed(p, Ids.Pipeline))
        {
            return Bad("pipeline_uuid is malformed.", "pipeline_uuid");
        }

        if (report.SessionId is { } s && !TapPassSession.IsWellFormedId(s))
        {
            return Bad("session_id is malformed.", "session_id");
        }

        return null;
    }
}
