using System.Collections.Concurrent;

namespace TapPass.Governance.State;

/// <summary>A governance session (PROTOCOL.md §9).</summary>
internal sealed record SessionRecord
{
    public required string Id { get; init; }
    public required string Org { get; init; }
    public required string AgentId { get; init; }
    public required string AgentUuid { get; init; }

    /// <summary>Other agents of the same org may join.</summary>
    public bool Shared { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Sliding expiry: extended on every turn.</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Turns taken so far.</summary>
    public int Turns { get; init; }

    public bool Closed { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public bool IsLive(DateTimeOffset now) => !Closed && now < ExpiresAt;
}

/// <summary>Session state. Implementations are thread-safe; swap the in-memory one for a shared store to scale out.</summary>
internal interface ISessionStore
{
    ValueTask<SessionRecord> CreateAsync(SessionRecord session, CancellationToken cancellationToken);

    ValueTask<SessionRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Atomically takes the next turn of a live session: returns the 0-based turn index, extending the expiry to
    /// at least <paramref name="expiresAt"/>; null when the session is missing, closed or expired.</summary>
    ValueTask<int?> NextTurnAsync(string id, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Closes a session; returns it, or null when missing.</summary>
    ValueTask<SessionRecord?> CloseAsync(string id, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="ISessionStore"/>, bounded: expired and closed sessions are purged when it fills.</summary>
internal sealed class InMemorySessionStore(TimeProvider timeProvider, int maxSessions = 100_000) : ISessionStore
{
    private readonly ConcurrentDictionary<string, SessionRecord> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public ValueTask<SessionRecord> CreateAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_sessions.Count >= maxSessions)
        {
            Purge();
            if (_sessions.Count >= maxSessions)
            {
                throw new StoreFullException("Session store is full.");
            }
        }

        if (!_sessions.TryAdd(session.Id, session))
        {
            throw new InvalidOperationException("Duplicate session id.");
        }

        return ValueTask.FromResult(session);
    }

    public ValueTask<SessionRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_sessions.TryGetValue(id, out var s) ? s : null);

    public ValueTask<int?> NextTurnAsync(string id, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        while (_sessions.TryGetValue(id, out var current))
        {
            if (!current.IsLive(now))
            {
                return ValueTask.FromResult<int?>(null);
            }

            var next = current with
            {
                Turns = current.Turns + 1,
                ExpiresAt = expiresAt > current.ExpiresAt ? expiresAt : current.ExpiresAt,
            };
            if (_sessions.TryUpdate(id, next, current))
            {
                return ValueTask.FromResult<int?>(current.Turns);
            }
        }

        return ValueTask.FromResult<int?>(null);
    }

    public ValueTask<SessionRecord?> CloseAsync(string id, CancellationToken cancellationToken)
    {
        while (_sessions.TryGetValue(id, out var current))
        {
            if (current.Closed)
            {
                return ValueTask.FromResult<SessionRecord?>(current);
            }

            var next = current with { Closed = true };
            if (_sessions.TryUpdate(id, next, current))
            {
                return ValueTask.FromResult<SessionRecord?>(next);
            }
        }

        return ValueTask.FromResult<SessionRecord?>(null);
    }

    private void Purge()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (id, s) in _sessions)
        {
            if (!s.IsLive(now))
            {
                _sessions.TryRemove(id, out _);
            }
        }
    }
}

/// <summary>A bounded in-memory store refused a new entry; the engine answers 503 <c>unavailable</c>.</summary>
internal sealed class StoreFullException : Exception
{
    public StoreFullException() : this("Store is full.") { }

    public StoreFullException(string message) : base(message) { }

    public StoreFullException(string message, Exception? innerException) : base(message, innerException) { }
}
