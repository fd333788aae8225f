using System.Collections.Concurrent;

namespace TapPass.Governance.State;

/// <summary>Status of an approval request.</summary>
internal static class ApprovalStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Used = "used";
}

/// <summary>
/// A call held for a human decision (PROTOCOL.md §7), bound to the exact call: org, agent, session, subject
/// (<c>tool:&lt;name&gt;</c> or <c>model:&lt;name&gt;</c>) and the SHA-256 of the canonical arguments or messages.
/// The resume token is stored only as a SHA-256 hash.
/// </summary>
internal sealed record ApprovalRecord
{
    public required string Id { get; init; }
    public required string Org { get; init; }
    public required string AgentId { get; init; }
    public required string AgentUuid { get; init; }
    public required string SessionId { get; init; }
    public required string Subject { get; init; }
    public required string BindingSha256 { get; init; }
    public required string ResumeTokenSha256 { get; init; }
    public required string Rule { get; init; }
    public string? Reason { get; init; }
    public string? Classification { get; init; }
    public string Status { get; init; } = ApprovalStatus.Pending;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? DecisionReason { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
}

/// <summary>Approval requests. <see cref="TryUpdateAsync"/> is a compare-and-set so a token is used once.</summary>
internal interface IApprovalStore
{
    ValueTask CreateAsync(ApprovalRecord approval, CancellationToken cancellationToken);

    ValueTask<ApprovalRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Replaces <paramref name="expected"/> by <paramref name="next"/> only if unchanged since read.</summary>
    ValueTask<bool> TryUpdateAsync(ApprovalRecord expected, ApprovalRecord next, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="IApprovalStore"/>; bounded (finished requests older than a day are purged when full).</summary>
internal sealed class InMemoryApprovalStore(TimeProvider timeProvider, int maxEntries = 100_000) : IApprovalStore
{
    private readonly ConcurrentDictionary<string, ApprovalRecord> _approvals = new(StringComparer.Ordinal);

    public ValueTask CreateAsync(ApprovalRecord approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        if (_approvals.Count >= maxEntries)
        {
            var cutoff = timeProvider.GetUtcNow().AddDays(-1);
            foreach (var (id, a) in _approvals)
            {
                if (a.ExpiresAt < cutoff)
                {
                    _approvals.TryRemove(id, out _);
                }
            }

            if (_approvals.Count >= maxEntries)
            {
                throw new StoreFullException("Approval store is full.");
            }
        }

        if (!_approvals.TryAdd(approval.Id, approval))
        {
            throw new InvalidOperationException("Duplicate approval id.");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ApprovalRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_approvals.TryGetValue(id, out var a) ? a : null);

    public ValueTask<bool> TryUpdateAsync(ApprovalRecord expected, ApprovalRecord next, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_approvals.TryUpdate(expected.Id, next, expected));
}

/// <summary>An operator's break-glass declaration for one org (PROTOCOL.md §8).</summary>
internal sealed record BreakGlassState(string Org, string Level, DateTimeOffset DeclaredAt, DateTimeOffset ExpiresAt, string Reason, string DeclaredBy);

/// <summary>Break-glass state per org.</summary>
internal interface IBreakGlassStore
{
    ValueTask<BreakGlassState?> GetAsync(string org, CancellationToken cancellationToken);

    ValueTask SetAsync(BreakGlassState state, CancellationToken cancellationToken);

    /// <summary>Removes the state if it is still <paramref name="expected"/>; true when removed.</summary>
    ValueTask<bool> TryClearAsync(BreakGlassState expected, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="IBreakGlassStore"/>.</summary>
internal sealed class InMemoryBreakGlassStore : IBreakGlassStore
{
    private readonly ConcurrentDictionary<string, BreakGlassState> _states = new(StringComparer.Ordinal);

    public ValueTask<BreakGlassState?> GetAsync(string org, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_states.TryGetValue(org, out var s) ? s : null);

    public ValueTask SetAsync(BreakGlassState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        _states[state.Org] = state;
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> TryClearAsync(BreakGlassState expected, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_states.TryRemove(new KeyValuePair<string, BreakGlassState>(expected.Org, expected)));
}

/// <summary>Whether a tool definition matched its pin.</summary>
internal enum PinResult
{
    /// <summary>First time this session saw the tool: pinned now.</summary>
    Pinned,

    /// <summary>Same definition as pinned.</summary>
    Matches,

    /// <summary>A different definition was pinned earlier in the session.</summary>
    Changed,
}

/// <summary>Tool definition pins per session (PROTOCOL.md §6).</summary>
internal interface IToolPinStore
{
    ValueTask<PinResult> PinAsync(string sessionId, string tool, string definitionSha256, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="IToolPinStore"/>.</summary>
internal sealed class InMemoryToolPinStore(int maxEntries = 1_000_000) : IToolPinStore
{
    private readonly ConcurrentDictionary<(string Session, string Tool), string> _pins = new();

    public ValueTask<PinResult> PinAsync(string sessionId, string tool, string definitionSha256, CancellationToken cancellationToken)
    {
        var key = (sessionId, tool);
        if (_pins.TryGetValue(key, out var existing))
        {
            return ValueTask.FromResult(string.Equals(existing, definitionSha256, StringComparison.OrdinalIgnoreCase) ? PinResult.Matches : PinResult.Changed);
        }

        if (_pins.Count >= maxEntries)
        {
            throw new StoreFullException("Tool pin store is full.");
        }

        var stored = _pins.GetOrAdd(key, definitionSha256.ToLowerInvariant());
        return ValueTask.FromResult(string.Equals(stored, definitionSha256, StringComparison.OrdinalIgnoreCase) ? PinResult.Pinned : PinResult.Changed);
    }
}

/// <summary>All state stores of the engine; in-memory by default, each swappable.</summary>
internal sealed record EngineStores(
    ISessionStore Sessions,
    IBudgetStore Budgets,
    IRateLimitStore RateLimits,
    IIdempotencyStore Idempotency,
    IToolPinStore ToolPins,
    IApprovalStore Approvals,
    IBreakGlassStore BreakGlass)
{
    public static EngineStores InMemory(TimeProvider timeProvider, TimeSpan? idempotencyRetention = null) => new(
        new InMemorySessionStore(timeProvider),
        new InMemoryBudgetStore(),
        new InMemoryRateLimitStore(),
        new InMemoryIdempotencyStore(timeProvider, idempotencyRetention),
        new InMemoryToolPinStore(),
        new InMemoryApprovalStore(timeProvider),
        new InMemoryBreakGlassStore());
}
