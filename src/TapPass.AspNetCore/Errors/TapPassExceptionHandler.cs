using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Transport;

namespace TapPass.AspNetCore.Errors;

/// <summary>
/// Writes every <see cref="TapPassException"/> as an RFC 9457 ProblemDetails through <see cref="IProblemDetailsService"/>,
/// with a TapPass <c>type</c> URI, <c>instance</c> (the request path), the trace id (see <see cref="ProblemTraceId"/>), the decision's fields and the
/// correlation ids as extensions. Logs each mapped exception once (the framework does not log handled exceptions).
/// Other exceptions are left to the next handler.
/// </summary>
internal sealed class TapPassExceptionHandler(
    IProblemDetailsService problemDetails,
    IOptions<TapPassOptions> options,
    TimeProvider timeProvider,
    IOptions<HttpJsonOptions> jsonOptions,
    ILogger<TapPassExceptionHandler> logger) : IExceptionHandler
{
    private readonly TapPassOptions _options = options.Value;

    /// <summary>The name of the trace id member when TapPass writes a problem itself (see <see cref="ProblemTraceId"/>).</summary>
    public string TraceIdMember { get; } = ProblemTraceId.MemberName(jsonOptions.Value);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not TapPassException tapPass || httpContext.Response.HasStarted)
        {
            return false;
        }

        var session = httpContext.Features.Get<TapPassSession>() ?? TapPassSession.Current;
        if (tapPass is GovernanceDecision decision)
        {
            // Ids the gateway assigned travel on the decision; record them so the response headers reflect them.
            session?.Observe(decision.SessionId, decision.AgentUuid, decision.AuditUrl);
            session?.ObserveTask(decision.TaskId);
        }

        var problem = TapPassProblemFactory.Create(tapPass, httpContext, session, _options, timeProvider, out var retryAfter);
        var status = problem.Status!.Value;
        httpContext.Response.StatusCode = status;
        if (retryAfter is { } seconds && status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        LogMapped(tapPass, status, session);

        var context = new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = tapPass };
        if (!await problemDetails.TryWriteAsync(context).ConfigureAwait(false))
        {
            // No writer accepted the request (e.g. an Accept header without JSON): still answer with the problem, with the
            // trace id a writer would have added (the result type adds none).
            ProblemTraceId.Add(problem, TraceIdMember, httpContext);
            await TypedResults.Problem(problem).ExecuteAsync(httpContext).ConfigureAwait(false);
        }

        return true;
    }

    private void LogMapped(TapPassException exception, int status, TapPassSession? session)
    {
        switch (exception)
        {
            case GovernanceDecision d:
                Log.DecisionMapped(
                    logger,
                    exception.GetType().Name,
                    status,
                    d switch { PolicyBlockException p => p.BlockedBy, ApprovalRequiredException a => a.BlockedBy, _ => null },
                    d.SessionId ?? session?.SessionId,
                    d.TaskId ?? session?.TaskId,
                    d.AgentUuid ?? session?.AgentUuid,
                    d.PipelineUuid);
                break;
            default:
                Log.ErrorMapped(logger, exception, exception.ErrorType ?? exception.GetType().Name, status, session?.SessionId);
                break;
        }
    }
}

/// <summary>Builds the ProblemDetails of a TapPass exception: the default mapping, then the application's.</summary>
internal static class TapPassProblemFactory
{
    private const int MaxRetryAfterSeconds = 86_400;

