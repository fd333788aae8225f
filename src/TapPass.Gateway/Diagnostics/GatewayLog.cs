using Microsoft.Extensions.Logging;

namespace TapPass.Gateway.Diagnostics;

/// <summary>Source-generated log messages. Never bodies, prompts or keys.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "{Method} {Route} answered {StatusCode} in {ElapsedMs:0.0} ms.")]
    public static partial void RequestCompleted(ILogger logger, string method, string route, int statusCode, double elapsedMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Unhandled error serving {Method} {Route}.")]
    public static partial void RequestFailed(ILogger logger, string method, string route, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Stream of {Route} failed after it started; sent an error event.")]
    public static partial void StreamFailed(ILogger logger, string route, Exception exception);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "{Route} answered {StatusCode} {ErrorType}.")]
    public static partial void Decision(ILogger logger, string route, int statusCode, string errorType);
}
