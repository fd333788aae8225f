using Microsoft.Extensions.Logging;

namespace TapPass;

/// <summary>Log messages of governed tools: tool names, outcomes, ids and type names only, never arguments, results or tokens.</summary>
internal static partial class ToolLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "TapPass tool {Tool}: {Outcome} (pipeline {PipelineUuid}).")]
    public static partial void Decided(ILogger logger, string tool, string outcome, string? pipelineUuid);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "TapPass tool {Tool} runs unverified in audit mode: the gateway could not be reached ({ErrorType}).")]
    public static partial void RunningUnverified(ILogger logger, string tool, string errorType);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "TapPass tool {Tool}: the execution report was not recorded ({ErrorType}); the tool's outcome stands.")]
    public static partial void ReportFailed(ILogger logger, string tool, string errorType);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "TapPass tool {Tool}: the gateway's modified arguments do not bind ({Problem}); the tool was not run.")]
    public static partial void ModifiedArgumentsRejected(ILogger logger, string tool, string problem);

    [LoggerMessage(EventId = 24, Level = LogLevel.Debug, Message = "TapPass tool {Tool} ran in {ElapsedMs} ms (ok {Ok}).")]
    public static partial void Ran(ILogger logger, string tool, double elapsedMs, bool ok);
}
