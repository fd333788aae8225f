using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TapPass.Governance.Identity;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Pipeline.Steps;
using TapPass.Governance.Policy.Tools;
using TapPass.Governance.State;
using TapPass.Protocol;

namespace TapPass.Governance.Engine;

/// <summary>Trust tiers, approvals, tool integrity and break-glass (PROTOCOL.md §6–8).</summary>
internal sealed partial class GovernanceEngine
{
    private const string ToolIntegrityRule = "tool_integrity";
    private const string TrustTierRule = "trust_tier";
    private const int ResumeSecretLength = 43;

    // ---- tool integrity ------------------------------------------------------------------------------------------

    /// <summary>
    /// Checks a tool definition digest: <c>unregistered_tool</c> when registration is required and the tool is not
    /// registered; <c>definition_changed</c> when it differs from the registered digest or from the digest pinned
    /// earlier in the session (the first digest a session sees is pinned). Null when fine.
    /// </summary>
    private async Task<string?> CheckIntegrityAsync(string sessionId, string tool, string? digest, CancellationToken cancellationToken)
    {
        if (_settings.RequireToolRegistration && !_settings.RegisteredTools.ContainsKey(tool))
        {
            return "unregistered_tool";
        }

        if (_settings.RegisteredTools.TryGetValue(tool, out var expected) && !string.IsNullOrEmpty(expected) &&
            (digest is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected.ToLowerInvariant()), Encoding.ASCII.GetBytes(digest.ToLowerInvariant()))))
        {
            return "definition_changed";
        }

        if (digest is not null &&
            await _stores.ToolPins.PinAsync(sessionId, tool, digest, cancellationToken).ConfigureAwait(false) == PinResult.Changed)
        {
            return "definition_changed";
        }

        return null;
    }

    private static ErrorBody IntegrityError(string tool, string violation) => new()
    {
        Type = ErrorTypes.ToolIntegrityViolation,
        Message = violation == "unregistered_tool"
            ? $"Tool '{tool}' is not registered with the gateway."
            : $"The definition of tool '{tool}' changed since this session first saw it.",
        ToolName = tool,
        Violation = violation,
        BlockedBy = ToolIntegrityRule,
    };

    /// <summary><c>tool_integrity</c> on the tools a chat request offers the model.</summary>
    private sealed class ChatToolIntegrityStep(GovernanceEngine engine) : IPipelineStep
    {
        public string Name => PipelineStepNames.ToolIntegrity;

        public bool Critical => true;

        public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
        {
            if (run.Request.Tools is not { Count: > 0 } tools)
            {
                return StepResult.Skip;
            }

            foreach (var tool in tools)
            {
                var f = tool.Function;
                var violation = await engine.CheckIntegrityAsync(run.Session.Id, f.Name, Digests.ToolDefinition(f.Name, f.Description, f.Parameters), cancellationToken).ConfigureAwait(false);
                if (violation is null)
                {
                    continue;
                }

                var action = ModeRules.Apply(run, "block", Name);
                if (action == "block")
                {
                    var error = IntegrityError(f.Name, violation);
                    error.Classification = run.Classification.ToWire();
                    return new StepResult("block", new Refusal(422, error));
                }

                return new StepResult(action);
            }

            return StepResult.Pass;
        }
    }

    // ---- trust tiers ---------------------------------------------------------------------------------------------

    /// <summary>The minimum tier for a classification: the highest tier required at or below it.</summary>
    private TrustTier? RequiredTier(Classification classification)
    {
        TrustTier? required = null;
        foreach (var (c, tier) in _settings.ClassificationMinimumTiers)
        {
            if (c <= classification && (required is null || tier > required))
            {
                required = tier;
            }
        }

        return required;
    }

    /// <summary>The minimum tier for a tool: the highest tier of every glob it matches.</summary>
    private TrustTier? RequiredTier(string tool)
    {
        TrustTier? required = null;
        foreach (var (glob, tier) in _settings.ToolMinimumTiers)
        {
            if (Glob.IsMatch(glob, tool) && (required is null || tier > required))
            {
                required = tier;
            }
        }

        return required;
    }

    private static ErrorBody TierError(TrustTier required, TrustTier actual, string what) => new()
    {
        Type = ErrorTypes.TrustTierDenied,
        Message = $"{what} requires trust tier '{required.ToWire()}'; this caller has '{actual.ToWire()}'.",
        RequiredTier = required.ToWire(),
        ActualTier = actual.ToWire(),
        BlockedBy = TrustTierRule,
    };

    /// <summary><c>trust_tier</c> on a chat's classification.</summary>
    private sealed class ChatTrustTierStep(GovernanceEngine engine) : IPipelineStep
    {
        public string Name => PipelineStepNames.TrustTier;

        public bool Critical => true;

        public ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
        {
            var actual = EffectiveTier(run.Identity, run.Call);
            if (engine.RequiredTier(run.Classification) is not { } required || actual >= required)
            {
                return ValueTask.FromResult(StepResult.Pass);
            }

            var action = ModeRules.Apply(run, "block", Name);
            if (action != "block")
            {
                return ValueTask.FromResult(new StepResult(action));
            }

            var error = TierError(required, actual, $"Data classified {run.Classification.ToWire()}");
            error.Classification = run.Classification.ToWire();
            return ValueTask.FromResult(new StepResult("block", new Refusal(403, error)));
        }
    }

    /// <summary>
    /// Checks on each tool call the model made (as it would be returned, after tool-rule modifications): the tool's
    /// minimum tier (a refusal refuses the answer), then the approval rules exactly as <c>/v1/govern</c> applies them
    /// (tool glob, classification of the arguments, argument predicate). A held call gets a pending approval bound to
    /// it — the same binding <c>/v1/govern</c> uses (agent, session, <c>tool:&lt;name&gt;</c>, SHA-256 of the canonical
    /// arguments), so its resume token is redeemed by governing the identical tool call — and no capability token; the
    /// step then withholds it from the answer's <c>tool_calls</c> (fail closed: a client that runs every tool call it
    /// sees cannot run it) and it is described only in <c>tappass.tool_approvals</c>. Every other call gets its
    /// capability token.
    /// </summary>
    private async ValueTask<ToolCallCheck> CheckModelToolCallAsync(ChatRun run, ToolCall call, CancellationToken cancellationToken)
    {
        var tool = call.Function.Name;
        var actual = EffectiveTier(run.Identity, run.Call);
        if (RequiredTier(tool) is { } required && actual < required &&
            ModeRules.Apply(run, "block", PipelineStepNames.TrustTier) == "block")
        {
            var error = TierError(required, actual, $"Tool '{tool}'");
            error.Classification = run.Classification.ToWire();
            return ToolCallCheck.Refuse(new Refusal(403, error));
        }

        var args = ToolCallsStep.ParseArguments(call.Function.Arguments) is { ValueKind: JsonValueKind.Object } parsed ? parsed : (JsonElement?)null;
        var argsDigest = Digests.Json(args);
        if (_settings.ApprovalRules.Count > 0)
        {
            var classification = ClassifyArguments(args);
            if (MatchToolRule(tool, classification, args) is { } rule &&
                ModeRules.Apply(run, "block", PipelineStepNames.RequireApproval) == "block")
            {
                var subject = "tool:" + tool;
                var held = await RequestApprovalAsync(run.Identity, run.Session.Id, subject, argsDigest, rule, classification, cancellationToken).ConfigureAwait(false);
                run.ToolApprovals.Add(new ToolApproval
                {
                    ToolCallId = call.Id,
                    Tool = tool,
                    Arguments = string.IsNullOrWhiteSpace(call.Function.Arguments) ? "{}" : call.Function.Arguments,
                    ArgumentsSha256 = argsDigest,
                    ApprovalId = held.ApprovalId,
                    ApprovalUrl = held.ApprovalUrl,
                    ResumeToken = held.ResumeToken,
                    ExpiresAt = held.ExpiresAt,
                    Status = ApprovalStatus.Pending,
                    Subject = subject,
                    Rule = rule.Name,
                    Reason = held.Reason,
                });
                return ToolCallCheck.Held;
            }
        }

        run.CapabilityTokens[call.Id] = _capabilityTokens.Issue(run.Identity.Org, run.Identity.AgentUuid, run.Session.Id, tool, argsDigest);
        return ToolCallCheck.Pass;
    }

    /// <summary>The classification of tool-call arguments, as <c>/v1/govern</c> computes it (no arguments: PUBLIC).</summary>
    private Classification ClassifyArguments(JsonElement? args)
    {
        if (args is not { } value)
        {
            return Classification.Public;
        }

        var raw = value.GetRawText();
        var inspection = _inspector.Inspect(raw);
        return ClassifyDataStep.Floor(inspection.Classification, NormalizeInputStep.ValidatedEntities(inspection, raw.Length));
    }

    // ---- approvals -----------------------------------------------------------------------------------------------

    private static string Binding(AgentIdentity identity, string sessionId, string subject, string payloadSha256) =>
        Digests.Text($"{identity.Org}\n{identity.AgentUuid}\n{sessionId}\n{subject}\n{payloadSha256}");

    /// <summary>SHA-256 of the canonical chat request, without the stream options (the same call streamed or not).</summary>
    private static string ChatPayloadDigest(ChatCompletionRequest request)
    {
        var element = JsonSerializer.SerializeToElement(request, TapPassJsonContext.Default.ChatCompletionRequest);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach (var p in element.EnumerateObject())
            {
                if (p.Name is not ("stream" or "stream_options"))
                {
                    p.WriteTo(w);
                }
            }

            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        return Digests.Json(doc.RootElement);
    }

    private static bool ArgumentMatches(ApprovalRule rule, JsonElement? args)
    {
        if (rule.Argument is null)
        {
            return true;
        }

        if (args is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(rule.Argument, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (rule.Operator == "exists")
        {
            return true;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText();
        if (rule.Operator is "gt" or "gte" or "lt" or "lte")
        {
            if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ||
                !decimal.TryParse(rule.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold))
            {
                return false;
            }

            return rule.Operator switch
            {
                "gt" => number > threshold,
                "gte" => number >= threshold,
                "lt" => number < threshold,
                _ => number <= threshold,
            };
        }

        return rule.Operator switch
        {
            "eq" => string.Equals(text, rule.Value, StringComparison.OrdinalIgnoreCase),
            "ne" => !string.Equals(text, rule.Value, StringComparison.OrdinalIgnoreCase),
            "contains" => rule.Value is not null && text.Contains(rule.Value, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
    }

    /// <summary>The first rule that holds a tool call (tool glob, classification, argument predicate), or null.</summary>
    private ApprovalRule? MatchToolRule(string tool, Classification? classification, JsonElement? args) =>
        _settings.ApprovalRules.FirstOrDefault(r =>
            (r.Tool is null || Glob.IsMatch(r.Tool, tool)) &&
            (r.MinClassification is null || (classification is { } c && c >= r.MinClassification)) &&
            ArgumentMatches(r, args));

    /// <summary>The first rule that holds a chat (classification-only rules), or null.</summary>
    private ApprovalRule? MatchChatRule(Classification classification) =>
        _settings.ApprovalRules.FirstOrDefault(r => r.Tool is null && r.Argument is null && r.MinClassification is { } min && classification >= min);

    /// <summary>Creates a pending approval bound to the call and returns its error body (428 approval_required).</summary>
    private async Task<ErrorBody> RequestApprovalAsync(AgentIdentity identity, string sessionId, string subject, string payloadSha256, ApprovalRule rule, Classification? classification, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var id = Ids.New(Ids.Approval);
        var secret = Base62.Random(ResumeSecretLength);
        var approval = new ApprovalRecord
        {
            Id = id,
            Org = identity.Org,
            AgentId = identity.AgentId,
            AgentUuid = identity.AgentUuid,
            SessionId = sessionId,
            Subject = subject,
            BindingSha256 = Binding(identity, sessionId, subject, payloadSha256),
            ResumeTokenSha256 = Digests.Text(secret),
            Rule = rule.Name,
            Reason = $"Rule '{rule.Name}' requires a human approval for {subject}.",
            Classification = classification?.ToWire(),
            CreatedAt = now,
            ExpiresAt = now + _settings.ApprovalLifetime,
        };
        await _stores.Approvals.CreateAsync(approval, cancellationToken).ConfigureAwait(false);
        return new ErrorBody
        {
            Type = ErrorTypes.ApprovalRequired,
            Message = approval.Reason,
            BlockedBy = PipelineStepNames.RequireApproval,
            Reason = approval.Reason,
            ApprovalId = id,
            ApprovalUrl = ApprovalUrl(id),
            ResumeToken = id + "." + secret,
            ExpiresAt = approval.ExpiresAt,
            Classification = classification?.ToWire(),
        };
    }

    /// <summary>
    /// Validates and consumes a resume token for the identical call. Returns the approval id when it may proceed,
    /// or an error: 403 <c>policy_block</c> (<c>blocked_by = require_approval</c>) for a malformed, unknown, denied,
    /// expired, used or mismatched token; 428 again (same token) while it is still pending.
    /// </summary>
    private async Task<(string? ApprovalId, Refusal? Refusal)> ConsumeResumeTokenAsync(AgentIdentity identity, string token, string sessionId, string subject, string payloadSha256, Classification classification, CancellationToken cancellationToken)
    {
        Refusal Deny(string reason) => Refusal.PolicyBlock(PipelineStepNames.RequireApproval, reason, classification,
            new JsonBag().Add("resume", "rejected").Build());

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !Ids.IsWellFormed(token[..dot], Ids.Approval) || token.Length - dot - 1 != ResumeSecretLength)
        {
            return (null, Deny("The resume token is not valid."));
        }

        var approval = await _stores.Approvals.GetAsync(token[..dot], cancellationToken).ConfigureAwait(false);
        if (approval is null || approval.Org != identity.Org ||
            !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Digests.Text(token[(dot + 1)..])), Encoding.ASCII.GetBytes(approval.ResumeTokenSha256)))
        {
            return (null, Deny("The resume token is not valid."));
        }

        var now = _time.GetUtcNow();
        if (approval.Status is ApprovalStatus.Pending or ApprovalStatus.Approved && now >= approval.ExpiresAt)
        {
            await _stores.Approvals.TryUpdateAsync(approval, approval with { Status = ApprovalStatus.Expired }, cancellationToken).ConfigureAwait(false);
            return (null, Deny("The approval expired."));
        }

        if (!string.Equals(approval.BindingSha256, Binding(identity, sessionId, subject, payloadSha256), StringComparison.Ordinal))
        {
            return (null, Deny("The resume token does not match this call (agent, session, subject and arguments must be identical)."));
        }

        switch (approval.Status)
        {
            case ApprovalStatus.Pending:
                return (null, new Refusal(428, new ErrorBody
                {
                    Type = ErrorTypes.ApprovalRequired,
                    Message = "The approval is still pending.",
                    BlockedBy = PipelineStepNames.RequireApproval,
                    Reason = approval.Reason,
                    ApprovalId = approval.Id,
                    ApprovalUrl = ApprovalUrl(approval.Id),
                    ResumeToken = token,
                    ExpiresAt = approval.ExpiresAt,
                    Classification = approval.Classification,
                }));
            case ApprovalStatus.Denied:
                return (null, Deny("The approval was denied."));
            case ApprovalStatus.Approved:
                return await _stores.Approvals.TryUpdateAsync(approval, approval with { Status = ApprovalStatus.Used }, cancellationToken).ConfigureAwait(false)
                    ? (approval.Id, null)
                    : (null, Deny("The resume token was already used."));
            case ApprovalStatus.Expired:
                return (null, Deny("The approval expired."));
            default:
                return (null, Deny("The resume token was already used."));
        }
    }

    /// <summary><c>require_approval</c> on a chat: a resume token is checked and consumed; otherwise a
    /// classification rule may hold the call (428).</summary>
    private sealed class ChatApprovalStep(GovernanceEngine engine) : IPipelineStep
    {
        public string Name => PipelineStepNames.RequireApproval;

        public bool Critical => true;

        public async ValueTask<StepResult> RunAsync(ChatRun run, CancellationToken cancellationToken)
        {
            var subject = "model:" + run.Model;
            if (run.Call.ResumeToken is { } token)
            {
                var (approvalId, refusal) = await engine.ConsumeResumeTokenAsync(run.Identity, token, run.Session.Id, subject, ChatPayloadDigest(run.Request), run.Classification, cancellationToken).ConfigureAwait(false);
                run.ApprovalId = approvalId;
                return refusal is null ? StepResult.Pass : new StepResult("block", refusal);
            }

            if (engine.MatchChatRule(run.Classification) is not { } rule)
            {
                return StepResult.Pass;
            }

            var action = ModeRules.Apply(run, "block", Name);
            if (action != "block")
            {
                return new StepResult(action);
            }

            var error = await engine.RequestApprovalAsync(run.Identity, run.Session.Id, subject, ChatPayloadDigest(run.Request), rule, run.Classification, cancellationToken).ConfigureAwait(false);
            run.ApprovalId = error.ApprovalId;
            return new StepResult("block", new Refusal(428, error));
        }
    }

    // ---- break-glass ---------------------------------------------------------------------------------------------

    /// <summary>The org's break-glass state if active; an expired one is cleared and its end audited.</summary>
    private async Task<BreakGlassState?> ActiveBreakGlassAsync(string org)
    {
        var state = await _stores.BreakGlass.GetAsync(org, CancellationToken.None).ConfigureAwait(false);
        if (state is null)
        {
            return null;
        }

        if (_time.GetUtcNow() < state.ExpiresAt)
        {
            return state;
        }

        if (await _stores.BreakGlass.TryClearAsync(state, CancellationToken.None).ConfigureAwait(false))
        {
            await AppendAsync(new Audit.AuditEvent
            {
                Timestamp = _time.GetUtcNow(),
                EventType = "break_glass.ended",
                Org = org,
                AgentId = state.DeclaredBy,
                Decision = "allow",
                Reason = "Break-glass period expired.",
                Details = new JsonBag().Add("level", state.Level).Add("expired", true).Build(),
            }).ConfigureAwait(false);
        }

        return null;
    }
}
