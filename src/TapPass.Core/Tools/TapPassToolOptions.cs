using System.Text.Json;

namespace TapPass;

/// <summary>
/// Options of a governed tool (<see cref="TapPassToolExtensions"/>). They are read once, when the tool is wrapped:
/// changing them afterwards does not change the wrapper.
/// </summary>
public sealed class TapPassToolOptions
{
    /// <summary>
    /// Tool name sent to the gateway, used verbatim; 1-128 characters of <c>[A-Za-z0-9_.:/-]</c>. When null, the name
    /// of the delegate's method (a lambda has none and needs one). Ignored for an <c>AIFunction</c>, whose name is kept.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>
    /// Whether a name taken from the method is converted to snake_case (<c>SendEmailAsync</c> → <c>send_email</c>, an
    /// <c>Async</c> suffix dropped), the form the gateway's tool, email, file and database rules recognise. Default true.
    /// </summary>
    public bool SnakeCaseName { get; set; } = true;

    /// <summary>
    /// Description of the tool, part of its definition hash. When null, the method's
    /// <see cref="System.ComponentModel.DescriptionAttribute"/>, if any. Ignored for an <c>AIFunction</c>.
    /// </summary>
    public string? Description { get; set; }

    /// <summary><see cref="GovernMode.Enforce"/> (default) or <see cref="GovernMode.Audit"/>.</summary>
    public GovernMode Mode { get; set; } = GovernMode.Enforce;

    /// <summary>Flags for this tool's calls, merged over the agent's default flags.</summary>
    public IDictionary<string, string> Flags { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Session to join, overriding <see cref="TapPassSession.Current"/> (explicit passing).</summary>
    public string? SessionId { get; set; }

    /// <summary>Agent uuid to claim, overriding the session's and <see cref="TapPassAgentOptions.AgentUuid"/>.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Task id inside the session.</summary>
    public string? TaskId { get; set; }

    /// <summary>
    /// Resume token of a call that was held for approval (<see cref="ApprovalRequiredException.ResumeToken"/>), sent as
    /// <c>X-TapPass-Resume-Token</c>. Usually set through <see cref="TapPassToolExtensions.WithResumeToken{TDelegate}"/>
    /// or <see cref="GovernedAIFunction.WithResumeToken"/>.
    /// </summary>
    public string? ResumeToken { get; set; }

    /// <summary>Caller-chosen id of the behaviour, sent as <c>behavior_id</c> (at most 128 characters).</summary>
    public string? BehaviorId { get; set; }

    /// <summary>Whether the outcome is reported to <c>POST /v1/govern/execution</c> after each run. Default true.</summary>
    public bool ReportExecution { get; set; } = true;

    /// <summary>
    /// Serialises arguments (and the result, to measure its size) and derives the parameter schema. Default: the
    /// <c>Microsoft.Extensions.AI</c> defaults (<c>AIJsonUtilities.DefaultOptions</c>) without indentation. For an
    /// <c>AIFunction</c>, the function's own options are used.
    /// </summary>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
