using TapPass.Protocol;

namespace TapPass;

/// <summary>
/// Decisions raised from a successful answer on the caller's request (<c>RespectBreakGlass</c>,
/// <c>RaiseOnRedaction</c>), and the ambient-session bookkeeping every answer does. Shared by the agent and the
/// in-process <c>TapPassChatClient</c> so both raise the same exceptions with the same fields.
/// </summary>
internal static class AnswerDecisions
{
    /// <summary>
    /// The decision to throw for <paramref name="response"/>, or null: break-glass <c>observe</c> when
    /// <paramref name="respectBreakGlass"/>, then masking when <paramref name="raiseOnRedaction"/>.
    /// </summary>
    /// <param name="response">The answer.</param>
    /// <param name="respectBreakGlass">Raise <see cref="BreakGlassActiveException"/> for break-glass observe.</param>
    /// <param name="raiseOnRedaction">Raise <see cref="RedactionAppliedException"/> when something was masked.</param>
    /// <param name="origin">Where governance ran, for the message: "gateway" or "engine".</param>
    public static GovernanceDecision? Raised(ChatResponse response, bool respectBreakGlass, bool raiseOnRedaction, string origin)
    {
        if (respectBreakGlass && response.Pipeline.BreakGlass is { } breakGlass)
        {
            return WithIds(
                new BreakGlassActiveException($"Break-glass '{breakGlass.Level}' is active on the TapPass {origin}.")
                {
                    Level = string.IsNullOrEmpty(breakGlass.Level) ? "observe" : breakGlass.Level,
                    ExpiresAt = breakGlass.ExpiresAt,
                    Reason = breakGlass.Reason,
                    ErrorType = ErrorTypes.BreakGlassActive,
                    StatusCode = 200,
                },
                response);
        }

        if (raiseOnRedaction && response.Pipeline.Redactions.Count > 0)
        {
            var types = string.Join(", ", response.Pipeline.Redactions.Select(r => r.Type).Distinct(StringComparer.Ordinal));
            return WithIds(
                new RedactionAppliedException($"TapPass masked the exchange ({response.Pipeline.Redactions.Count} redactions: {types}).")
                {
                    Redactions = response.Pipeline.Redactions,
                    Response = response,
                    ErrorType = "redaction_applied",
                    StatusCode = 200,
                },
                response);
        }

        return null;
    }

    /// <summary>Records ids the gateway returned on the ambient <see cref="TapPassSession"/>, if there is one.</summary>
    /// <param name="sessionId">Session id.</param>
    /// <param name="agentUuid">Agent uuid.</param>
    /// <param name="auditUrl">Audit page.</param>
    /// <param name="taskId">Task id.</param>
    public static void ObserveAmbient(string? sessionId, string? agentUuid, string? auditUrl, string? taskId)
    {
        if (TapPassSession.Current is { } session)
        {
            session.Observe(sessionId, agentUuid, auditUrl);
            session.ObserveTask(taskId);
        }
    }

    private static GovernanceDecision WithIds(GovernanceDecision decision, ChatResponse response)
    {
        decision.SessionId = response.SessionId;
        decision.TaskId = response.TaskId;
        decision.AgentUuid = response.AgentUuid;
        decision.PipelineUuid = response.PipelineUuid;
        decision.AuditUrl = response.AuditUrl;
        decision.Classification = response.Pipeline.Classification;
        return decision;
    }
}
