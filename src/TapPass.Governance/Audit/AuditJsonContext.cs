using System.Text.Json.Serialization;

namespace TapPass.Governance.Audit;

/// <summary>Source-generated JSON for stored audit events (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(AuditHead))]
[JsonSerializable(typeof(EcPublicJwk))]
[JsonSerializable(typeof(long))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;

/// <summary>The signed head of the chain, kept in the database so that a truncated tail is detected.</summary>
internal sealed record AuditHead(long Seq, string Hash, string EventId);
