using Microsoft.Extensions.Logging;

namespace TapPass.Governance.Engine;

/// <summary>Source-generated log messages of the engine. They carry ids, step names and types — never prompt text,
/// matched values, keys or tokens, and never exception messages (which may quote input).</summary>
internal static partial class EngineLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Pipeline step {Step} failed with {ExceptionType} (pipeline {PipelineId}); critical={Critical}.")]
    public static partial void StepFailed(ILogger logger, string step, string exceptionType, string pipelineId, bool critical);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Call refused: {ErrorType} by {BlockedBy} (pipeline {PipelineId}, agent {AgentId}).")]
    public static partial void Refused(ILogger logger, string errorType, string? blockedBy, string pipelineId, string agentId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Model provider {Provider} failed (timeout={IsTimeout}, {ExceptionType}) for pipeline {PipelineId}.")]
    public static partial void ProviderFailed(ILogger logger, string provider, bool isTimeout, string exceptionType, string pipelineId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "A call with a missing or unknown API key was rejected.")]
    public static partial void AuthenticationFailed(ILogger logger);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Writing the audit event {EventType} failed with {ExceptionType}; the call is answered 503.")]
    public static partial void AuditFailed(ILogger logger, string eventType, string exceptionType);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Flag lock applied for agent {AgentId}: {Flag} requested by {Source}, locked by {LockedBy}.")]
    public static partial void LockApplied(ILogger logger, string agentId, string flag, string source, string lockedBy);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Break-glass {Level} declared for org {Org} until {ExpiresAt} by {AgentId}.")]
    public static partial void BreakGlassDeclared(ILogger logger, string level, string org, DateTimeOffset expiresAt, string agentId);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Error, Message = "Unexpected {ExceptionType} in {Operation} (pipeline {PipelineId}); answered 503.")]
    public static partial void Unexpected(ILogger logger, string exceptionType, string operation, string pipelineId);
}
