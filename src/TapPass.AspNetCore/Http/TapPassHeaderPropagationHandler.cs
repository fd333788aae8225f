using TapPass.Transport;

namespace TapPass.AspNetCore.Http;

/// <summary>
/// Stamps the ambient session's <c>X-TapPass-Session-Id</c>, <c>X-TapPass-Agent-Uuid</c> and <c>X-TapPass-Task-Id</c>
/// on outgoing requests so downstream services continue the correlation chain. Never overwrites a header the caller
/// set (for the session id, any of its aliases counts as set). Outside a session it does nothing.
/// </summary>
internal sealed class TapPassHeaderPropagationHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Stamp(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Stamp(request);
        return base.Send(request, cancellationToken);
    }

    internal static void Stamp(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (TapPassSession.Current is not { } session)
        {
            return;
        }

        var headers = request.Headers;
        if (session.SessionId is { } sessionId &&
            !headers.Contains(TapPassHeaders.SessionId) &&
            !headers.Contains(TapPassHeaders.SessionIdAlias) &&
            !headers.Contains(TapPassHeaders.SessionIdAlias2))
        {
            headers.TryAddWithoutValidation(TapPassHeaders.SessionId, sessionId);
        }

        if (session.AgentUuid is { } agentUuid && !headers.Contains(TapPassHeaders.AgentUuid))
        {
            headers.TryAddWithoutValidation(TapPassHeaders.AgentUuid, agentUuid);
        }

        if (session.TaskId is { } taskId && !headers.Contains(TapPassHeaders.TaskId))
        {
            headers.TryAddWithoutValidation(TapPassHeaders.TaskId, taskId);
        }
    }
}
