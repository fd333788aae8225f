using Microsoft.AspNetCore.Http;
using TapPass.Transport;

namespace TapPass.AspNetCore.Sessions;

/// <summary>
/// Writes a request's session ids on its response when the response starts. The middleware sets the request's
/// <see cref="TapPassSession"/> itself as an <see cref="HttpContext.Features"/> entry (it is also how the exception
/// handler reaches the session after the ambient scope has ended), and registers <see cref="OnStarting"/> with the
/// <see cref="HttpContext"/> as state: no per-request object beyond the session.
/// </summary>
internal static class SessionResponseHeaders
{
    /// <summary>The <see cref="HttpResponse.OnStarting(Func{object, Task}, object)"/> callback; its state is the <see cref="HttpContext"/>.</summary>
    public static readonly Func<object, Task> OnStarting = static state =>
    {
        var context = (HttpContext)state;
        if (context.Features.Get<TapPassSession>() is { } session)
        {
            Write(context.Response.Headers, session);
        }

        return Task.CompletedTask;
    };

    /// <summary>Sets <c>X-TapPass-Session-Id</c> and <c>X-TapPass-Agent-Uuid</c> unless the endpoint set them.</summary>
    public static void Write(IHeaderDictionary headers, TapPassSession session)
    {
        if (session.SessionId is { } sessionId && !headers.ContainsKey(TapPassHeaders.SessionId))
        {
            headers[TapPassHeaders.SessionId] = sessionId;
        }

        if (session.AgentUuid is { } agentUuid && !headers.ContainsKey(TapPassHeaders.AgentUuid))
        {
            headers[TapPassHeaders.AgentUuid] = agentUuid;
        }
    }
}
