using System.Xml;
using Microsoft.AspNetCore.Http;
using TapPass.Gateway.Http;
using TapPass.Governance;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Endpoints;

/// <summary>Tool governance, sessions, models, approvals and break-glass (PROTOCOL.md §6–§9).</summary>
internal static class ControlEndpoints
{
    private const int MaxToolNameLength = 256;
    private const int MaxReasonLength = 2000;
    private static readonly TimeSpan MaxBreakGlass = TimeSpan.FromDays(7);

    public static async Task GovernAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var (request, error) = await GatewayHttp.ReadJsonAsync(context, TapPassJsonContext.Default.GovernRequest, services.Options.MaxRequestBodyBytes);
        if (error is null && request is not null)
        {
            if (request.Payload is null || string.IsNullOrWhiteSpace(request.Payload.Tool))
            {
                error = GatewayError.InvalidRequest("'payload.tool' is required.", "payload.tool");
            }
            else if (request.Payload.Tool.Length > MaxToolNameLength)
            {
                error = GatewayError.InvalidRequest("'payload.tool' is too long.", "payload.tool");
            }
            else if (request.Enforcement is { Mode: not ("enforce" or "audit") })
            {
                error = GatewayError.InvalidRequest("'enforcement.mode' must be enforce or audit.", "enforcement.mode");
            }
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        var reply = await services.Transport.GovernAsync(call, request!, context.RequestAborted);
        services.Diagnostics.RecordDecision("/v1/govern", reply.Error?.Type ?? reply.Value?.Outcome ?? "none");
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.GovernResponse, services.TimeProvider);
    }

    public static async Task ReportExecutionAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var (report, error) = await GatewayHttp.ReadJsonAsync(context, TapPassJsonContext.Default.ExecutionReport, services.Options.MaxRequestBodyBytes);
        if (error is null && report is not null)
        {
            if (string.IsNullOrWhiteSpace(report.Tool) || report.Tool.Length > MaxToolNameLength)
            {
                error = GatewayError.InvalidRequest("'tool' is required (at most 256 characters).", "tool");
            }
            else if (report.DurationMs < 0 || double.IsNaN(report.DurationMs))
            {
                error = GatewayError.InvalidRequest("'duration_ms' must be a non-negative number.", "duration_ms");
            }
            else if (report.ResultSize is < 0)
            {
                error = GatewayError.InvalidRequest("'result_size' must be non-negative.", "result_size");
            }
            else if (report.ErrorType is { Length: > MaxToolNameLength })
            {
                error = GatewayError.InvalidRequest("'error_type' is too long.", "error_type");
            }
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        var reply = await services.Transport.ReportExecutionAsync(call, report!, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ExecutionReportResponse, services.TimeProvider);
    }

    public static async Task OpenSessionAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var (request, error) = await GatewayHttp.ReadJsonAsync(
            context, TapPassJsonContext.Default.SessionCreateRequest, services.Options.MaxRequestBodyBytes, static () => new SessionCreateRequest());
        if (error is null && request?.Metadata is { Count: > 64 })
        {
            error = GatewayError.InvalidRequest("'metadata' may hold at most 64 entries.", "metadata");
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        var reply = await services.Transport.OpenSessionAsync(call, request!, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.SessionResponse, services.TimeProvider);
    }

    public static async Task GetSessionAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        if (await RouteIdAsync(context, services, "No such session.") is not { } id)
        {
            return;
        }

        var admin = RequireAdmin(services);
        var reply = await admin.GetSessionAsync(call, id, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.SessionResponse, services.TimeProvider);
    }

    public static async Task CloseSessionAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        if (await RouteIdAsync(context, services, "No such session.") is not { } id)
        {
            return;
        }

        var reply = await services.Transport.CloseSessionAsync(call, id, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.SessionResponse, services.TimeProvider);
    }

    public static async Task ListModelsAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var reply = await RequireAdmin(services).ListModelsAsync(call, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ModelList, services.TimeProvider);
    }

    public static async Task GetApprovalAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        if (await RouteIdAsync(context, services, "No such approval.") is not { } id)
        {
            return;
        }

        var reply = await RequireAdmin(services).GetApprovalAsync(call, id, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ApprovalInfo, services.TimeProvider);
    }

    public static async Task DecideApprovalAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        if (await RouteIdAsync(context, services, "No such approval.") is not { } id)
        {
            return;
        }

        var (decision, error) = await GatewayHttp.ReadJsonAsync(context, TapPassJsonContext.Default.ApprovalDecisionRequest, services.Options.MaxRequestBodyBytes);
        if (error is null && decision is not null)
        {
            if (decision.Decision is not ("approve" or "deny"))
            {
                error = GatewayError.InvalidRequest("'decision' must be approve or deny.", "decision");
            }
            else if (decision.Reason is { Length: > MaxReasonLength })
            {
                error = GatewayError.InvalidRequest("'reason' is too long.", "reason");
            }
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        var reply = await RequireAdmin(services).DecideApprovalAsync(call, id, decision!, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ApprovalInfo, services.TimeProvider);
    }

    public static async Task DeclareBreakGlassAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var (request, error) = await GatewayHttp.ReadJsonAsync(context, GatewayJsonContext.Default.BreakGlassRequest, services.Options.MaxRequestBodyBytes);
        BreakGlassDeclaration? declaration = null;
        if (error is null && request is not null)
        {
            (declaration, error) = ValidateBreakGlass(request);
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        var reply = await RequireAdmin(services).DeclareBreakGlassAsync(call, declaration!, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.BreakGlassInfo, services.TimeProvider);
    }

    public static async Task EndBreakGlassAsync(HttpContext context, GatewayServices services, TapPassCall call)
    {
        var reply = await RequireAdmin(services).EndBreakGlassAsync(call, context.RequestAborted);
        await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.BreakGlassInfo, services.TimeProvider);
    }

    internal static (BreakGlassDeclaration?, GatewayError?) ValidateBreakGlass(BreakGlassRequest request)
    {
        var level = request.Level?.Trim().ToLowerInvariant();
        if (level is not ("halt" or "observe"))
        {
            return (null, GatewayError.InvalidRequest("'level' must be halt or observe.", "level"));
        }

        TimeSpan duration;
        try
        {
            duration = string.IsNullOrWhiteSpace(request.Duration) || request.Duration.Length > 64
                ? TimeSpan.Zero
                : XmlConvert.ToTimeSpan(request.Duration.Trim());
        }
        catch (FormatException)
        {
            duration = TimeSpan.Zero;
        }
        catch (OverflowException)
        {
            duration = TimeSpan.MaxValue;
        }

        if (duration <= TimeSpan.Zero || duration > MaxBreakGlass)
        {
            return (null, GatewayError.InvalidRequest("'duration' must be an ISO 8601 duration between PT1S and P7D, e.g. PT30M.", "duration"));
        }

        if (request.Reason is { Length: > MaxReasonLength })
        {
            return (null, GatewayError.InvalidRequest("'reason' is too long.", "reason"));
        }

        return (new BreakGlassDeclaration(level, duration, request.Reason), null);
    }

    private static IGatewayAdmin RequireAdmin(GatewayServices services) =>
        services.Admin ?? throw new GatewayUnavailableException("The governance engine does not provide administration (IGatewayAdmin is not registered).");

    /// <summary>The <c>{id}</c> route value, or null after answering 404 when it is not a plausible id.</summary>
    private static async ValueTask<string?> RouteIdAsync(HttpContext context, GatewayServices services, string notFound)
    {
        var id = context.Request.RouteValues["id"] as string;
        if (GatewayHttp.IsPlausibleId(id))
        {
            return id;
        }

        await GatewayHttp.WriteErrorAsync(context, GatewayError.NotFound(notFound), services.TimeProvider);
        return null;
    }
}

/// <summary>A dependency the route needs is not configured: answered 503 <c>unavailable</c>.</summary>
internal sealed class GatewayUnavailableException : Exception
{
    public GatewayUnavailableException()
    {
    }

    public GatewayUnavailableException(string message) : base(message)
    {
    }

    public GatewayUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
