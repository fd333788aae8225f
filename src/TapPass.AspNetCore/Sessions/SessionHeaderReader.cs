using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using TapPass.Transport;

namespace TapPass.AspNetCore.Sessions;

/// <summary>What is wrong with a request's TapPass session headers.</summary>
internal enum SessionHeaderError
{
    /// <summary>The headers are absent or well formed.</summary>
    None,

    /// <summary>A header was sent more than once.</summary>
    Repeated,

    /// <summary>A value has the wrong format or length.</summary>
    Malformed,

    /// <summary>The session header and an alias name different sessions.</summary>
    Conflicting,
}

/// <summary>The validated TapPass session headers of a request.</summary>
internal readonly struct SessionHeaders
{
    public string? SessionId { get; init; }

    public string? AgentUuid { get; init; }

    public string? TaskId { get; init; }

    public SessionHeaderError Error { get; init; }

    /// <summary>The offending header, when <see cref="Error"/> is set.</summary>
    public string? Header { get; init; }
}

/// <summary>
/// Reads <c>X-TapPass-Session-Id</c> (and its aliases), <c>X-TapPass-Agent-Uuid</c> and <c>X-TapPass-Task-Id</c>.
/// Untrusted input: each must be a single value in the protocol format (ids: 1-128 of <c>[A-Za-z0-9_-]</c>;
/// agent uuid: a 36-character UUID), the formats of <see cref="TapPassSession.IsWellFormedId"/> and
/// <see cref="TapPassSession.IsWellFormedAgentUuid"/>, checked here with vectorised searches. Allocation-free.
/// </summary>
internal static class SessionHeaderReader
{
    private const int MaxIdLength = 128;
    private static readonly SearchValues<char> IdChars = SearchValues.Create("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
    private static readonly SearchValues<char> HexChars = SearchValues.Create("0123456789ABCDEFabcdef");

    public static SessionHeaders Read(IHeaderDictionary headers, bool acceptAliases)
    {
        string? sessionId = null;
        if (!TryReadId(headers, TapPassHeaders.SessionId, ref sessionId, out var error) ||
            (acceptAliases &&
             (!TryReadId(headers, TapPassHeaders.SessionIdAlias, ref sessionId, out error) ||
              !TryReadId(headers, TapPassHeaders.SessionIdAlias2, ref sessionId, out error))))
        {
            return error;
        }

        string? agentUuid = null;
        if (headers.TryGetValue(TapPassHeaders.AgentUuid, out var agentValues) && agentValues.Count > 0)
        {
            if (agentValues.Count > 1)
            {
                return Fail(SessionHeaderError.Repeated, TapPassHeaders.AgentUuid);
            }

            agentUuid = agentValues[0];
            if (!IsWellFormedAgentUuid(agentUuid))
            {
                return Fail(SessionHeaderError.Malformed, TapPassHeaders.AgentUuid);
            }
        }

        string? taskId = null;
        if (!TryReadId(headers, TapPassHeaders.TaskId, ref taskId, out error))
        {
            return error;
        }

        return new SessionHeaders { SessionId = sessionId, AgentUuid = agentUuid, TaskId = taskId };
    }

    /// <summary>A short, value-free description of the problem, for the response and the log.</summary>
    public static string Describe(SessionHeaderError error, string header) => error switch
    {
        SessionHeaderError.Repeated => $"The {header} header must be sent once, with a single value.",
        SessionHeaderError.Conflicting => $"The {header} header names a different session than another session header of the request.",
        _ when header == TapPassHeaders.AgentUuid => $"The {header} header must be a UUID in its 36-character form.",
        _ => $"The {header} header must be 1-128 characters from [A-Za-z0-9_-].",
    };

    private static bool TryReadId(IHeaderDictionary headers, string name, ref string? value, out SessionHeaders error)
    {
        error = default;
        if (!headers.TryGetValue(name, out StringValues values) || values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1)
        {
            error = Fail(SessionHeaderError.Repeated, name);
            return false;
        }

        var candidate = values[0];
        if (!IsWellFormedId(candidate))
        {
            error = Fail(SessionHeaderError.Malformed, name);
            return false;
        }

        if (value is not null && !string.Equals(value, candidate, StringComparison.Ordinal))
        {
            error = Fail(SessionHeaderError.Conflicting, name);
            return false;
        }

        value = candidate;
        return true;
    }

    /// <summary>Same answer as <see cref="TapPassSession.IsWellFormedId"/>: 1-128 characters of <c>[A-Za-z0-9_-]</c>.</summary>
    internal static bool IsWellFormedId(string? value) =>
        value is { Length: > 0 and <= MaxIdLength } && !value.AsSpan().ContainsAnyExcept(IdChars);

    /// <summary>Same answer as <see cref="TapPassSession.IsWellFormedAgentUuid"/>: <c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>, hex.</summary>
    internal static bool IsWellFormedAgentUuid(string? value)
    {
        if (value is not { Length: 36 } || value[8] != '-' || value[13] != '-' || value[18] != '-' || value[23] != '-')
        {
            return false;
        }

        var span = value.AsSpan();
        return !span[..8].ContainsAnyExcept(HexChars) &&
               !span.Slice(9, 4).ContainsAnyExcept(HexChars) &&
               !span.Slice(14, 4).ContainsAnyExcept(HexChars) &&
               !span.Slice(19, 4).ContainsAnyExcept(HexChars) &&
               !span[24..].ContainsAnyExcept(HexChars);
    }

    private static SessionHeaders Fail(SessionHeaderError error, string header) => new() { Error = error, Header = header };
}
