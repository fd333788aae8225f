using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using TapPass.AspNetCore.Errors;

namespace TapPass.AspNetCore.Sessions;

/// <summary>
/// Sets the ambient <see cref="TapPassSession"/> for each request and ends it in <c>finally</c>, so nothing leaks
/// into another request or into work that outlives this one. A request carrying session headers joins that session;
/// one without them runs in an empty session the gateway fills on the first call, or, with
/// <see cref="TapPassMiddlewareOptions.AutoOpenSession"/>, in a session opened for it and closed once the response
/// has completed. Malformed headers are answered with a 400 ProblemDetails before anything else runs.
/// </summary>
internal sealed class TapPassMiddleware
{
    private readonly RequestDelegate _next;
    private readonly bool _autoOpen;
    private readonly bool _acceptAliases;
    private readonly bool _emitHeaders;
    private readonly bool _handleExceptions;
    private readonly ITapPassSessionLifecycle _lifecycle;
    private readonly TapPassExceptionHandler _exceptionHandler;
    private readonly IProblemDetailsService _problemDetails;
    private readonly ILogger _logger;

    public TapPassMiddleware(
        RequestDelegate next,
        TapPassMiddlewareOptions options,
        ITapPassSessionLifecycle lifecycle,
        TapPassExceptionHandler exceptionHandler,
        IProblemDetailsService problemDetails,
        ILogger<TapPassMiddleware> logger)
    {
        _next = next;
        _autoOpen = options.AutoOpenSession;
        _acceptAliases = options.AcceptSessionHeaderAliases;
        _emitHeaders = options.EmitSessionHeaders;
        _handleExceptions = options.HandleExceptions;
        _lifecycle = lifecycle;
        _exceptionHandler = exceptionHandler;
        _problemDetails = problemDetails;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var headers = SessionHeaderReader.Read(context.Request.Headers, _acceptAliases);
        if (headers.Error != SessionHeaderError.None)
        {
            return RejectAsync(context, headers);
        }

        return headers.SessionId is null && _autoOpen
            ? InvokeAutoOpenedAsync(context, headers.AgentUuid, headers.TaskId)
            : InvokeInSessionAsync(context, headers.SessionId, headers.AgentUuid, headers.TaskId, autoOpened: false, auditUrl: null);
    }

    // Per request this costs the session (also the request feature; the OnStarting state is the HttpContext) and the
    // runtime's write of the ambient value (a new ExecutionContext and async-local value map). The session is entered
    // inside this async method, so it is ambient only in the request's own execution context: the method's return
    // restores the caller's (the server's connection loop) without a second async-local write, and ending the session
    // in finally makes Current null for work that captured it and outlives the request. Synchronous completion neither
    // boxes this state machine nor allocates a Task.
    private async Task InvokeInSessionAsync(HttpContext context, string? sessionId, string? agentUuid, string? taskId, bool autoOpened, string? auditUrl)
    {
        var session = TapPassSession.Enter(sessionId, agentUuid, taskId, autoOpened);
        try
        {
            if (auditUrl is not null)
            {
                session.Observe(sessionId, agentUuid, auditUrl);
            }

            context.Features.Set(session);
            if (_emitHeaders)
            {
                context.Response.OnStarting(SessionResponseHeaders.OnStarting, context);
            }

            await _next(context).ConfigureAwait(false);
        }
        catch (TapPassException ex) when (_handleExceptions && !context.Response.HasStarted)
        {
            context.Response.Clear();
            if (!await _exceptionHandler.TryHandleAsync(context, ex, context.RequestAborted).ConfigureAwait(false))
            {
                throw;
            }
        }
        finally
        {
            session.TryEnd();
        }
    }

    private async Task InvokeAutoOpenedAsync(HttpContext context, string? agentUuid, string? taskId)
    {
        string sessionId;
        string? owner;
        string? auditUrl;
        try
        {
            var opened = await _lifecycle.OpenAsync(agentUuid, taskId, context.RequestAborted).ConfigureAwait(false);
            if (!TapPassSession.IsWellFormedId(opened.SessionId))
            {
                throw new TapPassException("The TapPass gateway opened a session with a malformed id.");
            }

            sessionId = opened.SessionId;
            owner = TapPassSession.IsWellFormedAgentUuid(opened.AgentUuid) ? opened.AgentUuid : agentUuid;
            auditUrl = opened.AuditUrl;
            Log.SessionOpened(_logger, sessionId);
            context.Response.OnCompleted(SessionCloser.Callback, new SessionCloser(this, sessionId, owner));
        }
        catch (TapPassException ex) when (_handleExceptions && !context.Response.HasStarted)
        {
            // Opening failed (gateway down, break-glass, bad key): fail closed with the mapped problem.
            await _exceptionHandler.TryHandleAsync(context, ex, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        await InvokeInSessionAsync(context, sessionId, owner, taskId, autoOpened: true, auditUrl).ConfigureAwait(false);
    }

    private async Task RejectAsync(HttpContext context, SessionHeaders headers)
    {
        var header = headers.Header!;
        var detail = SessionHeaderReader.Describe(headers.Error, header);
        Log.InvalidSessionHeader(_logger, header, headers.Error.ToString());
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Type = TapPassProblemTypes.InvalidSessionHeader,
            Title = "Invalid TapPass session header",
            Detail = detail,
            Instance = context.Request.PathBase.Add(context.Request.Path).Value is { Length: > 0 } path ? path : "/",
        };
        problem.Extensions["header"] = header;
        if (!await _problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).ConfigureAwait(false))
        {
            ProblemTraceId.Add(problem, _exceptionHandler.TraceIdMember, context);
            await TypedResults.Problem(problem).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>Closes an auto-opened session once the response has completed; failures are logged, never thrown.</summary>
    private sealed class SessionCloser(TapPassMiddleware middleware, string sessionId, string? agentUuid)
    {
        public static readonly Func<object, Task> Callback = static state => ((SessionCloser)state).CloseAsync();

        private async Task CloseAsync()
        {
            try
            {
                await middleware._lifecycle.CloseAsync(sessionId, agentUuid, CancellationToken.None).ConfigureAwait(false);
                Log.SessionClosed(middleware._logger, sessionId);
            }
            catch (Exception ex) when (ex is TapPassException or OperationCanceledException or HttpRequestException)
            {
                Log.SessionCloseFailed(middleware._logger, ex, sessionId);
            }
        }
    }
}
