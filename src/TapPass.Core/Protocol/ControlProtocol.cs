using System.Text.Json;
using System.Text.Json.Serialization;

namespace TapPass.Protocol;

/// <summary>Body of <c>POST /v1/govern</c> (PROTOCOL.md §6).</summary>
public sealed class GovernRequest
{
    /// <summary>Always <c>TOOL_CALL</c> for tools.</summary>
    public string Type { get; set; } = "TOOL_CALL";

    /// <summary>Session id.</summary>
    public string? SessionId { get; set; }

    /// <summary>Caller-chosen id of the behaviour (e.g. the wrapper instance).</summary>
    public string? BehaviorId { get; set; }

    /// <summary>The tool call.</summary>
    public GovernPayload Payload { get; set; } = new();

    /// <summary>Enforcement mode for this call.</summary>
    public GovernEnforcement? Enforcement { get; set; }
}

/// <summary>The tool call being governed.</summary>
public sealed class GovernPayload
{
    /// <summary>Tool name.</summary>
    public string Tool { get; set; } = "";

    /// <summary>Arguments as a JSON object.</summary>
    public JsonElement? Args { get; set; }

    /// <summary>SHA-256 (hex) of the tool's definition (name, description, JSON schema).</summary>
    public string? DefinitionSha256 { get; set; }

    /// <summary>Description of the tool, for registries.</summary>
    public string? Description { get; set; }
}

/// <summary>Enforcement options of a govern call.</summary>
public sealed class GovernEnforcement
{
    /// <summary><c>enforce</c> (default) or <c>audit</c> (decide and record, never block).</summary>
    public string Mode { get; set; } = "enforce";
}

/// <summary>Outcomes of a govern decision.</summary>
public static class GovernOutcomes
{
    /// <summary>Run the tool.</summary>
    public const string Allow = "allow";
    /// <summary>Do not run the tool.</summary>
    public const string Block = "block";
    /// <summary>Hold for a human approval.</summary>
    public const string NeedsApproval = "needs_approval";
    /// <summary>Run the tool with <see cref="GovernResponse.ModifiedArgs"/>.</summary>
    public const string Modify = "modify";
}

/// <summary>Answer of <c>POST /v1/govern</c>.</summary>
public sealed class GovernResponse
{
    /// <summary>allow, block, needs_approval or modify.</summary>
    public string Outcome { get; set; } = GovernOutcomes.Block;

    /// <summary>Human-readable reason.</summary>
    public string? Reason { get; set; }

    /// <summary>Rule that decided.</summary>
    public string? BlockedBy { get; set; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; set; }

    /// <summary>Decision time.</summary>
    public DateTimeOffset? DecidedAt { get; set; }

    /// <summary>Rewritten arguments (<c>modify</c>).</summary>
    public JsonElement? ModifiedArgs { get; set; }

    /// <summary>Approval request (<c>needs_approval</c>).</summary>
    public ApprovalInfo? Approval { get; set; }

    /// <summary>Minimum tier, on a tier refusal.</summary>
    public string? RequiredTier { get; set; }

    /// <summary>Caller's tier, on a tier refusal.</summary>
    public string? ActualTier { get; set; }

    /// <summary>Integrity violation kind, on an integrity refusal.</summary>
    public string? Violation { get; set; }

    /// <summary>ES256 JWS scoped to this tool call (on allow/modify).</summary>
    public string? CapabilityToken { get; set; }

    /// <summary>Classification of the arguments.</summary>
    public string? Classification { get; set; }

    /// <summary>Session id.</summary>
    public string? SessionId { get; set; }

    /// <summary>Task id.</summary>
    public string? TaskId { get; set; }

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Audit page of the session.</summary>
    public string? AuditUrl { get; set; }
}

/// <summary>An approval request (also the approval part of a held answer tool call, <see cref="ToolApproval"/>).</summary>
public class ApprovalInfo
{
    /// <summary>Approval id (<c>apr_…</c>).</summary>
    public string? ApprovalId { get; set; }

    /// <summary>Reviewer page.</summary>
    public string? ApprovalUrl { get; set; }

    /// <summary>Token to resume with once approved.</summary>
    public string? ResumeToken { get; set; }

    /// <summary>Expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>pending, approved, denied, expired, used.</summary>
    public string? Status { get; set; }

    /// <summary>What is held (tool or model), for reviewers.</summary>
    public string? Subject { get; set; }

    /// <summary>Rule that asked for it.</summary>
    public string? Rule { get; set; }

    /// <summary>Reviewer's reason.</summary>
    public string? Reason { get; set; }
}

