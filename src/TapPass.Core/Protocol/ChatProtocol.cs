using System.Text.Json;
using System.Text.Json.Serialization;

namespace TapPass.Protocol;

/// <summary>An OpenAI chat-completions request body (PROTOCOL.md §3). Unknown fields are kept and passed through.</summary>
public sealed class ChatCompletionRequest
{
    /// <summary>Model name; the gateway's default when null.</summary>
    public string? Model { get; set; }

    /// <summary>The conversation, oldest first.</summary>
    public List<ChatCompletionMessage> Messages { get; set; } = [];

    /// <summary>Whether to stream the answer as server-sent events.</summary>
    public bool? Stream { get; set; }

    /// <summary>Streaming options (<c>include_usage</c>).</summary>
    public StreamOptions? StreamOptions { get; set; }

    /// <summary>Sampling temperature.</summary>
    public double? Temperature { get; set; }

    /// <summary>Legacy maximum number of tokens to generate.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Maximum number of completion tokens to generate.</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>Tools the model may call.</summary>
    public List<ToolDefinition>? Tools { get; set; }

    /// <summary>Tool choice, passed through as written.</summary>
    public JsonElement? ToolChoice { get; set; }

    /// <summary>Response format, passed through as written.</summary>
    public JsonElement? ResponseFormat { get; set; }

    /// <summary>End-user id.</summary>
    public string? User { get; set; }

    /// <summary>Free-form metadata.</summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Fields this type does not model; passed through to the upstream model.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>Streaming options of a chat request.</summary>
public sealed class StreamOptions
{
    /// <summary>Ask for a final chunk carrying <c>usage</c>.</summary>
    public bool? IncludeUsage { get; set; }
}

/// <summary>One message of a conversation.</summary>
public sealed class ChatCompletionMessage
{
    /// <summary><c>system</c>, <c>developer</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</summary>
    public string Role { get; set; } = "user";

    /// <summary>Text content. Array-of-parts content is accepted on input; its text parts are joined.</summary>
    [JsonConverter(typeof(MessageContentConverter))]
    public string? Content { get; set; }

    /// <summary>Optional participant name.</summary>
    public string? Name { get; set; }

    /// <summary>Tool calls made by the assistant.</summary>
    public List<ToolCall>? ToolCalls { get; set; }

    /// <summary>For <c>tool</c> messages: the call being answered.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>Creates a message.</summary>
    public static ChatCompletionMessage Create(string role, string? content) => new() { Role = role, Content = content };
}

/// <summary>A tool call made by the model.</summary>
public sealed class ToolCall
{
    /// <summary>Call id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Always <c>function</c>.</summary>
    public string Type { get; set; } = "function";

    /// <summary>The function and its JSON arguments.</summary>
    public FunctionCall Function { get; set; } = new();
}

/// <summary>A function invocation.</summary>
public sealed class FunctionCall
{
    /// <summary>Function name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Arguments as a JSON string (OpenAI convention).</summary>
    public string Arguments { get; set; } = "{}";
}

/// <summary>A tool offered to the model.</summary>
public sealed class ToolDefinition
{
    /// <summary>Always <c>function</c>.</summary>
    public string Type { get; set; } = "function";

    /// <summary>The function's definition.</summary>
    public FunctionDefinition Function { get; set; } = new();
}

/// <summary>A function's name, description and JSON schema.</summary>
public sealed class FunctionDefinition
{
    /// <summary>Name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Description.</summary>
    public string? Description { get; set; }

    /// <summary>JSON schema of the parameters.</summary>
    public JsonElement? Parameters { get; set; }

    /// <summary>Strict schema adherence.</summary>
    public bool? Strict { get; set; }
}

/// <summary>A <c>chat.completion</c> response with the TapPass extension object.</summary>
public sealed class ChatCompletionResponse
{
    /// <summary>Completion id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Always <c>chat.completion</c>.</summary>
    public string Object { get; set; } = "chat.completion";

    /// <summary>Unix time of creation.</summary>
    public long Created { get; set; }

    /// <summary>Model that answered.</summary>
    public string Model { get; set; } = "";

    /// <summary>Choices (one, in practice).</summary>
    public List<ChatChoice> Choices { get; set; } = [];

    /// <summary>Token usage.</summary>
    public UsageInfo? Usage { get; set; }

    /// <summary>System fingerprint, when the upstream gives one.</summary>
    public string? SystemFingerprint { get; set; }

