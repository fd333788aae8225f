using System.Text.Json;
using TapPass.Protocol;

namespace TapPass;

/// <summary>Base of every TapPass error.</summary>
public class TapPassException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TapPassException() : this("TapPass error.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The protocol error type (PROTOCOL.md §4), when the gateway answered with one.</summary>
    public string? ErrorType { get; set; }

    /// <summary>The HTTP status the gateway answered with, when any.</summary>
    public int? StatusCode { get; set; }

    /// <summary>
    /// Maps an error answer to the exception the SDK raises for it (PROTOCOL.md §4 table).
    /// </summary>
    /// <param name="statusCode">HTTP status.</param>
    /// <param name="error">Error body.</param>
    /// <param name="retryAfter">Retry-After header, if any.</param>
    /// <param name="gatewayUrl">Gateway base URL, for connection errors.</param>
    public static TapPassException FromError(int statusCode, ErrorBody error, TimeSpan? retryAfter = null, string? gatewayUrl = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var message = string.IsNullOrEmpty(error.Message) ? $"TapPass gateway answered {statusCode} ({error.Type})." : error.Message;
        TapPassException ex = error.Type switch
        {
            ErrorTypes.PolicyBlock => new PolicyBlockException(message)
            {
                BlockedBy = error.BlockedBy ?? "",
                Reason = error.Reason ?? message,
                StepDetails = error.StepDetails ?? [],
            },
            ErrorTypes.ApprovalRequired => new ApprovalRequiredException(message)
            {
                ApprovalUrl = error.ApprovalUrl ?? "",
                ApprovalId = error.ApprovalId,
                ResumeToken = error.ResumeToken ?? "",
                ExpiresAt = error.ExpiresAt,
                Reason = error.Reason,
                BlockedBy = error.BlockedBy,
            },
            ErrorTypes.TrustTierDenied => new TrustTierDeniedException(message)
            {
                RequiredTier = error.RequiredTier ?? "",
                ActualTier = error.ActualTier ?? "",
            },
            ErrorTypes.BreakGlassActive => new BreakGlassActiveException(message)
            {
                Level = error.Level ?? "halt",
                ExpiresAt = error.ExpiresAt,
                RetryAfter = retryAfter,
                Reason = error.Reason,
            },
            ErrorTypes.ToolIntegrityViolation => new ToolIntegrityViolationException(message)
            {
                ToolName = error.ToolName ?? "",
                Violation = error.Violation ?? "",
            },
            ErrorTypes.SessionForbidden => new TapPassAuthorizationException(message),
            ErrorTypes.Unauthorized => new TapPassAuthenticationException(message),
            ErrorTypes.InvalidFlags => new TapPassConfigException(message, "Flags")
            {
                Flag = error.Flag,
                Value = error.Value,
                Allowed = error.Allowed ?? [],
            },
            ErrorTypes.UpstreamError => new TapPassUpstreamException(message) { Provider = error.Provider },
            ErrorTypes.Unavailable => new TapPassConnectionException(message, gatewayUrl),
            _ => new TapPassException(message),
        };

        if (ex is GovernanceDecision decision)
        {
            decision.SessionId = error.SessionId;
            decision.TaskId = error.TaskId;
            decision.AgentUuid = error.AgentUuid;
            decision.PipelineUuid = error.PipelineUuid;
            decision.AuditUrl = error.AuditUrl;
            decision.Classification = ClassificationNames.TryParse(error.Classification, out var c) ? c : null;
        }

        ex.StatusCode = statusCode;
        ex.ErrorType = error.Type;
        return ex;
    }
}

