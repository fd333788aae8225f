using System.Text.Json;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance;

/// <summary>
/// Operator actions on the in-process engine of <c>AddTapPassEmbeddedGateway()</c>, the counterpart of the gateway's
/// control routes (PROTOCOL.md §7–§9): look up and decide approval requests, declare and end break-glass, read the
/// audit log, and publish the public key of capability tokens. Each action runs as
/// <see cref="TapPassEngineOptions.EmbeddedIdentity"/>, with its roles (approver and admin unless configured otherwise)
/// and in its organisation, and is audited as that identity, with the same checks and outcomes as the HTTP routes.
/// </summary>
/// <remarks>
/// Nothing here authenticates anyone: in-process code is trusted by the process. An application that lets people
/// trigger these actions (an approval button, an admin endpoint) must put its own authentication and authorisation in
/// front of them; the gateway's routes require approver and admin API keys instead. Registered as a singleton by
/// <c>AddTapPassEmbeddedGateway()</c>.
/// </remarks>
public sealed class TapPassEmbeddedOperator
{
    /// <summary>Longest id or filter value accepted.</summary>
    private const int MaxFilterLength = 200;

    /// <summary>Largest page of audit entries.</summary>
    public const int MaxAuditPageSize = 1000;

    private readonly GovernanceEngine _engine;
    private readonly IAuditLog _audit;

    internal TapPassEmbeddedOperator(GovernanceEngine engine, IAuditLog audit)
    {
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
    }

    /// <summary>
    /// An approval request (<c>GET /v1/approvals/{id}</c>): its status, subject, rule and expiry; 404 <c>not_found</c>
    /// when there is no such request in the embedded identity's organisation. The resume token is never included.
    /// </summary>
    /// <param name="approvalId">The id (<c>apr_…</c>) from <see cref="ApprovalRequiredException.ApprovalId"/> or the approval URL.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<TapPassReply<ApprovalInfo>> GetApprovalAsync(string approvalId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(approvalId);
        return _engine.GetApprovalAsync(_engine.EmbeddedIdentity, approvalId, cancellationToken);
    }

    /// <summary>
    /// Approves or denies a pending request (<c>POST /v1/approvals/{id}/decide</c>) and writes an
    /// <c>approval.decided</c> audit event. Answers 400 <c>invalid_request</c> for a decision other than
    /// <c>approve</c>/<c>deny</c> or a reason over 500 characters, 403 without the approver role, 404 for an unknown
    /// request, 409 when it expired or was already decided. An approved request lets the caller resume the identical
    /// call once with its resume token.
    /// </summary>
    /// <param name="approvalId">The id (<c>apr_…</c>).</param>
    /// <param name="decision"><c>{"decision": "approve" | "deny", "reason": "…"}</c>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<TapPassReply<ApprovalInfo>> DecideApprovalAsync(string approvalId, ApprovalDecisionRequest decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(approvalId);
        ArgumentNullException.ThrowIfNull(decision);
        return _engine.DecideApprovalAsync(_engine.EmbeddedIdentity, approvalId, decision, cancellationToken);
    }

    /// <summary>
    /// Declares break-glass for the embedded identity's organisation (<c>POST /v1/admin/break-glass</c>):
    /// <c>halt</c> refuses every agent call with 503 <c>break_glass_active</c> and <c>Retry-After</c> until it ends;
    /// <c>observe</c> suspends blocking rules and marks answers with <c>tappass.break_glass</c>. Writes a
    /// <c>break_glass.declared</c> audit event. Answers 400 for another level, a duration that is not positive or exceeds
    /// <see cref="TapPassEngineOptions.MaxBreakGlassDuration"/>, or a missing reason; 403 without the admin role.
    /// </summary>
    /// <param name="level"><c>halt</c> or <c>observe</c>.</param>
    /// <param name="duration">How long it lasts.</param>
    /// <param name="reason">Why (required, at most 500 characters); recorded in the audit log.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(string level, TimeSpan duration, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(level);
        return _engine.DeclareBreakGlassAsync(_engine.EmbeddedIdentity, level, duration, reason, cancellationToken);
    }

    /// <summary>
    /// Ends the organisation's break-glass early (<c>DELETE /v1/admin/break-glass</c>) and writes a
    /// <c>break_glass.ended</c> audit event; 404 <c>not_found</c> when none is active, 403 without the admin role.
    /// </summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<TapPassReply<BreakGlassInfo>> EndBreakGlassAsync(CancellationToken cancellationToken = default) =>
        _engine.EndBreakGlassAsync(_engine.EmbeddedIdentity, cancellationToken);

    /// <summary>The organisation's active break-glass (level, expiry, reason), or null.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<BreakGlassInfo?> GetBreakGlassAsync(CancellationToken cancellationToken = default) =>
        _engine.GetBreakGlassAsync(_engine.EmbeddedIdentity.Org, cancellationToken);

    /// <summary>
    /// Reads the audit log (<c>GET /v1/audit</c>), oldest first: every event when the embedded identity has the admin
    /// role, otherwise only its own. Events hold metadata only (types, positions, decisions, cost), never prompt text
    /// or argument values, unless the operator enabled <see cref="TapPassEngineOptions.CaptureContent"/>.
    /// </summary>
    /// <param name="filter">Session, event type, start time, page size and cursor; null for the first 100 events.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="ArgumentException">A filter value is too long, the limit is outside 1–1000, or the cursor is not one this log issued.</exception>
    public async Task<TapPassAuditPage> ReadAuditAsync(TapPassAuditFilter? filter = null, CancellationToken cancellationToken = default)
    {
        filter ??= new TapPassAuditFilter();
        if (filter.Limit is < 1 or > MaxAuditPageSize)
        {
            throw new ArgumentException($"Limit must be from 1 to {MaxAuditPageSize}.", nameof(filter));
        }

        foreach (var value in new[] { filter.SessionId, filter.EventType, filter.Cursor })
        {
            if (value is { Length: > MaxFilterLength })
            {
                throw new ArgumentException($"Filter values must be at most {MaxFilterLength} characters.", nameof(filter));
            }
        }

        var identity = _engine.EmbeddedIdentity;
        var admin = identity.HasRole(Identity.AgentRoles.Admin);
        var page = await _audit.QueryAsync(
            new AuditQuery
            {
                SessionId = filter.SessionId,
                EventType = filter.EventType,
                Since = filter.Since,
                AgentId = admin ? null : identity.AgentId,
                Limit = filter.Limit,
                Cursor = filter.Cursor,
            },
            cancellationToken).ConfigureAwait(false);

        var entries = page.Records
            .Where(r => admin || (r.Event.AgentId == identity.AgentId && (r.Event.Org is null || r.Event.Org == identity.Org)))
            .Select(static r => new TapPassAuditEntry(r))
            .ToArray();
        return new TapPassAuditPage(entries, page.NextCursor);
    }

    /// <summary>
    /// The JSON Web Key Set of the key that signs capability tokens (<c>/.well-known/jwks.json</c>):
    /// <c>{"keys":[{"kty":"EC","crv":"P-256","x":…,"y":…,"kid":…,"use":"sig","alg":"ES256"}]}</c>. A service that
    /// receives a capability token verifies it offline with this key (signature, <c>aud</c> = <c>tappass-tool</c>,
    /// <c>exp</c>, and the <c>tool</c>, <c>sub</c> and <c>sid</c> it expects).
    /// </summary>
    public string GetJwks() => _engine.Jwks();
}