    /// <summary>TapPass governance metadata.</summary>
    public TapPassMetadata? Tappass { get; set; }
}

/// <summary>A completion choice.</summary>
public sealed class ChatChoice
{
    /// <summary>Index.</summary>
    public int Index { get; set; }

    /// <summary>The assistant message.</summary>
    public ChatCompletionMessage Message { get; set; } = new() { Role = "assistant" };

    /// <summary><c>stop</c>, <c>length</c>, <c>tool_calls</c>, <c>content_filter</c>.</summary>
    public string? FinishReason { get; set; }
}

/// <summary>A <c>chat.completion.chunk</c> of a stream; the terminal error event has only <see cref="Error"/>.</summary>
public sealed class ChatCompletionChunk
{
    /// <summary>Completion id.</summary>
    public string? Id { get; set; }

    /// <summary>Always <c>chat.completion.chunk</c>.</summary>
    public string? Object { get; set; }

    /// <summary>Unix time of creation.</summary>
    public long? Created { get; set; }

    /// <summary>Model.</summary>
    public string? Model { get; set; }

    /// <summary>Deltas; empty on the final usage chunk.</summary>
    public List<ChunkChoice>? Choices { get; set; }

    /// <summary>Usage, on the final chunk.</summary>
    public UsageInfo? Usage { get; set; }

    /// <summary>TapPass metadata, on the final chunk.</summary>
    public TapPassMetadata? Tappass { get; set; }

    /// <summary>Set on a mid-stream governance error event (PROTOCOL.md §3.1).</summary>
    public ErrorBody? Error { get; set; }
}

/// <summary>A streamed choice delta.</summary>
public sealed class ChunkChoice
{
    /// <summary>Index.</summary>
    public int Index { get; set; }

    /// <summary>The delta.</summary>
    public ChatDelta Delta { get; set; } = new();

    /// <summary>Finish reason on the last delta.</summary>
    public string? FinishReason { get; set; }
}

/// <summary>Incremental message content.</summary>
public sealed class ChatDelta
{
    /// <summary>Role, on the first delta.</summary>
    public string? Role { get; set; }

    /// <summary>Text delta.</summary>
    public string? Content { get; set; }

    /// <summary>Tool-call deltas.</summary>
    public List<ToolCallDelta>? ToolCalls { get; set; }
}

/// <summary>A streamed tool-call fragment.</summary>
public sealed class ToolCallDelta
{
    /// <summary>Position of the call.</summary>
    public int Index { get; set; }

    /// <summary>Call id, on the first fragment.</summary>
    public string? Id { get; set; }

    /// <summary><c>function</c>, on the first fragment.</summary>
    public string? Type { get; set; }

    /// <summary>Function name and argument fragment.</summary>
    public FunctionCallDelta? Function { get; set; }
}

/// <summary>A function-call fragment.</summary>
public sealed class FunctionCallDelta
{
    /// <summary>Name, on the first fragment.</summary>
    public string? Name { get; set; }

    /// <summary>Arguments fragment.</summary>
    public string? Arguments { get; set; }
}

/// <summary>OpenAI token usage.</summary>
public sealed class UsageInfo
{
    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; set; }

    /// <summary>Completion tokens.</summary>
    public int CompletionTokens { get; set; }

    /// <summary>Total tokens.</summary>
    public int TotalTokens { get; set; }
}

/// <summary>The <c>tappass</c> object of a response (PROTOCOL.md §3).</summary>
public sealed class TapPassMetadata
{
    /// <summary>PUBLIC, INTERNAL, CONFIDENTIAL or RESTRICTED.</summary>
    public string Classification { get; set; } = "PUBLIC";

    /// <summary>Whether the request was blocked.</summary>
    public bool Blocked { get; set; }

    /// <summary>Effective flags, lower-case.</summary>
    public Dictionary<string, string> Flags { get; set; } = [];

    /// <summary>Session id.</summary>
    public string? SessionId { get; set; }

