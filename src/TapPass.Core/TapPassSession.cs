namespace TapPass;

/// <summary>
/// The ambient TapPass session: calls made inside a <see cref="Begin(string?, string?, string?)"/> scope (or an ASP.NET Core request with
/// <c>UseTapPass()</c>) send its ids as headers, and ids the gateway assigns are recorded on it.
/// Backed by an <see cref="AsyncLocal{T}"/> holding the session itself, which is marked ended when its scope ends, so work
/// that captured the scope's execution context and outlives it sees <see langword="null"/> instead of a stale session.
/// </summary>
public sealed class TapPassSession
{
    private const int MaxIdLength = 128;
    private static readonly AsyncLocal<TapPassSession?> CurrentSession = new();

    private string? _sessionId;
    private string? _agentUuid;
    private string? _taskId;
    private string? _auditUrl;
    private int _ended;

    private TapPassSession(string? sessionId, string? agentUuid, string? taskId, bool autoOpened)
    {
        _sessionId = sessionId;
        _agentUuid = agentUuid;
        _taskId = taskId;
        AutoOpened = autoOpened;
    }

    /// <summary>
    /// The session in force for the current asynchronous flow, or null: also null in work that started inside a scope
    /// (or request) once that scope has ended.
    /// </summary>
    public static TapPassSession? Current => CurrentSession.Value is { } session && Volatile.Read(ref session._ended) == 0 ? session : null;

    /// <summary>Session id (<c>ses_…</c>): given at <see cref="Begin(string?, string?, string?)"/> or assigned by the gateway on the first call.</summary>
    public string? SessionId => Volatile.Read(ref _sessionId);

    /// <summary>Agent uuid.</summary>
    public string? AgentUuid => Volatile.Read(ref _agentUuid);

    /// <summary>Task id.</summary>
    public string? TaskId => Volatile.Read(ref _taskId);

    /// <summary>Audit page of the session, once the gateway has reported it.</summary>
    public string? AuditUrl => Volatile.Read(ref _auditUrl);

    /// <summary>True when the session was opened automatically for this scope (and is closed at its end).</summary>
    public bool AutoOpened { get; }

    /// <summary>
    /// Starts a session scope. Calls inside it join <paramref name="sessionId"/> (or the session the gateway opens on
    /// the first call). Dispose the scope to end it; nested scopes restore the outer one.
    /// </summary>
    /// <param name="sessionId">Existing session to join, or null to let the gateway open one.</param>
    /// <param name="agentUuid">Agent uuid the caller claims.</param>
    /// <param name="taskId">Task id inside the session.</param>
    /// <exception cref="ArgumentException">An id is malformed (see <see cref="IsWellFormedId"/>).</exception>
    public static TapPassSessionScope Begin(string? sessionId = null, string? agentUuid = null, string? taskId = null) =>
        Begin(sessionId, agentUuid, taskId, autoOpened: false);

    /// <summary>Starts a session scope; <paramref name="autoOpened"/> marks a session opened for this scope only.</summary>
    /// <param name="sessionId">Session id.</param>
    /// <param name="agentUuid">Agent uuid.</param>
    /// <param name="taskId">Task id.</param>
    /// <param name="autoOpened">Whether the scope owns the session.</param>
    public static TapPassSessionScope Begin(string? sessionId, string? agentUuid, string? taskId, bool autoOpened)
    {
        if (sessionId is not null && !IsWellFormedId(sessionId))
        {
            throw new ArgumentException("Session id must be 1-128 characters of [A-Za-z0-9_-].", nameof(sessionId));
        }

        if (agentUuid is not null && !IsWellFormedAgentUuid(agentUuid))
        {
            throw new ArgumentException("Agent uuid must be a UUID.", nameof(agentUuid));
        }

        if (taskId is not null && !IsWellFormedId(taskId))
        {
            throw new ArgumentException("Task id must be 1-128 characters of [A-Za-z0-9_-].", nameof(taskId));
        }

        var previous = CurrentSession.Value;
        var session = new TapPassSession(sessionId, agentUuid, taskId, autoOpened);
        CurrentSession.Value = session;
        return new TapPassSessionScope(session, previous);
    }

