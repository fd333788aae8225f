using System.Text.Json;
using TapPass.Protocol;

namespace TapPass.Governance.Audit;

/// <summary>
/// One audit event: metadata only (types, positions, decisions, cost), never prompt text, matched values, keys or
/// tokens unless content capture is explicitly enabled (then only in <see cref="Content"/>).
/// </summary>
internal sealed record AuditEvent
{
    /// <summary>Event id (<c>ae_…</c>); assigned by the log when empty.</summary>
    public string EventId { get; init; } = "";

    /// <summary>When it happened.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>e.g. <c>chat.completed</c>, <c>chat.blocked</c>, <c>tool.decided</c>, <c>tool.executed</c>,
    /// <c>session.opened</c>, <c>session.closed</c>, <c>approval.requested</c>, <c>approval.decided</c>,
    /// <c>break_glass.declared</c>, <c>break_glass.ended</c>, <c>flags.lock_applied</c>.</summary>
    public string EventType { get; init; } = "";

    /// <summary>Organisation.</summary>
    public string? Org { get; init; }

    /// <summary>Agent slug.</summary>
    public string? AgentId { get; init; }

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid { get; init; }

    /// <summary>Session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>Task id.</summary>
    public string? TaskId { get; init; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; init; }

    /// <summary>Outcome: allow, block, mask, flag, needs_approval, modify, error.</summary>
    public string? Decision { get; init; }

    /// <summary>Step or rule that decided.</summary>
    public string? BlockedBy { get; init; }

    /// <summary>Human-readable reason (no values).</summary>
    public string? Reason { get; init; }

    /// <summary>Classification.</summary>
    public string? Classification { get; init; }

    /// <summary>Model.</summary>
    public string? Model { get; init; }

    /// <summary>Tool name, for tool events.</summary>
    public string? Tool { get; init; }

    /// <summary>Effective flags.</summary>
    public IReadOnlyDictionary<string, string>? Flags { get; init; }

    /// <summary>Detections (type and position only).</summary>
    public IReadOnlyList<DetectionInfo>? Detections { get; init; }

    /// <summary>Steps with outcome and timing.</summary>
    public IReadOnlyList<StepInfo>? Steps { get; init; }

    /// <summary>Cost.</summary>
    public CostInfo? Cost { get; init; }

    /// <summary>Other metadata (no content).</summary>
    public IReadOnlyDictionary<string, JsonElement>? Details { get; init; }

    /// <summary>Captured content, only when the operator enabled content capture.</summary>
    public string? Content { get; init; }
}

/// <summary>An event as stored: sequence, hash chain and signature.</summary>
/// <param name="Sequence">Position in the chain (1-based).</param>
/// <param name="Event">The event.</param>
/// <param name="PrevHash">Hash of the previous record.</param>
/// <param name="Hash">SHA-256 (hex) of the canonical event with <c>seq</c> and <c>prev_hash</c>.</param>
/// <param name="Signature">ES256 signature (base64url) over the hash of record <paramref name="SignedSequence"/>, or
/// over this record's own hash when that is null. Empty in what <see cref="IAuditLog.AppendAsync"/> returns when the
/// log signs after the commit (<see cref="SqliteAuditLog"/>); records read back are signed.</param>
/// <param name="SignedSequence">When one signature covers a range of records: the sequence of the range's last
/// record, whose hash it signs and whose hash chain covers this record. Null when the signature is over this record's
/// own hash.</param>
internal sealed record AuditRecord(long Sequence, AuditEvent Event, string PrevHash, string Hash, string Signature, long? SignedSequence = null);

/// <summary>Filter for <see cref="IAuditLog.QueryAsync"/>.</summary>
internal sealed record AuditQuery
{
    public string? SessionId { get; init; }
    public string? AgentId { get; init; }
    public string? EventType { get; init; }
    public DateTimeOffset? Since { get; init; }
    public int Limit { get; init; } = 100;

    /// <summary>Opaque cursor from a previous page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>A page of audit records.</summary>
internal sealed record AuditPage(IReadOnlyList<AuditRecord> Records, string? NextCursor);

/// <summary>Result of verifying the whole chain.</summary>
internal sealed record AuditVerification(bool Verified, long EventsChecked, string? FirstBadEvent);

/// <summary>
/// Append-only, hash-chained, signed audit log. <see cref="AppendAsync"/> completes only once the event is durable;
/// implementations batch concurrent appends (group commit).
/// </summary>
internal interface IAuditLog
{
    /// <summary>Appends an event and returns once it is durable (and chained; its signature may follow shortly).</summary>
    ValueTask<AuditRecord> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>Queries events, oldest first.</summary>
    Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Verifies hash chain and signatures of every event.</summary>
    Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken);
}
