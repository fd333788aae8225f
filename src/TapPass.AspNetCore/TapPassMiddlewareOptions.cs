namespace TapPass.AspNetCore;

/// <summary>Options of one <c>app.UseTapPass(...)</c> middleware instance.</summary>
public sealed class TapPassMiddlewareOptions
{
    /// <summary>
    /// Open a fresh TapPass session for each request that carries no session header, and close it once the response
    /// has completed. When false, such a request runs in an empty session that the gateway fills on the first call
    /// (its id is echoed so the client can continue it). Default: <see cref="TapPassOptions.AutoOpenSession"/> (false).
    /// </summary>
    public bool AutoOpenSession { get; set; }

    /// <summary>Also accept the session header aliases <c>X-TapPass-Session</c> and <c>X-Session-Id</c>
    /// (PROTOCOL.md §2). Turn off when the application uses <c>X-Session-Id</c> for something else. Default true.</summary>
    public bool AcceptSessionHeaderAliases { get; set; } = true;

    /// <summary>Write <c>X-TapPass-Session-Id</c> and <c>X-TapPass-Agent-Uuid</c> on every response, error responses
    /// included, with the ids in force when the response starts. A header the endpoint set is kept. Default true.</summary>
    public bool EmitSessionHeaders { get; set; } = true;

    /// <summary>
    /// Map TapPass exceptions thrown by later middleware and endpoints to ProblemDetails right here, so decisions are
    /// answered even without <c>app.UseExceptionHandler()</c>. When false they propagate to the exception-handler
    /// middleware, where the same mapping is registered as an <c>IExceptionHandler</c>. Default true.
    /// </summary>
    public bool HandleExceptions { get; set; } = true;
}
