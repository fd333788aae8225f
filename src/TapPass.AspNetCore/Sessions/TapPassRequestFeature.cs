using Microsoft.AspNetCore.Http;
using TapPass.Transport;

namespace TapPass.AspNetCore.Sessions;

/// <summary>
/// The session of one request, set on <see cref="HttpContext.Features"/> by the middleware. Lets the exception
/// handler and the response-header callback reach the session after the ambient scope has ended. It is also the
/// state of the static <see cref="HttpResponse.OnStarting(Func{object, Task}, object)"/> callback, so a request
/// costs one object here.
/// </summary>
internal sealed class TapPassRequestFeature(HttpContext context, TapPassSession session)
{
    /// <summary>Writes the session headers when the response starts. Static: no per-request closure.</summary>
    public static readonly Func<object, Task> OnStarting = static state =>
    {
        ((TapPassRequestFeature)state).WriteResponseHeaders();
        return Task.CompletedTask;
    };

    public HttpContext Context { get; } = context;

    public TapPassSession Session { get; } = session;

    /// <summary>Sets <c>X-TapPass-Session-Id</c> and <c>X-TapPass-Agent-Uuid</c> unless the endpoint set them.</summary>
    public void WriteResponseHeaders()
    {
        var headers = Context.Response.Headers;
        if (Session.SessionId is { } sessionId && !headers.ContainsKey(TapPassHeaders.SessionId))
        {
            headers[TapPassHeaders.SessionId] = sessionId;
        }

        if (Session.AgentUuid is { } agentUuid && !headers.ContainsKey(TapPassHeaders.AgentUuid))
        {
            headers[TapPassHeaders.AgentUuid] = agentUuid;
        }
    }
}
