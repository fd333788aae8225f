using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TapPass;

/// <summary>A validated, immutable copy of <see cref="TapPassToolOptions"/>.</summary>
internal sealed record ToolSettings
{
    public const int MaxIdLength = 128;
    public const int MaxResumeTokenLength = 2048;

    /// <summary>Serialiser defaults: the Microsoft.Extensions.AI defaults, compact.</summary>
    public static readonly JsonSerializerOptions DefaultSerializerOptions = CreateDefaultSerializerOptions();

    public GovernMode Mode { get; init; }

    public GovernanceFlags Flags { get; init; } = GovernanceFlags.Empty;

    public string? SessionId { get; init; }

    public string? AgentUuid { get; init; }

    public string? TaskId { get; init; }

    public string? ResumeToken { get; init; }

    public string? BehaviorId { get; init; }

    public bool ReportExecution { get; init; } = true;

    public JsonSerializerOptions SerializerOptions { get; init; } = DefaultSerializerOptions;

    /// <summary>Validates and copies <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An id, the resume token or the behaviour id is malformed.</exception>
    /// <exception cref="TapPassConfigException">A flag is invalid.</exception>
    public static ToolSettings From(TapPassToolOptions? options, string paramName = "options")
    {
        if (options is null)
        {
            return new ToolSettings();
        }

        if (options.Mode is not (GovernMode.Enforce or GovernMode.Audit))
        {
            throw new ArgumentException("Mode must be Enforce or Audit.", paramName);
        }

        if (options.SessionId is not null && !TapPassSession.IsWellFormedId(options.SessionId))
        {
            throw new ArgumentException("SessionId must be 1-128 characters of [A-Za-z0-9_-].", paramName);
        }

        if (options.AgentUuid is not null && !TapPassSession.IsWellFormedAgentUuid(options.AgentUuid))
        {
            throw new ArgumentException("AgentUuid must be a UUID (36 characters, hyphenated).", paramName);
        }

        if (options.TaskId is not null && !TapPassSession.IsWellFormedId(options.TaskId))
        {
            throw new ArgumentException("TaskId must be 1-128 characters of [A-Za-z0-9_-].", paramName);
        }

        CheckResumeToken(options.ResumeToken, paramName);

        if (options.BehaviorId is { } behavior && (behavior.Length is 0 or > MaxIdLength || behavior.Any(c => c is < ' ' or > '~')))
        {
            throw new ArgumentException($"BehaviorId must be 1-{MaxIdLength} printable ASCII characters.", paramName);
        }

        return new ToolSettings
        {
            Mode = options.Mode,
            Flags = options.Flags.Count > 0 ? GovernanceFlags.From(options.Flags) : GovernanceFlags.Empty,
            SessionId = options.SessionId,
            AgentUuid = options.AgentUuid,
            TaskId = options.TaskId,
            ResumeToken = options.ResumeToken,
            BehaviorId = options.BehaviorId,
            ReportExecution = options.ReportExecution,
            SerializerOptions = options.SerializerOptions ?? DefaultSerializerOptions,
        };
    }

    /// <summary>Throws unless <paramref name="token"/> is null or 1-2048 printable ASCII characters without spaces.</summary>
    public static void CheckResumeToken(string? token, string paramName)
    {
        if (token is not null && (token.Length is 0 or > MaxResumeTokenLength || token.Any(c => c is < '!' or > '~')))
        {
            throw new ArgumentException($"The resume token must be 1-{MaxResumeTokenLength} printable ASCII characters.", paramName);
        }
    }

    /// <summary>The header-related members as options for <see cref="ITapPassToolGovernor"/>.</summary>
    public TapPassToolOptions ToCallOptions(bool includeResumeToken)
    {
        var options = new TapPassToolOptions
        {
            Mode = Mode,
            SessionId = SessionId,
            AgentUuid = AgentUuid,
            TaskId = TaskId,
            ResumeToken = includeResumeToken ? ResumeToken : null,
        };
        foreach (var (key, value) in Flags)
        {
            options.Flags[key] = value;
        }

        return options;
    }

    private static JsonSerializerOptions CreateDefaultSerializerOptions()
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
        options.MakeReadOnly();
        return options;
    }
}
