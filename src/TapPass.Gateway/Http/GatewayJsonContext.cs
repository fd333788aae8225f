using System.Text.Json;
using System.Text.Json.Serialization;
using TapPass.Governance.Audit;

namespace TapPass.Gateway.Http;

/// <summary>Body of <c>POST /v1/admin/break-glass</c>.</summary>
internal sealed class BreakGlassRequest
{
    public string? Level { get; set; }

    /// <summary>ISO 8601 duration, e.g. <c>PT30M</c>.</summary>
    public string? Duration { get; set; }

    public string? Reason { get; set; }
}

/// <summary>One audit record on the wire.</summary>
internal sealed class AuditRecordDto
{
    public long Seq { get; set; }

    public JsonElement Event { get; set; }

    public string PrevHash { get; set; } = "";

    public string Hash { get; set; } = "";

    public string Signature { get; set; } = "";

    /// <summary>Set when the signature was made once for the record's group commit: the sequence of the record whose
    /// hash it signs (a later record, whose hash chain covers this one). Absent when it signs this record's hash.</summary>
    public long? SignedSeq { get; set; }
}

/// <summary>Answer of <c>GET /v1/audit</c>.</summary>
internal sealed class AuditListResponse
{
    public string Object { get; set; } = "list";

    public List<AuditRecordDto> Data { get; set; } = [];

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? NextCursor { get; set; }
}

/// <summary>Answer of <c>GET /v1/audit/verify</c>.</summary>
internal sealed class AuditVerifyResponse
{
    public bool Verified { get; set; }

    public long EventsChecked { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FirstBadEvent { get; set; }
}

/// <summary>Answer of <c>GET /.well-known/jwks.json</c>.</summary>
internal sealed class JwksDocument
{
    public List<EcPublicJwk> Keys { get; set; } = [];
}

/// <summary>Source-generated JSON for the gateway's own wire types (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(BreakGlassRequest))]
[JsonSerializable(typeof(AuditListResponse))]
[JsonSerializable(typeof(AuditVerifyResponse))]
[JsonSerializable(typeof(JwksDocument))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