/// <summary>The gateway could not be reached or stayed unavailable after retries. Governance fails closed.</summary>
public class TapPassConnectionException : TapPassException
{
    /// <summary>Creates the exception.</summary>
    public TapPassConnectionException() : this("TapPass gateway unreachable.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassConnectionException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassConnectionException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message (never contains the key).</param>
    /// <param name="url">Gateway URL.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassConnectionException(string message, string? url, Exception? innerException = null) : base(message, innerException) => Url = url;

    /// <summary>The gateway URL that was tried.</summary>
    public string? Url { get; }
}

/// <summary>Invalid configuration or flags.</summary>
public class TapPassConfigException : TapPassException
{
    /// <summary>Creates the exception.</summary>
    public TapPassConfigException() : this("Invalid TapPass configuration.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassConfigException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassConfigException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="setting">The offending setting, e.g. <c>Url</c> or <c>TAPPASS_URL</c>.</param>
    public TapPassConfigException(string message, string? setting) : base(message) => Setting = setting;

    /// <summary>The offending setting.</summary>
    public string? Setting { get; }

    /// <summary>The offending flag (<c>invalid_flags</c>).</summary>
    public string? Flag { get; init; }

    /// <summary>The offending value (<c>invalid_flags</c>).</summary>
    public string? Value { get; init; }

    /// <summary>Allowed values (<c>invalid_flags</c>).</summary>
    public IReadOnlyList<string> Allowed { get; init; } = [];
}

/// <summary>The API key was missing or rejected (401).</summary>
public class TapPassAuthenticationException : TapPassException
{
    /// <summary>Creates the exception.</summary>
    public TapPassAuthenticationException() : this("TapPass API key missing or invalid.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassAuthenticationException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassAuthenticationException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The caller may not use the session it named (403 <c>session_forbidden</c>).</summary>
public class TapPassAuthorizationException : TapPassException
{
    /// <summary>Creates the exception.</summary>
    public TapPassAuthorizationException() : this("Access to this TapPass session is forbidden.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassAuthorizationException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassAuthorizationException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The upstream model provider failed (502/504 <c>upstream_error</c>).</summary>
public class TapPassUpstreamException : TapPassException
{
    /// <summary>Creates the exception.</summary>
    public TapPassUpstreamException() : this("Upstream model provider failed.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TapPassUpstreamException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TapPassUpstreamException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The provider that failed.</summary>
    public string? Provider { get; init; }
}

/// <summary>
/// Base of the governance decisions the gateway takes. Never retried. Carries the five correlation ids.
/// ASP.NET Core maps every subclass to a typed ProblemDetails.
/// </summary>
public abstract class GovernanceDecision : TapPassException
{
    /// <summary>Creates the exception.</summary>
    protected GovernanceDecision() : this("Governance decision.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    protected GovernanceDecision(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    protected GovernanceDecision(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Session id.</summary>
    public string? SessionId { get; set; }

    /// <summary>Task id.</summary>
    public string? TaskId { get; set; }

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; set; }

    /// <summary>Audit page of the session.</summary>
    public string? AuditUrl { get; set; }

    /// <summary>Classification of the request, when known.</summary>
    public Classification? Classification { get; set; }
}

/// <summary>A policy step blocked the request (403 <c>policy_block</c>).</summary>
public class PolicyBlockException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public PolicyBlockException() : this("Request blocked by policy.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public PolicyBlockException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public PolicyBlockException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The step that blocked, e.g. <c>detect_pii</c>.</summary>
    public string BlockedBy { get; init; } = "";

    /// <summary>Human-readable reason.</summary>
    public string Reason { get; init; } = "";

    /// <summary>Step-specific details (types found, scores), never matched values.</summary>
    public IReadOnlyDictionary<string, JsonElement> StepDetails { get; init; } = new Dictionary<string, JsonElement>();
}

/// <summary>
/// The answer was masked or redacted. Raised only when the agent was built with <c>RaiseOnRedaction = true</c>;
/// the masked response is in <see cref="Response"/>.
/// </summary>
public class RedactionAppliedException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public RedactionAppliedException() : this("Redaction applied.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public RedactionAppliedException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public RedactionAppliedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The redactions (types and replacements, never values).</summary>
    public IReadOnlyList<RedactionInfo> Redactions { get; init; } = [];

    /// <summary>The masked response.</summary>
    public ChatResponse? Response { get; init; }
}

/// <summary>The call is held for a human approval (428 <c>approval_required</c>).</summary>
public class ApprovalRequiredException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public ApprovalRequiredException() : this("Approval required.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public ApprovalRequiredException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public ApprovalRequiredException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Reviewer page.</summary>
    public string ApprovalUrl { get; init; } = "";

    /// <summary>Approval id.</summary>
    public string? ApprovalId { get; init; }

    /// <summary>Token to resume the identical call once approved.</summary>
    public string ResumeToken { get; init; } = "";

    /// <summary>Expiry of the approval request.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Why approval is needed.</summary>
    public string? Reason { get; init; }

    /// <summary>The rule that asked for approval.</summary>
    public string? BlockedBy { get; init; }
}

/// <summary>The caller's trust tier is below the minimum (403 <c>trust_tier_denied</c>).</summary>
public class TrustTierDeniedException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public TrustTierDeniedException() : this("Trust tier too low.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public TrustTierDeniedException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public TrustTierDeniedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Minimum tier.</summary>
    public string RequiredTier { get; init; } = "";

    /// <summary>Caller's tier.</summary>
    public string ActualTier { get; init; } = "";
}

/// <summary>An operator declared break-glass (503 <c>break_glass_active</c>).</summary>
public class BreakGlassActiveException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public BreakGlassActiveException() : this("Break-glass active.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public BreakGlassActiveException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public BreakGlassActiveException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary><c>halt</c> or <c>observe</c>.</summary>
    public string Level { get; init; } = "halt";

    /// <summary>End of the break-glass period.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Retry-After the gateway sent.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Operator's reason.</summary>
    public string? Reason { get; init; }
}

/// <summary>A tool's definition changed or is unregistered (422 <c>tool_integrity_violation</c>).</summary>
public class ToolIntegrityViolationException : GovernanceDecision
{
    /// <summary>Creates the exception.</summary>
    public ToolIntegrityViolationException() : this("Tool integrity violation.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    public ToolIntegrityViolationException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Cause.</param>
    public ToolIntegrityViolationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Tool name.</summary>
    public string ToolName { get; init; } = "";

    /// <summary><c>definition_changed</c> or <c>unregistered_tool</c>.</summary>
    public string Violation { get; init; } = "";
}