    public static ProblemDetails Create(
        TapPassException exception,
        HttpContext httpContext,
        TapPassSession? session,
        TapPassOptions options,
        TimeProvider timeProvider,
        out int? retryAfterSeconds)
    {
        retryAfterSeconds = null;
        var problem = new ProblemDetails { Instance = httpContext.Request.Path.HasValue ? httpContext.Request.PathBase.Add(httpContext.Request.Path).Value : "/" };
        var ext = problem.Extensions;
        switch (exception)
        {
            case PolicyBlockException e:
                Set(problem, StatusCodes.Status403Forbidden, TapPassProblemTypes.PolicyBlock, "Request blocked by policy", string.IsNullOrEmpty(e.Reason) ? e.Message : e.Reason);
                ext["blocked_by"] = e.BlockedBy;
                ext["reason"] = string.IsNullOrEmpty(e.Reason) ? e.Message : e.Reason;
                break;
            case ApprovalRequiredException e:
                Set(problem, StatusCodes.Status428PreconditionRequired, TapPassProblemTypes.ApprovalRequired, "Approval required", e.Reason ?? e.Message);
                ext["approval_url"] = e.ApprovalUrl;
                ext["resume_token"] = e.ResumeToken;
                ext["expires_at"] = Format(e.ExpiresAt);
                AddIfSet(ext, "approval_id", e.ApprovalId);
                break;
            case TrustTierDeniedException e:
                Set(problem, StatusCodes.Status403Forbidden, TapPassProblemTypes.TrustTierDenied, "Trust tier too low", e.Message);
                ext["required_tier"] = e.RequiredTier;
                ext["actual_tier"] = e.ActualTier;
                break;
            case BreakGlassActiveException e:
                Set(problem, StatusCodes.Status503ServiceUnavailable, TapPassProblemTypes.BreakGlassActive, "Governance break-glass active", e.Message);
                ext["level"] = e.Level;
                ext["expires_at"] = Format(e.ExpiresAt);
                retryAfterSeconds = RetryAfterSeconds(e, options, timeProvider);
                break;
            case ToolIntegrityViolationException e:
                Set(problem, StatusCodes.Status422UnprocessableEntity, TapPassProblemTypes.ToolIntegrityViolation, "Tool integrity violation", e.Message);
                ext["tool_name"] = e.ToolName;
                ext["violation"] = e.Violation;
                break;
            case RedactionAppliedException e:
                // The application asked to be told about masked answers and did not handle it: the unmasked answer
                // cannot be delivered, and the masked one is withheld rather than leaked into an error body.
                Set(problem, StatusCodes.Status422UnprocessableEntity, TapPassProblemTypes.RedactionApplied, "Answer redacted",
                    "The answer contained data that governance masked; the application does not deliver masked answers.");
                ext["redacted_types"] = e.Redactions.Select(static r => r.Type).Distinct(StringComparer.Ordinal).ToArray();
                break;
            case GovernanceDecision e:
                Set(problem, StatusCodes.Status403Forbidden, TapPassProblemTypes.GovernanceDecision, "Refused by governance", e.Message);
                break;
            case TapPassConnectionException:
                Set(problem, StatusCodes.Status503ServiceUnavailable, TapPassProblemTypes.GovernanceUnavailable, "Governance unavailable",
                    "The TapPass governance gateway could not be reached, so the request was refused (fail closed).");
                break;
            case TapPassConfigException { Flag: not null } e:
                Set(problem, StatusCodes.Status400BadRequest, TapPassProblemTypes.InvalidFlags, "Invalid governance flags", e.Message);
                ext["flag"] = e.Flag;
                AddIfSet(ext, "value", e.Value);
                ext["allowed"] = e.Allowed.ToArray();
                break;
            case TapPassConfigException or TapPassAuthenticationException:
                Set(problem, StatusCodes.Status500InternalServerError, TapPassProblemTypes.ConfigurationError, "TapPass misconfigured",
                    "TapPass is misconfigured on this server; see its logs.");
                break;
            case TapPassAuthorizationException e:
                Set(problem, StatusCodes.Status403Forbidden, TapPassProblemTypes.SessionForbidden, "TapPass session forbidden", e.Message);
                break;
            case TapPassUpstreamException:
                Set(problem, StatusCodes.Status502BadGateway, TapPassProblemTypes.UpstreamError, "Model provider failed",
                    "The model provider behind the TapPass gateway failed.");
                break;
            default:
                Set(problem, StatusCodes.Status500InternalServerError, TapPassProblemTypes.GatewayError, "TapPass error",
                    "The TapPass gateway could not complete the call.");
                break;
        }

        AddCorrelation(problem, exception as GovernanceDecision, session);
        ApplyCustomMappings(problem, exception, httpContext, options);
        return problem;
    }

    private static void Set(ProblemDetails problem, int status, string type, string title, string detail)
    {
        problem.Status = status;
        problem.Type = type;
        problem.Title = title;
        problem.Detail = detail;
    }

    private static void AddCorrelation(ProblemDetails problem, GovernanceDecision? decision, TapPassSession? session)
    {
        var ext = problem.Extensions;
        AddIfSet(ext, "session_id", decision?.SessionId ?? session?.SessionId);
        AddIfSet(ext, "task_id", decision?.TaskId ?? session?.TaskId);
        AddIfSet(ext, "agent_uuid", decision?.AgentUuid ?? session?.AgentUuid);
        AddIfSet(ext, "pipeline_uuid", decision?.PipelineUuid);
        AddIfSet(ext, "audit_url", decision?.AuditUrl ?? session?.AuditUrl);
        if (decision?.Classification is { } classification)
        {
            ext["classification"] = classification.ToWire();
        }
    }

    private static void ApplyCustomMappings(ProblemDetails problem, TapPassException exception, HttpContext httpContext, TapPassOptions options)
    {
        var mappings = options.Mappings;
        if (mappings.Count == 0)
        {
            return;
        }

        // Status: the most specific type with a custom status. Customisers: every level, base types first.
        var chain = new List<DecisionMapping>(4);
        for (var type = exception.GetType(); type is not null && type != typeof(Exception); type = type.BaseType)
        {
            if (mappings.TryGetValue(type, out var mapping))
            {
                chain.Add(mapping);
            }
        }

        foreach (var mapping in chain)
        {
            if (mapping.StatusCode is { } status)
            {
                problem.Status = status;
                break;
            }
        }

        for (var i = chain.Count - 1; i >= 0; i--)
        {
            chain[i].Customize?.Invoke(httpContext, problem, exception);
        }

        if (problem.Status is not (>= 400 and <= 599))
        {
            throw new InvalidOperationException($"A TapPass problem mapping set status {problem.Status}; it must be 4xx or 5xx.");
        }
    }

    private static int RetryAfterSeconds(BreakGlassActiveException exception, TapPassOptions options, TimeProvider timeProvider)
    {
        var wait = exception.RetryAfter
                   ?? (exception.ExpiresAt is { } end ? end - timeProvider.GetUtcNow() : (TimeSpan?)null)
                   ?? options.BreakGlassRetryAfter;
        if (wait <= TimeSpan.Zero)
        {
            wait = options.BreakGlassRetryAfter;
        }

        return (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, MaxRetryAfterSeconds);
    }

    private static string? Format(DateTimeOffset? value) =>
        value?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void AddIfSet(IDictionary<string, object?> extensions, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            extensions[key] = value;
        }
    }
}
