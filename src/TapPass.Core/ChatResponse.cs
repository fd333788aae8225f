using TapPass.Protocol;

namespace TapPass;

/// <summary>A governed chat answer.</summary>
public sealed class ChatResponse
{
    /// <summary>The model's answer (masked per flags).</summary>
    public string Content { get; init; } = "";

    /// <summary>Model that answered.</summary>
    public string Model { get; init; } = "";

    /// <summary>Token usage.</summary>
    public TokenUsage Usage { get; init; } = new();

    /// <summary>What the governance pipeline did.</summary>
    public PipelineResult Pipeline { get; init; } = new();

    /// <summary>
    /// Tool calls the model asked for (already checked by the gateway's tool rules). Calls held for approval are not
    /// here: see <see cref="PipelineResult.ToolApprovals"/>.
    /// </summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    /// <summary>Why the model stopped.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>Task id.</summary>
    public string? TaskId { get; init; }

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid { get; init; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; init; }

    /// <summary>Audit page of the session.</summary>
    public string? AuditUrl { get; init; }
}

/// <summary>Token usage of a call.</summary>
public sealed class TokenUsage
{
    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Completion tokens.</summary>
    public int CompletionTokens { get; init; }

    /// <summary>Total tokens.</summary>
    public int TotalTokens { get; init; }
}

/// <summary>What the governance pipeline decided and found.</summary>
public sealed class PipelineResult
{
    /// <summary>Data classification.</summary>
    public Classification Classification { get; init; }

    /// <summary>Whether the request was blocked.</summary>
    public bool Blocked { get; init; }

    /// <summary>Effective flags after locks, per-call and agent defaults.</summary>
    public IReadOnlyDictionary<string, string> Flags { get; init; } = new Dictionary<string, string>();

    /// <summary>Detections (type, position, action; never values).</summary>
    public IReadOnlyList<DetectionInfo> Detections { get; init; } = [];

    /// <summary>Redactions applied.</summary>
    public IReadOnlyList<RedactionInfo> Redactions { get; init; } = [];

    /// <summary>Steps with outcome and timing.</summary>
    public IReadOnlyList<StepInfo> Steps { get; init; } = [];

    /// <summary>Cost, when the gateway reports it.</summary>
    public CostInfo? Cost { get; init; }

    /// <summary>Prompt-injection score of the input.</summary>
    public double? InjectionScore { get; init; }

    /// <summary>True when a non-critical step failed and the pipeline continued.</summary>
    public bool Degraded { get; init; }

    /// <summary>Break-glass <c>observe</c> state, when active.</summary>
    public BreakGlassInfo? BreakGlass { get; init; }

    /// <summary>Turn index in the session.</summary>
    public int TurnIndex { get; init; }

    /// <summary>
    /// Tool calls the model proposed that an approval rule holds, in the model's order: each with its tool name,
    /// governed arguments and pending approval. A held call is never in <see cref="ChatResponse.ToolCalls"/> (nor a
    /// <c>FunctionCallContent</c> of the <c>IChatClient</c> views), so nothing runs it by accident; once a reviewer
    /// approved it, run it through <c>Govern</c> with the same tool and arguments and the approval's resume token.
    /// </summary>
    public IReadOnlyList<ToolApproval> ToolApprovals { get; init; } = [];
}
