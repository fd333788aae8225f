using System.Collections.Concurrent;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.State;

/// <summary>A stored outcome of an idempotent call: status, headers and one body (all serialisable protocol types).</summary>
internal sealed record IdempotentOutcome
{
    public required int StatusCode { get; init; }
    public TapPassReplyHeaders Headers { get; init; } = TapPassReplyHeaders.Empty;
    public ErrorBody? Error { get; init; }
    public ChatCompletionResponse? Chat { get; init; }
    public GovernResponse? Govern { get; init; }
    public SessionResponse? Session { get; init; }
    public ExecutionReportResponse? Execution { get; init; }
}

internal enum IdempotencyState
{
    /// <summary>First use of the key: the caller runs the call, then completes or abandons.</summary>
    Started,

    /// <summary>Seen with the same request: <see cref="IdempotencyBegin.Outcome"/> is the stored outcome.</summary>
    Replay,

    /// <summary>Seen with a different request body: 422.</summary>
    Conflict,

    /// <summary>The same key is being processed right now: 409.</summary>
    InProgress,
}

internal readonly record struct IdempotencyBegin(IdempotencyState State, IdempotentOutcome? Outcome = null);

/// <summary>
/// Idempotency keys (PROTOCOL.md §2): a key is scoped by the caller (see the engine), remembered with the SHA-256 of
/// the request for a retention period (24 h), and maps to the stored outcome once the call completed.
/// </summary>
internal interface IIdempotencyStore
{
    ValueTask<IdempotencyBegin> BeginAsync(string key, string requestHash, CancellationToken cancellationToken);

    ValueTask CompleteAsync(string key, IdempotentOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Forgets a started key whose call did not produce a storable outcome (5xx, cancellation).</summary>
    ValueTask AbandonAsync(string key, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="IIdempotencyStore"/>; entries expire after the retention period and are purged lazily.</summary>
internal sealed class InMemoryIdempotencyStore(TimeProvider timeProvider, TimeSpan? retention = null, int maxEntries = 100_000) : IIdempotencyStore
{
    private readonly TimeSpan _retention = retention ?? TimeSpan.FromHours(24);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public ValueTask<IdempotencyBegin> BeginAsync(string key, string requestHash, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        while (true)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                if (existing.ExpiresAt <= now)
                {
                    _entries.TryRemove(new KeyValuePair<string, Entry>(key, existing));
                    continue;
                }

                if (!string.Equals(existing.RequestHash, requestHash, StringComparison.Ordinal))
                {
                    return ValueTask.FromResult(new IdempotencyBegin(IdempotencyState.Conflict));
                }

                return ValueTask.FromResult(existing.Outcome is null
                    ? new IdempotencyBegin(IdempotencyState.InProgress)
                    : new IdempotencyBegin(IdempotencyState.Replay, existing.Outcome));
            }

            if (_entries.Count >= maxEntries)
            {
                Purge(now);
                if (_entries.Count >= maxEntries)
                {
                    throw new StoreFullException("Idempotency store is full.");
                }
            }

            if (_entries.TryAdd(key, new Entry(requestHash, now + _retention, null)))
            {
                return ValueTask.FromResult(new IdempotencyBegin(IdempotencyState.Started));
            }
        }
    }

    public ValueTask CompleteAsync(string key, IdempotentOutcome outcome, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var existing))
        {
            _entries.TryUpdate(key, existing with { Outcome = outcome }, existing);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask AbandonAsync(string key, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var existing) && existing.Outcome is null)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, existing));
        }

        return ValueTask.CompletedTask;
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (k, e) in _entries)
        {
            if (e.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(k, e));
            }
        }
    }

    private sealed record Entry(string RequestHash, DateTimeOffset ExpiresAt, IdempotentOutcome? Outcome);
}
