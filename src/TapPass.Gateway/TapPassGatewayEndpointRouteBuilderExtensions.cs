using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TapPass;
using TapPass.Gateway;
using TapPass.Gateway.Diagnostics;
using TapPass.Gateway.Endpoints;
using TapPass.Gateway.Http;
using TapPass.Governance.Audit;
using TapPass.Protocol;
using TapPass.Transport;

#pragma warning disable IDE0130 // Extension methods live in the framework's namespace so they are found without a using.
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

/// <summary>Maps the TapPass gateway's HTTP API.</summary>
public static class TapPassGatewayEndpointRouteBuilderExtensions
{
    private static readonly string[] AllMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    /// <summary>
    /// Maps the TapPass wire protocol (PROTOCOL.md): <c>POST /v1/chat/completions</c> (JSON and server-sent events),
    /// <c>POST /v1/govern</c>, <c>POST /v1/govern/execution</c>, <c>POST /v1/sessions</c>,
    /// <c>GET|DELETE /v1/sessions/{id}</c>, <c>GET /v1/models</c>, <c>GET /v1/audit</c>, <c>GET /v1/audit/verify</c>,
    /// <c>GET /v1/approvals/{id}</c>, <c>POST /v1/approvals/{id}/decide</c>, <c>POST|DELETE /v1/admin/break-glass</c>,
    /// the HTML pages <c>GET /audit/sessions/{id}</c> and <c>GET /approvals/{id}</c>, <c>GET /health</c>,
    /// <c>/health/live</c>, <c>/health/ready</c> and <c>GET /.well-known/jwks.json</c>. Every non-2xx answer is the
    /// <c>{"error": {...}}</c> envelope, including unknown <c>/v1</c> routes (404), wrong methods (405) and unhandled
    /// errors (500, without details).
    /// </summary>
    /// <param name="endpoints">The application's route builder.</param>
    /// <returns>A builder for conventions that apply to every gateway endpoint (e.g. host filtering or rate limits).</returns>
    /// <exception cref="InvalidOperationException">
    /// <see cref="TapPassGatewayServiceCollectionExtensions.AddTapPassGateway"/> was not called, or no
    /// <see cref="ITapPassTransport"/> (the governance engine) is registered.
    /// </exception>
    public static IEndpointConventionBuilder MapTapPassGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<GatewayMarker>() is null)
        {
            throw new InvalidOperationException(
                "MapTapPassGateway() requires the gateway services: call builder.Services.AddTapPassGateway() before building the app.");
        }

        var services = new GatewayServices(endpoints.ServiceProvider);
        var group = endpoints.MapGroup("");
        var routes = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        void Call(string method, string pattern, Func<HttpContext, GatewayServices, TapPassCall, Task> handler)
        {
            Track(routes, pattern, method);
            group.MapMethods(pattern, [method], Wrap(services, pattern, async context =>
            {
                var call = GatewayHttp.ReadCall(context.Request, out var headerError);
                if (headerError is not null)
                {
                    await GatewayHttp.WriteErrorAsync(context, headerError, services.TimeProvider);
                    return;
                }

                if (call.ApiKey is null)
                {
                    await GatewayHttp.WriteErrorAsync(context, GatewayError.Unauthorized(), services.TimeProvider);
                    return;
                }

                var activity = Activity.Current;
                if (activity is not null && activity.Source == GatewayDiagnostics.ActivitySource)
                {
                    call = call with { TraceParent = activity.Id, TraceState = activity.TraceStateString };
                }

                await handler(context, services, call);
            })).WithDisplayName("TapPass " + method + " " + pattern);
        }

        void Plain(string method, string pattern, Func<HttpContext, GatewayServices, Task> handler)
        {
            Track(routes, pattern, method);
            group.MapMethods(pattern, [method], Wrap(services, pattern, context => handler(context, services)))
                .WithDisplayName("TapPass " + method + " " + pattern);
        }

        Call("POST", ChatEndpoints.Route, ChatEndpoints.HandleAsync);
        Call("POST", "/v1/govern", ControlEndpoints.GovernAsync);
        Call("POST", "/v1/govern/execution", ControlEndpoints.ReportExecutionAsync);
        Call("POST", "/v1/sessions", ControlEndpoints.OpenSessionAsync);
        Call("GET", "/v1/sessions/{id}", ControlEndpoints.GetSessionAsync);
        Call("DELETE", "/v1/sessions/{id}", ControlEndpoints.CloseSessionAsync);
        Call("GET", "/v1/models", ControlEndpoints.ListModelsAsync);
        Call("GET", "/v1/approvals/{id}", ControlEndpoints.GetApprovalAsync);
        Call("POST", "/v1/approvals/{id}/decide", ControlEndpoints.DecideApprovalAsync);
        Call("POST", "/v1/admin/break-glass", ControlEndpoints.DeclareBreakGlassAsync);
        Call("DELETE", "/v1/admin/break-glass", ControlEndpoints.EndBreakGlassAsync);
        Plain("GET", "/v1/audit", AuditEndpoints.QueryAsync);
        Plain("GET", "/v1/audit/verify", AuditEndpoints.VerifyAsync);
        Plain("GET", "/audit/sessions/{id}", AuditEndpoints.SessionPageAsync);
        Plain("GET", "/approvals/{id}", AuditEndpoints.ApprovalPageAsync);
        Plain("GET", "/health", HealthAsync);
        Plain("GET", "/health/live", HealthAsync);
        Plain("GET", "/health/ready", ReadyAsync);
        Plain("GET", "/.well-known/jwks.json", JwksAsync);

        // Wrong method on a known route: 405 with Allow and the envelope. Lower priority than the real endpoints.
        foreach (var (pattern, methods) in routes)
        {
            var allow = string.Join(", ", methods);
            group.MapMethods(pattern, AllMethods.Except(methods, StringComparer.Ordinal), Wrap(services, pattern, context =>
            {
                context.Response.Headers.Allow = allow;
                return GatewayHttp.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, new ErrorBody
                {
                    Type = ErrorTypes.InvalidRequest,
                    Message = $"Method {context.Request.Method} is not allowed here; use {allow}.",
                }, null, services.TimeProvider);
            })).WithDisplayName("TapPass 405 " + pattern);
        }

        // Unknown /v1 route: 404 envelope.
        group.MapFallback("/v1/{**path}", Wrap(services, "/v1/{**path}", context =>
            GatewayHttp.WriteErrorAsync(context, GatewayError.NotFound($"Unknown route {context.Request.Method} {context.Request.Path}."), services.TimeProvider)));

        return group;
    }

    private static void Track(Dictionary<string, List<string>> routes, string pattern, string method)
    {
        if (!routes.TryGetValue(pattern, out var methods))
        {
            routes[pattern] = methods = [];
        }

        methods.Add(method);
    }

    private static RequestDelegate Wrap(GatewayServices services, string route, RequestDelegate inner) => async context =>
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = GatewayDiagnostics.StartRequest(route, context.Request.Headers.TraceParent.ToString() is { Length: > 0 and <= GatewayHttp.MaxHeaderLength } tp ? tp : null, context.Request.Headers.TraceState.ToString() is { Length: > 0 and <= GatewayHttp.MaxHeaderLength } ts ? ts : null);
        activity?.SetTag("http.route", route);
        activity?.SetTag("http.request.method", context.Request.Method);
        try
        {
            await inner(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex)
        {
            await HandleExceptionAsync(context, services, route, ex);
        }
        finally
        {
            var status = context.Response.StatusCode;
            activity?.SetTag("http.response.status_code", status);
            if (status >= 500)
            {
                activity?.SetStatus(ActivityStatusCode.Error);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            services.Diagnostics.RecordRequest(route, context.Request.Method, status, elapsed);
            GatewayLog.RequestCompleted(services.Logger, context.Request.Method, route, status, elapsed.TotalMilliseconds);
        }
    };

    private static async Task HandleExceptionAsync(HttpContext context, GatewayServices services, string route, Exception ex)
    {
        (int Status, ErrorBody Error) answer = ex switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (413, GatewayError.TooLarge(services.Options.MaxRequestBodyBytes).Error),
            BadHttpRequestException bad =>
                (bad.StatusCode, new ErrorBody { Type = ErrorTypes.InvalidRequest, Message = "The request could not be read." }),
            GatewayUnavailableException unavailable =>
                (503, new ErrorBody { Type = ErrorTypes.Unavailable, Message = unavailable.Message }),
            TapPassConnectionException =>
                (503, new ErrorBody { Type = ErrorTypes.Unavailable, Message = "The governance engine is unavailable." }),
            _ => (500, new ErrorBody { Type = "internal_error", Message = "An internal error occurred." }),
        };

        if (answer.Status >= 500)
        {
            GatewayLog.RequestFailed(services.Logger, context.Request.Method, route, ex);
        }

        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        await GatewayHttp.WriteErrorAsync(context, answer.Status, answer.Error, null, services.TimeProvider);
    }

    private static Task HealthAsync(HttpContext context, GatewayServices services) =>
        GatewayHttp.WriteJsonAsync(
            context,
            new HealthResponse { Status = "healthy", Version = GatewayServices.ProductVersion, ApiVersion = TapPassGatewayOptions.ApiVersion },
            TapPassJsonContext.Default.HealthResponse);

    private static async Task ReadyAsync(HttpContext context, GatewayServices services)
    {
        var health = context.RequestServices.GetRequiredService<HealthCheckService>();
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(TapPassGatewayServiceCollectionExtensions.ReadyTag), context.RequestAborted);
        if (report.Status == HealthStatus.Unhealthy)
        {
            var failing = string.Join(", ", report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy).Select(e => e.Key));
            await GatewayHttp.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, new ErrorBody
            {
                Type = ErrorTypes.Unavailable,
                Message = "Not ready: " + failing + ".",
            }, TimeSpan.FromSeconds(5), services.TimeProvider);
            return;
        }

        await GatewayHttp.WriteJsonAsync(
            context,
            new HealthResponse
            {
                Status = report.Status == HealthStatus.Healthy ? "healthy" : "degraded",
                Version = GatewayServices.ProductVersion,
                ApiVersion = TapPassGatewayOptions.ApiVersion,
            },
            TapPassJsonContext.Default.HealthResponse);
    }

    private static Task JwksAsync(HttpContext context, GatewayServices services)
    {
        var keys = new Dictionary<string, EcPublicJwk>(StringComparer.Ordinal);
        foreach (var key in services.Admin?.GetPublicKeys() ?? [])
        {
            keys.TryAdd(key.Kid, key);
        }

        if (services.AuditLog is IAuditLogProbe audit)
        {
            keys.TryAdd(audit.PublicKey.Kid, audit.PublicKey);
        }

        context.Response.Headers.CacheControl = "public, max-age=300";
        return GatewayHttp.WriteJsonAsync(context, new JwksDocument { Keys = [.. keys.Values] }, GatewayJsonContext.Default.JwksDocument);
    }
}
