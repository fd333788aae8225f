namespace TapPass.AspNetCore;

/// <summary>The RFC 9457 <c>type</c> URIs of the problems TapPass writes.</summary>
public static class TapPassProblemTypes
{
    private const string Base = "https://tappass.dev/problems/";

    /// <summary>403: a policy step blocked the request (<see cref="PolicyBlockException"/>).</summary>
    public const string PolicyBlock = Base + "policy-block";

    /// <summary>428: the call is held for a human approval (<see cref="ApprovalRequiredException"/>).</summary>
    public const string ApprovalRequired = Base + "approval-required";

    /// <summary>403: the caller's trust tier is too low (<see cref="TrustTierDeniedException"/>).</summary>
    public const string TrustTierDenied = Base + "trust-tier-denied";

    /// <summary>503: an operator declared break-glass (<see cref="BreakGlassActiveException"/>).</summary>
    public const string BreakGlassActive = Base + "break-glass-active";

    /// <summary>422: a tool's definition changed or is unregistered (<see cref="ToolIntegrityViolationException"/>).</summary>
    public const string ToolIntegrityViolation = Base + "tool-integrity-violation";

    /// <summary>422: the answer was masked and the application asked to be told (<see cref="RedactionAppliedException"/>).</summary>
    public const string RedactionApplied = Base + "redaction-applied";

    /// <summary>403: another governance decision (a <see cref="GovernanceDecision"/> subclass with no mapping of its own).</summary>
    public const string GovernanceDecision = Base + "governance-decision";

    /// <summary>503: the gateway could not be reached; governance fails closed (<see cref="TapPassConnectionException"/>).</summary>
    public const string GovernanceUnavailable = Base + "governance-unavailable";

    /// <summary>400: governance flags were rejected (<see cref="TapPassConfigException"/> for <c>invalid_flags</c>).</summary>
    public const string InvalidFlags = Base + "invalid-flags";

    /// <summary>403: the request named a session it may not use (<see cref="TapPassAuthorizationException"/>).</summary>
    public const string SessionForbidden = Base + "session-forbidden";

    /// <summary>502: the upstream model provider failed (<see cref="TapPassUpstreamException"/>).</summary>
    public const string UpstreamError = Base + "upstream-error";

    /// <summary>500: TapPass is misconfigured on the server, e.g. a rejected API key (<see cref="TapPassConfigException"/>,
    /// <see cref="TapPassAuthenticationException"/>).</summary>
    public const string ConfigurationError = Base + "configuration-error";

    /// <summary>500: any other <see cref="TapPassException"/>.</summary>
    public const string GatewayError = Base + "gateway-error";

    /// <summary>400: a TapPass session header was malformed, repeated or conflicting.</summary>
    public const string InvalidSessionHeader = Base + "invalid-session-header";
}
