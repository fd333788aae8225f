using Microsoft.Extensions.Logging;

namespace TapPass.Diagnostics;

/// <summary>
/// Source-generated log messages of the SDK. They carry operation names, ids, status codes and decision types only:
/// never prompt or answer text, never the API key.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "TapPass {Operation} starting (model {Model}, session {SessionId}).")]
    public static partial void CallStarting(ILogger logger, string operation, string model, string? sessionId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "TapPass {Operation} completed in {ElapsedMs} ms (classification {Classification}, pipeline {PipelineUuid}).")]
    public static partial void CallCompleted(ILogger logger, string operation, double elapsedMs, string classification, string? pipelineUuid);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "TapPass {Operation} refused by governance: {ErrorType} (status {StatusCode}, blocked by {BlockedBy}, pipeline {PipelineUuid}).")]
    public static partial void DecisionReceived(ILogger logger, string operation, string errorType, int statusCode, string? blockedBy, string? pipelineUuid);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "TapPass {Operation} failed: {ErrorType} (status {StatusCode}).")]
    public static partial void CallFailed(ILogger logger, string operation, string errorType, int? statusCode);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "TapPass gateway {Url} unreachable during {Operation}.")]
    public static partial void GatewayUnreachable(ILogger logger, Exception exception, string url, string operation);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "TapPass {Method} {Path}: retry {Attempt} in {DelayMs} ms after {Reason}.")]
    public static partial void RetryScheduled(ILogger logger, string method, string path, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "TapPass gateway {Url} implements API {ApiVersion}.")]
    public static partial void GatewayVersionVerified(ILogger logger, string url, string apiVersion);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "TapPass gateway {Url} reports API version {ApiVersion}, which this SDK does not support.")]
    public static partial void GatewayVersionRejected(ILogger logger, string url, string apiVersion);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "TapPass {Operation} cancelled by the caller.")]
    public static partial void CallCancelled(ILogger logger, string operation);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "TapPass {Operation}: answer masked ({Count} redactions); raising RedactionAppliedException as configured.")]
    public static partial void RedactionRaised(ILogger logger, string operation, int count);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "TapPass {Operation}: break-glass {Level} active; raising BreakGlassActiveException as configured.")]
    public static partial void BreakGlassRaised(ILogger logger, string operation, string level);
}
