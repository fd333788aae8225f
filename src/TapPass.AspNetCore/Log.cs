using Microsoft.Extensions.Logging;

namespace TapPass.AspNetCore;

/// <summary>Source-generated log messages. Ids and decision metadata only: never prompt text, values or keys.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "GovernanceDecisionMapped", Level = LogLevel.Warning,
        Message = "TapPass decision {DecisionType} answered {StatusCode} (blocked_by {BlockedBy}, session {SessionId}, task {TaskId}, agent {AgentUuid}, pipeline {PipelineUuid})")]
    public static partial void DecisionMapped(ILogger logger, string decisionType, int statusCode, string? blockedBy, string? sessionId, string? taskId, string? agentUuid, string? pipelineUuid);

    [LoggerMessage(EventId = 2, EventName = "TapPassErrorMapped", Level = LogLevel.Error,
        Message = "TapPass error {ErrorType} answered {StatusCode} (session {SessionId})")]
    public static partial void ErrorMapped(ILogger logger, Exception exception, string errorType, int statusCode, string? sessionId);

    [LoggerMessage(EventId = 3, EventName = "InvalidSessionHeader", Level = LogLevel.Debug,
        Message = "Rejected a request with an invalid {Header} header: {Problem}")]
    public static partial void InvalidSessionHeader(ILogger logger, string header, string problem);

    [LoggerMessage(EventId = 4, EventName = "SessionAutoOpened", Level = LogLevel.Debug,
        Message = "Opened TapPass session {SessionId} for the request")]
    public static partial void SessionOpened(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 5, EventName = "SessionAutoClosed", Level = LogLevel.Debug,
        Message = "Closed TapPass session {SessionId}")]
    public static partial void SessionClosed(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 6, EventName = "SessionCloseFailed", Level = LogLevel.Warning,
        Message = "Could not close TapPass session {SessionId}; it will expire on the gateway")]
    public static partial void SessionCloseFailed(ILogger logger, Exception exception, string sessionId);
}