    /// <summary>Task id.</summary>
    public string? TaskId { get; set; }

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; set; }

    /// <summary>Turn index in the session.</summary>
    public int TurnIndex { get; set; }

    /// <summary>Link to the session's audit page.</summary>
    public string? AuditUrl { get; set; }

    /// <summary>Detections (type and position only, never the matched text).</summary>
    public List<DetectionInfo> Detections { get; set; } = [];

    /// <summary>Redactions applied.</summary>
    public List<RedactionInfo> Redactions { get; set; } = [];

    /// <summary>Pipeline steps with outcome and timing.</summary>
    public List<StepInfo> Steps { get; set; } = [];

    /// <summary>Cost of the call.</summary>
    public CostInfo? Cost { get; set; }

    /// <summary>Prompt-injection score of the input, 0..1.</summary>
    public double? InjectionScore { get; set; }

    /// <summary>True when a non-critical step failed and the pipeline continued.</summary>
    public bool Degraded { get; set; }

    /// <summary>Set while an operator's break-glass <c>observe</c> period is active.</summary>
    public BreakGlassInfo? BreakGlass { get; set; }

    /// <summary>Capability tokens for tool calls in this response, by tool-call id.</summary>
    public Dictionary<string, string>? CapabilityTokens { get; set; }

    /// <summary>
    /// Tool calls the model proposed that an approval rule holds, in the order the model made them. A held call is NOT
    /// in the answer's <c>tool_calls</c> (so a client that runs every tool call it sees cannot run it) and has no
    /// capability token; it is described only here. Once a reviewer approved it, govern the identical tool call
    /// (<c>POST /v1/govern</c>, same session, <see cref="ToolApproval.Tool"/> and <see cref="ToolApproval.Arguments"/>)
    /// with <see cref="ApprovalInfo.ResumeToken"/>.
    /// </summary>
    public List<ToolApproval>? ToolApprovals { get; set; }
}

/// <summary>
/// A tool call of a chat answer held for approval (<c>tappass.tool_approvals[]</c>): the call, withheld from
/// <c>tool_calls</c>, and its pending approval.
/// </summary>
public sealed class ToolApproval : ApprovalInfo
{
    /// <summary>The tool-call id the model gave the call.</summary>
    public string ToolCallId { get; set; } = "";

    /// <summary>The tool's name.</summary>
    public string Tool { get; set; } = "";

    /// <summary>
    /// The call's arguments (a JSON text) as governed: exactly what <c>tool_calls</c> would have carried, after the tool
    /// rules' modifications. Re-send them unchanged to <c>/v1/govern</c> with the resume token.
    /// </summary>
    public string Arguments { get; set; } = "{}";

    /// <summary>
    /// Lowercase hex SHA-256 of the canonical JSON of <see cref="Arguments"/> (of <c>{}</c> when they are not a JSON
    /// object): the digest the approval is bound to, so only the identical call redeems it.
    /// </summary>
    public string ArgumentsSha256 { get; set; } = "";
}

/// <summary>One detection. Never contains the matched text.</summary>
public sealed class DetectionInfo
{
    /// <summary>Step that detected it.</summary>
    public string Step { get; set; } = "";

    /// <summary>Entity type, e.g. EMAIL.</summary>
    public string Type { get; set; } = "";

    /// <summary><c>input</c> or <c>output</c>.</summary>
    public string Phase { get; set; } = "input";

    /// <summary>Start offset (UTF-16 code units) in the message it was found in.</summary>
    public int Start { get; set; }

    /// <summary>Length in UTF-16 code units.</summary>
    public int Length { get; set; }

    /// <summary>Action taken: mask, redact, block, flag, none.</summary>
    public string Action { get; set; } = "flag";

    /// <summary>Confidence 0..1.</summary>
    public double Score { get; set; } = 1.0;

    /// <summary>Index of the message in <c>messages</c> (input phase), when known.</summary>
    public int? MessageIndex { get; set; }
}

/// <summary>One redaction. Never contains the original value.</summary>
public sealed class RedactionInfo
{
    /// <summary>Entity type.</summary>
    public string Type { get; set; } = "";

    /// <summary>Replacement text, e.g. <c>[MASKED_EMAIL]</c>.</summary>
    public string Replacement { get; set; } = "";

    /// <summary><c>input</c> or <c>output</c>.</summary>
    public string Phase { get; set; } = "input";
}

/// <summary>A pipeline step's outcome and duration.</summary>
public sealed class StepInfo
{
    /// <summary>Step name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Outcome: pass, mask, redact, flag, block, skip, error.</summary>
    public string Outcome { get; set; } = "pass";

    /// <summary>Duration in microseconds.</summary>
    public long DurationUs { get; set; }
}

/// <summary>Cost of a call.</summary>
public sealed class CostInfo
{
    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; set; }

    /// <summary>Completion tokens.</summary>
    public int CompletionTokens { get; set; }

    /// <summary>Cost in USD.</summary>
    public decimal Usd { get; set; }
}