/// <summary>Body of <c>POST /v1/approvals/{id}/decide</c>.</summary>
public sealed class ApprovalDecisionRequest
{
    /// <summary><c>approve</c> or <c>deny</c>.</summary>
    public string Decision { get; set; } = "";

    /// <summary>Reviewer's reason.</summary>
    public string? Reason { get; set; }
}

/// <summary>Body of <c>POST /v1/govern/execution</c>: the outcome of a governed tool run.</summary>
public sealed class ExecutionReport
{
    /// <summary>Session id.</summary>
    public string? SessionId { get; set; }

    /// <summary>Pipeline run id of the govern decision.</summary>
    public string? PipelineUuid { get; set; }

    /// <summary>Tool name.</summary>
    public string Tool { get; set; } = "";

    /// <summary>Whether the tool completed without throwing.</summary>
    public bool Ok { get; set; }

    /// <summary>Duration in milliseconds.</summary>
    public double DurationMs { get; set; }

    /// <summary>Size of the serialised result in bytes.</summary>
    public long? ResultSize { get; set; }

    /// <summary>Exception type name on failure (never the message).</summary>
    public string? ErrorType { get; set; }
}

/// <summary>Answer of <c>POST /v1/govern/execution</c>.</summary>
public sealed class ExecutionReportResponse
{
    /// <summary>Whether the report was recorded.</summary>
    public bool Recorded { get; set; }

    /// <summary>Audit event id.</summary>
    public string? EventId { get; set; }
}

/// <summary>Body of <c>POST /v1/sessions</c>.</summary>
public sealed class SessionCreateRequest
{
    /// <summary>Allow other agents of the org to join.</summary>
    public bool? Shared { get; set; }

    /// <summary>Free-form metadata.</summary>
    public Dictionary<string, string>? Metadata { get; set; }
}

/// <summary>A session (PROTOCOL.md §9).</summary>
public sealed class SessionResponse
{
    /// <summary>Session id (<c>ses_…</c>).</summary>
    public string SessionId { get; set; } = "";

    /// <summary>Owning agent's uuid.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Audit page.</summary>
    public string? AuditUrl { get; set; }

    /// <summary>Expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Whether it is closed.</summary>
    public bool? Closed { get; set; }
}

/// <summary>Answer of <c>GET /health</c>.</summary>
public sealed class HealthResponse
{
    /// <summary><c>healthy</c> or <c>unhealthy</c>.</summary>
    public string Status { get; set; } = "";

    /// <summary>Product version.</summary>
    public string? Version { get; set; }

    /// <summary>API generation implemented (0.6.0 for this contract).</summary>
    public string? ApiVersion { get; set; }
}

/// <summary>Answer of <c>GET /v1/models</c>.</summary>
public sealed class ModelList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object { get; set; } = "list";

    /// <summary>Models.</summary>
    public List<ModelInfo> Data { get; set; } = [];
}

/// <summary>A routed model.</summary>
public sealed class ModelInfo
{
    /// <summary>Model id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Always <c>model</c>.</summary>
    public string Object { get; set; } = "model";

    /// <summary>Unix creation time.</summary>
    public long Created { get; set; }

    /// <summary>Provider.</summary>
    public string OwnedBy { get; set; } = "";
}

/// <summary>Source-generated JSON metadata for every protocol type (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(GovernRequest))]
[JsonSerializable(typeof(GovernResponse))]
[JsonSerializable(typeof(ApprovalInfo))]
[JsonSerializable(typeof(ApprovalDecisionRequest))]
[JsonSerializable(typeof(ExecutionReport))]
[JsonSerializable(typeof(ExecutionReportResponse))]
[JsonSerializable(typeof(SessionCreateRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class TapPassJsonContext : JsonSerializerContext;

/// <summary>Reads message content written as a string, null, or an array of content parts.</summary>
internal sealed class MessageContentConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.StartArray:
                var sb = new System.Text.StringBuilder();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new JsonException("content parts must be objects");
                    }

                    string? type = null, text = null;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var name = reader.GetString();
                        reader.Read();
                        if (name == "type" && reader.TokenType == JsonTokenType.String)
                        {
                            type = reader.GetString();
                        }
                        else if (name == "text" && reader.TokenType == JsonTokenType.String)
                        {
                            text = reader.GetString();
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }

                    if (type == "text" && text is not null)
                    {
                        if (sb.Length > 0)
                        {
                            sb.Append('\n');
                        }

                        sb.Append(text);
                    }
                }

                return sb.ToString();
            default:
                throw new JsonException("content must be a string, null or an array of content parts");
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
