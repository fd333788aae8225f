using Microsoft.Extensions.Logging;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass;

/// <summary>Tool governance of the agent (PROTOCOL.md §6): the transport calls behind the <c>Govern(...)</c> wrappers.</summary>
public sealed partial class TapPassAgent : ITapPassToolGovernor
{
    private const string GovernOperation = "govern";
    private const string ReportOperation = "govern_execution";

    /// <summary>The agent's clock (tool durations are measured with it).</summary>
    internal TimeProvider TimeProvider => _time;

    /// <summary>The agent's logger.</summary>
    internal ILogger Logger => _logger;

    /// <inheritdoc />
    async Task<GovernResponse> ITapPassToolGovernor.GovernToolCallAsync(GovernRequest request, TapPassToolOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfDisposed();
        var call = ToolCall(options, includeResumeToken: true);
        request.SessionId ??= call.SessionId;
        await EnsureGatewayVersionAsync(cancellationToken).ConfigureAwait(false);
        var reply = await _transport.GovernAsync(WithTraceContext(call), request, cancellationToken).ConfigureAwait(false);
        if (!reply.IsSuccess)
        {
            throw Refusal(GovernOperation, reply.StatusCode, reply.Error, reply.Headers, activity: null);
        }

        var decision = reply.Value!;
        AnswerDecisions.ObserveAmbient(decision.SessionId ?? reply.Headers.SessionId, decision.AgentUuid ?? reply.Headers.AgentUuid, decision.AuditUrl, decision.TaskId);
        return decision;
    }

    /// <inheritdoc />
    async Task<ExecutionReportResponse> ITapPassToolGovernor.ReportToolExecutionAsync(ExecutionReport report, TapPassToolOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ThrowIfDisposed();
        var call = ToolCall(options, includeResumeToken: false);
        report.SessionId ??= call.SessionId;
        var reply = await _transport.ReportExecutionAsync(WithTraceContext(call), report, cancellationToken).ConfigureAwait(false);
        if (!reply.IsSuccess)
        {
            throw Refusal(ReportOperation, reply.StatusCode, reply.Error, reply.Headers, activity: null);
        }

        return reply.Value!;
    }

    /// <summary>The headers of a tool call: explicit options, then the ambient session, then the agent's defaults.</summary>
    private TapPassCall ToolCall(TapPassToolOptions? options, bool includeResumeToken)
    {
        var settings = ToolSettings.From(options);
        var flags = settings.Flags.Count > 0 ? _options.Flags.Merge(settings.Flags) : _options.Flags;
        return BuildCall(flags, settings.SessionId, settings.AgentUuid, settings.TaskId, includeResumeToken ? settings.ResumeToken : null, TapPassSession.Current);
    }
}