/// <summary>Which audit events <see cref="TapPassEmbeddedOperator.ReadAuditAsync"/> returns.</summary>
public sealed class TapPassAuditFilter
{
    /// <summary>Only this session's events. Default: every session.</summary>
    public string? SessionId { get; init; }

    /// <summary>Only this event type, e.g. <c>tool.decided</c>. Default: every type.</summary>
    public string? EventType { get; init; }

    /// <summary>Only events at or after this time. Default: from the start.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Page size, 1–1000. Default 100.</summary>
    public int Limit { get; init; } = 100;

    /// <summary><see cref="TapPassAuditPage.NextCursor"/> of the previous page. Default: the first page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>A page of audit entries, oldest first.</summary>
/// <param name="Entries">The entries.</param>
/// <param name="NextCursor">Pass as <see cref="TapPassAuditFilter.Cursor"/> for the next page; null on the last page.</param>
public sealed record TapPassAuditPage(IReadOnlyList<TapPassAuditEntry> Entries, string? NextCursor);

/// <summary>
/// One stored audit event: the chain position, hashes and signature, the fields most often needed, and the whole event
/// in its JSON form (snake_case, as <c>GET /v1/audit</c> returns it).
/// </summary>
public sealed class TapPassAuditEntry
{
    internal TapPassAuditEntry(AuditRecord record)
    {
        var e = record.Event;
        Sequence = record.Sequence;
        EventId = e.EventId;
        Timestamp = e.Timestamp;
        EventType = e.EventType;
        SessionId = e.SessionId;
        AgentId = e.AgentId;
        PipelineUuid = e.PipelineUuid;
        Tool = e.Tool;
        Decision = e.Decision;
        BlockedBy = e.BlockedBy;
        Reason = e.Reason;
        Event = JsonSerializer.SerializeToElement(e, AuditJsonContext.Default.AuditEvent);
        PrevHash = record.PrevHash;
        Hash = record.Hash;
        Signature = record.Signature;
    }

    /// <summary>Position in the hash chain.</summary>
    public long Sequence { get; }

    /// <summary>Event id (<c>ae_…</c>).</summary>
    public string EventId { get; }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>e.g. <c>chat.blocked</c>, <c>tool.decided</c>, <c>approval.requested</c>, <c>break_glass.declared</c>.</summary>
    public string EventType { get; }

    /// <summary>Session id, when the event belongs to a session.</summary>
    public string? SessionId { get; }

    /// <summary>Agent slug.</summary>
    public string? AgentId { get; }

    /// <summary>Pipeline run id.</summary>
    public string? PipelineUuid { get; }

    /// <summary>Tool name, for tool events.</summary>
    public string? Tool { get; }

    /// <summary>Outcome: allow, block, mask, flag, needs_approval, modify, …</summary>
    public string? Decision { get; }

    /// <summary>Step or rule that decided.</summary>
    public string? BlockedBy { get; }

    /// <summary>Human-readable reason (never a matched value).</summary>
    public string? Reason { get; }

    /// <summary>The whole event as stored, as JSON (snake_case, nulls omitted).</summary>
    public JsonElement Event { get; }

    /// <summary>Hash of the previous entry.</summary>
    public string PrevHash { get; }

    /// <summary>SHA-256 (hex) over this entry's canonical JSON and <see cref="PrevHash"/>.</summary>
    public string Hash { get; }

    /// <summary>ES256 signature of <see cref="Hash"/> (base64url).</summary>
    public string Signature { get; }
}
