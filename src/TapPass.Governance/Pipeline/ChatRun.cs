using System.Text.Json;
using TapPass.Governance.Detection;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Governance.Policy;
using TapPass.Governance.Providers;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Pipeline;

/// <summary>A refusal: the status and error body (correlation fields are added by the engine).</summary>
/// <param name="StatusCode">HTTP status.</param>
/// <param name="Error">Error body.</param>
/// <param name="RetryAfter">Retry-After, when any.</param>
internal sealed record Refusal(int StatusCode, ErrorBody Error, TimeSpan? RetryAfter = null)
{
    public static Refusal PolicyBlock(string blockedBy, string reason, Classification classification, Dictionary<string, JsonElement>? details = null, TimeSpan? retryAfter = null) =>
        new(403, new ErrorBody
        {
            Type = ErrorTypes.PolicyBlock,
            Message = $"Request blocked by {blockedBy}: {reason}",
            BlockedBy = blockedBy,
            Reason = reason,
            Classification = classification.ToWire(),
            StepDetails = details ?? [],
        }, retryAfter);
}

/// <summary>One text of the request that the pipeline inspects: a message's content.</summary>
internal sealed class InputText(int messageIndex, string role, string text)
{
    public int MessageIndex { get; } = messageIndex;
    public string Role { get; } = role;
    public string Text { get; } = text;
    public InspectionResult Inspection { get; set; } = InspectionResult.Empty;

    /// <summary>Entities after overlap resolution.</summary>
    public IReadOnlyList<EntityFinding> Entities { get; set; } = [];

    /// <summary>Entities to replace before the model sees the text.</summary>
    public List<Finding> ToMask { get; } = [];

    /// <summary>Whether injection and exfiltration detection apply (user and tool messages; not operator-written
    /// system/developer prompts or prior assistant answers).</summary>
    public bool IsUntrusted => Role is "user" or "tool";
}

/// <summary>The state of one governed chat call as it moves through the pipeline.</summary>
internal sealed class ChatRun
{
    public required AgentIdentity Identity { get; init; }
    public required TapPassCall Call { get; init; }
    public required ChatCompletionRequest Request { get; init; }
    public required FlagResolution Resolution { get; init; }
    public required SessionRecord Session { get; init; }
    public required int TurnIndex { get; init; }
    public required string PipelineId { get; init; }
    public required string Model { get; init; }
    public required IModelProvider Provider { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public string? TaskId { get; init; }
    public bool Stream { get; init; }

    /// <summary>Break-glass <c>observe</c> in force: blocking rules are suspended.</summary>
    public BreakGlassInfo? BreakGlassObserve { get; init; }

    public EffectiveFlags Flags => Resolution.Flags;

    public List<InputText> Texts { get; } = [];
    public List<DetectionInfo> Detections { get; } = [];
    public List<RedactionInfo> Redactions { get; } = [];
    public List<StepInfo> Steps { get; } = [];

    public Classification Classification { get; set; }
    public double InjectionScore { get; set; }
    public IReadOnlyList<string> InjectionSignals { get; set; } = [];
    public bool Degraded { get; set; }
    public Refusal? Refusal { get; set; }

    /// <summary>Steps that would have blocked had the mode allowed it (observe, warn, break-glass observe).</summary>
    public List<string> WouldBlock { get; } = [];

    public BudgetReservation? Budget { get; set; }
    public decimal EstimatedUsd { get; set; }

    /// <summary>Messages as sent to the provider (after masking).</summary>
    public IReadOnlyList<ChatCompletionMessage>? ProviderMessages { get; set; }

    /// <summary>The model's answer, and after scan_output the masked content.</summary>
    public ProviderResult? ModelResult { get; set; }
    public string? OutputContent { get; set; }
    public List<ToolCall> OutputToolCalls { get; } = [];
    public Dictionary<string, string> CapabilityTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Tool calls of the answer that an approval rule holds, in the model's order: withheld from
    /// <see cref="OutputToolCalls"/>, no capability token.</summary>
    public List<ToolApproval> ToolApprovals { get; } = [];

    /// <summary>The answer's finish reason: the model's, except that <c>tool_calls</c> becomes <c>stop</c> when every
    /// tool call was held for approval (the answer then has no tool calls).</summary>
    public string? OutputFinishReason =>
        ToolApprovals.Count > 0 && OutputToolCalls.Count == 0 && ModelResult?.FinishReason is "tool_calls" or "function_call"
            ? "stop"
            : ModelResult?.FinishReason;
    public CostInfo? Cost { get; set; }

    /// <summary>Extra Stopwatch ticks to add to a step (time spent elsewhere, e.g. streamed output scanning).</summary>
    public Dictionary<string, long> ExtraTicks { get; } = new(StringComparer.Ordinal);

    /// <summary>The approval that let this call through (resume token), when any.</summary>
    public string? ApprovalId { get; set; }

    /// <summary>Key of per-agent state (daily budget, rate limit): org and agent uuid.</summary>
    public string AgentKey => $"{Identity.Org}/{Identity.AgentUuid}";
}