/// <summary>Break-glass state reported on responses.</summary>
public sealed class BreakGlassInfo
{
    /// <summary><c>halt</c> or <c>observe</c>.</summary>
    public string Level { get; set; } = "";

    /// <summary>When it ends.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Operator's reason.</summary>
    public string? Reason { get; set; }
}

/// <summary>The body of every non-2xx answer (PROTOCOL.md §4).</summary>
public sealed class ErrorEnvelope
{
    /// <summary>The error.</summary>
    public ErrorBody Error { get; set; } = new();
}

/// <summary>An error with its type-specific fields (PROTOCOL.md §4).</summary>
public sealed class ErrorBody
{
    /// <summary>Error type, e.g. <c>policy_block</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>Human-readable message.</summary>
    public string Message { get; set; } = "";

    /// <summary>OpenAI-style code, when any.</summary>
    public string? Code { get; set; }

    /// <summary>The offending request parameter (<c>invalid_request</c>).</summary>
    public string? Param { get; set; }

    /// <summary>Step that blocked.</summary>
    public string? BlockedBy { get; set; }

    /// <summary>Human-readable reason.</summary>
    public string? Reason { get; set; }

    /// <summary>Classification of the request.</summary>
    public string? Classification { get; set; }

    /// <summary>Step-specific details (types found, score, …), never matched values.</summary>
    public Dictionary<string, JsonElement>? StepDetails { get; set; }

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

    /// <summary>Approval page (<c>approval_required</c>).</summary>
    public string? ApprovalUrl { get; set; }

    /// <summary>Approval id (<c>approval_required</c>).</summary>
    public string? ApprovalId { get; set; }

    /// <summary>Token to resume the held call (<c>approval_required</c>).</summary>
    public string? ResumeToken { get; set; }

    /// <summary>Expiry of an approval or break-glass period.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Minimum tier (<c>trust_tier_denied</c>).</summary>
    public string? RequiredTier { get; set; }

    /// <summary>Caller's tier (<c>trust_tier_denied</c>).</summary>
    public string? ActualTier { get; set; }

    /// <summary>Break-glass level (<c>break_glass_active</c>).</summary>
    public string? Level { get; set; }

    /// <summary>Tool name (<c>tool_integrity_violation</c>).</summary>
    public string? ToolName { get; set; }

    /// <summary>Violation kind (<c>tool_integrity_violation</c>).</summary>
    public string? Violation { get; set; }

    /// <summary>Offending flag (<c>invalid_flags</c>).</summary>
    public string? Flag { get; set; }

    /// <summary>Offending value (<c>invalid_flags</c>).</summary>
    public string? Value { get; set; }

    /// <summary>Allowed values (<c>invalid_flags</c>).</summary>
    public List<string>? Allowed { get; set; }

    /// <summary>Upstream provider (<c>upstream_error</c>).</summary>
    public string? Provider { get; set; }
}

/// <summary>Error type names (PROTOCOL.md §4).</summary>
public static class ErrorTypes
{
    /// <summary>403.</summary>
    public const string PolicyBlock = "policy_block";
    /// <summary>428.</summary>
    public const string ApprovalRequired = "approval_required";
    /// <summary>403.</summary>
    public const string TrustTierDenied = "trust_tier_denied";
    /// <summary>503 with Retry-After.</summary>
    public const string BreakGlassActive = "break_glass_active";
    /// <summary>422.</summary>
    public const string ToolIntegrityViolation = "tool_integrity_violation";
    /// <summary>403.</summary>
    public const string SessionForbidden = "session_forbidden";
    /// <summary>400.</summary>
    public const string InvalidFlags = "invalid_flags";
    /// <summary>400 / 413.</summary>
    public const string InvalidRequest = "invalid_request";
    /// <summary>401.</summary>
    public const string Unauthorized = "unauthorized";
    /// <summary>502 / 504.</summary>
    public const string UpstreamError = "upstream_error";
    /// <summary>503.</summary>
    public const string Unavailable = "unavailable";
    /// <summary>409 / 422.</summary>
    public const string IdempotencyConflict = "idempotency_conflict";
    /// <summary>404.</summary>
    public const string NotFound = "not_found";
    /// <summary>[ours, SDK side] The gateway's answer could not be used (malformed, oversize, wrong content type).</summary>
    public const string InvalidResponse = "invalid_response";
    /// <summary>[ours, SDK side] A non-2xx answer without a TapPass error envelope and no better-known type.</summary>
    public const string HttpError = "http_error";
}