    /// <summary>
    /// Makes an already validated session ambient without a scope to undo it: for a caller that is itself an
    /// <see langword="async"/> method, whose return restores the caller's execution context anyway. The caller must
    /// call <see cref="TryEnd"/> when the session ends, so flows that captured it see <see langword="null"/>.
    /// </summary>
    /// <remarks>Saves the second write of the ambient value (a new execution context and value map) that a scope's
    /// dispose costs when other async-local values are present.</remarks>
    internal static TapPassSession Enter(string? sessionId, string? agentUuid, string? taskId, bool autoOpened)
    {
        var session = new TapPassSession(sessionId, agentUuid, taskId, autoOpened);
        CurrentSession.Value = session;
        return session;
    }

    /// <summary>True for a session or task id of 1-128 characters from <c>[A-Za-z0-9_-]</c>.</summary>
    /// <param name="value">Candidate id.</param>
    public static bool IsWellFormedId(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True for a UUID in its 36-character hyphenated hex form (<c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>).</summary>
    /// <remarks>Stricter than <see cref="Guid.TryParseExact(string, string, out Guid)"/>, which also accepts <c>0x</c> inside segments.</remarks>
    /// <param name="value">Candidate uuid.</param>
    public static bool IsWellFormedAgentUuid(string? value)
    {
        if (value is not { Length: 36 })
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var ok = i is 8 or 13 or 18 or 23 ? value[i] == '-' : char.IsAsciiHexDigit(value[i]);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Records ids the gateway returned; an id already set is never replaced.</summary>
    /// <param name="sessionId">Session id.</param>
    /// <param name="agentUuid">Agent uuid.</param>
    /// <param name="auditUrl">Audit page.</param>
    public void Observe(string? sessionId, string? agentUuid, string? auditUrl)
    {
        if (sessionId is not null && IsWellFormedId(sessionId))
        {
            Interlocked.CompareExchange(ref _sessionId, sessionId, null);
        }

        if (agentUuid is not null && IsWellFormedAgentUuid(agentUuid))
        {
            Interlocked.CompareExchange(ref _agentUuid, agentUuid, null);
        }

        if (auditUrl is not null && (SessionId is null || SessionId == sessionId))
        {
            Volatile.Write(ref _auditUrl, auditUrl);
        }
    }

    /// <summary>Sets the task id if none is set.</summary>
    /// <param name="taskId">Task id.</param>
    public void ObserveTask(string? taskId)
    {
        if (taskId is not null && IsWellFormedId(taskId))
        {
            Interlocked.CompareExchange(ref _taskId, taskId, null);
        }
    }

    /// <summary>Marks the session ended: <see cref="Current"/> is null from now on in every flow that holds it.</summary>
    /// <returns>True for the call that ended it; false if it had already ended.</returns>
    internal bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;

    /// <summary>Ends <paramref name="session"/> and makes <paramref name="previous"/> ambient again, once.</summary>
    internal static void End(TapPassSession session, TapPassSession? previous)
    {
        if (session.TryEnd())
        {
            CurrentSession.Value = previous;
        }
    }
}

/// <summary>
/// A session scope started by <see cref="TapPassSession.Begin(string?, string?, string?)"/>. Dispose it to end the scope:
/// <c>using var scope = TapPassSession.Begin(...);</c>
/// </summary>
/// <remarks>
/// A value type, so a scope costs no allocation of its own. Ending is tied to the session, not to this value: the first
/// <see cref="Dispose"/> of any copy ends the scope, later ones do nothing. <c>default</c> has no session and its
/// <see cref="Dispose"/> does nothing.
/// </remarks>
public readonly struct TapPassSessionScope : IDisposable
{
    private readonly TapPassSession? _session;
    private readonly TapPassSession? _previous;

    internal TapPassSessionScope(TapPassSession session, TapPassSession? previous)
    {
        _session = session;
        _previous = previous;
    }

    /// <summary>The session of this scope.</summary>
    /// <exception cref="InvalidOperationException">The scope is <c>default</c>, not one returned by <c>Begin</c>.</exception>
    public TapPassSession Session => _session ?? throw new InvalidOperationException("This TapPassSessionScope was not returned by TapPassSession.Begin.");

    /// <summary>
    /// Ends the scope: the session is cleared for every flow that captured it, and the outer scope's session (or none)
    /// is ambient again in this flow.
    /// </summary>
    public void Dispose()
    {
        if (_session is { } session)
        {
            TapPassSession.End(session, _previous);
        }
    }
}
