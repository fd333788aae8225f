using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TapPass.Gateway.Http;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Protocol;

namespace TapPass.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/audit</c>, <c>GET /v1/audit/verify</c> and the HTML page <c>GET /audit/sessions/{id}</c> (PROTOCOL.md §9).
/// </summary>
/// <remarks>
/// Access: every audit route needs a valid key, because a session id never grants access by itself (PROTOCOL.md §2).
/// Admin keys read every event; an agent key reads only its own agent's events in its own org. The HTML pages also
/// accept HTTP Basic with the key as password, so a browser can open <c>audit_url</c>/<c>approval_url</c> (it prompts).
/// Pages show metadata only: captured content (when the operator enabled capture) is never rendered.
/// </remarks>
internal static class AuditEndpoints
{
    public static async Task QueryAsync(HttpContext context, GatewayServices services)
    {
        var caller = await AuthenticateAsync(context, services, allowBasic: false);
        if (caller is null)
        {
            await GatewayHttp.WriteErrorAsync(context, GatewayError.Unauthorized(), services.TimeProvider);
            return;
        }

        var (query, error) = ParseQuery(context.Request.Query);
        if (error is null && !caller.IsAdmin && query!.AgentId is not null && query.AgentId != caller.AgentId)
        {
            error = new GatewayError(StatusCodes.Status403Forbidden, new ErrorBody
            {
                Type = ErrorTypes.SessionForbidden,
                Message = "An agent key can read only its own agent's audit events.",
            });
        }

        if (error is not null)
        {
            await GatewayHttp.WriteErrorAsync(context, error, services.TimeProvider);
            return;
        }

        if (!caller.IsAdmin)
        {
            query = query! with { AgentId = caller.AgentId };
        }

        AuditPage page;
        try
        {
            page = await RequireLog(services).QueryAsync(query!, context.RequestAborted);
        }
        catch (ArgumentException)
        {
            await GatewayHttp.WriteErrorAsync(context, GatewayError.InvalidRequest("Invalid cursor.", "cursor"), services.TimeProvider);
            return;
        }

        var response = new AuditListResponse { NextCursor = page.NextCursor };
        foreach (var record in Visible(page.Records, caller))
        {
            response.Data.Add(new AuditRecordDto
            {
                Seq = record.Sequence,
                Event = JsonSerializer.SerializeToElement(record.Event, AuditJsonContext.Default.AuditEvent),
                PrevHash = record.PrevHash,
                Hash = record.Hash,
                Signature = record.Signature,
                SignedSeq = record.SignedSequence,
            });
        }

        await GatewayHttp.WriteJsonAsync(context, response, GatewayJsonContext.Default.AuditListResponse);
    }

    public static async Task VerifyAsync(HttpContext context, GatewayServices services)
    {
        if (await AuthenticateAsync(context, services, allowBasic: false) is null)
        {
            await GatewayHttp.WriteErrorAsync(context, GatewayError.Unauthorized(), services.TimeProvider);
            return;
        }

        var result = await RequireLog(services).VerifyAsync(context.RequestAborted);
        await GatewayHttp.WriteJsonAsync(
            context,
            new AuditVerifyResponse { Verified = result.Verified, EventsChecked = result.EventsChecked, FirstBadEvent = result.FirstBadEvent },
            GatewayJsonContext.Default.AuditVerifyResponse);
    }

    public static async Task SessionPageAsync(HttpContext context, GatewayServices services)
    {
        var caller = await AuthenticateAsync(context, services, allowBasic: true);
        if (caller is null)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"TapPass\", charset=\"UTF-8\"";
            await GatewayHttp.WriteErrorAsync(context, StatusCodes.Status401Unauthorized, GatewayError.Unauthorized().Error, null, services.TimeProvider);
            return;
        }

        var id = context.Request.RouteValues["id"] as string;
        if (!GatewayHttp.IsPlausibleId(id))
        {
            await GatewayHttp.WriteErrorAsync(context, GatewayError.NotFound("No such session."), services.TimeProvider);
            return;
        }

        var log = RequireLog(services);
        var records = new List<AuditRecord>();
        string? cursor = null;
        var truncated = false;
        do
        {
            var page = await log.QueryAsync(
                new AuditQuery { SessionId = id, AgentId = caller.IsAdmin ? null : caller.AgentId, Limit = SqliteAuditLog.MaxPageSize, Cursor = cursor },
                context.RequestAborted);
            records.AddRange(Visible(page.Records, caller));
            cursor = page.NextCursor;
            if (records.Count >= services.Options.MaxAuditPageEvents)
            {
                truncated = cursor is not null || records.Count > services.Options.MaxAuditPageEvents;
                records.RemoveRange(services.Options.MaxAuditPageEvents, records.Count - services.Options.MaxAuditPageEvents);
                break;
            }
        }
        while (cursor is not null);

        await HtmlPages.WriteAsync(context, HtmlPages.SessionAudit(id!, records, truncated));
    }

    public static async Task ApprovalPageAsync(HttpContext context, GatewayServices services)
    {
        var call = GatewayHttp.ReadCall(context.Request, out _, allowBasic: true);
        if (call.ApiKey is null)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"TapPass\", charset=\"UTF-8\"";
            await GatewayHttp.WriteErrorAsync(context, StatusCodes.Status401Unauthorized, GatewayError.Unauthorized().Error, null, services.TimeProvider);
            return;
        }

        var id = context.Request.RouteValues["id"] as string;
        if (!GatewayHttp.IsPlausibleId(id))
        {
            await GatewayHttp.WriteErrorAsync(context, GatewayError.NotFound("No such approval."), services.TimeProvider);
            return;
        }

        var admin = services.Admin ?? throw new GatewayUnavailableException("IGatewayAdmin is not registered.");
        var reply = await admin.GetApprovalAsync(call, id!, context.RequestAborted);
        if (!reply.IsSuccess)
        {
            if (reply.StatusCode == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"TapPass\", charset=\"UTF-8\"";
            }

            await GatewayHttp.WriteReplyAsync(context, reply, TapPassJsonContext.Default.ApprovalInfo, services.TimeProvider);
            return;
        }

        await HtmlPages.WriteAsync(context, HtmlPages.Approval(id!, reply.Value!, services.TimeProvider));
    }

    internal static (AuditQuery?, GatewayError?) ParseQuery(IQueryCollection q)
    {
        var query = new AuditQuery { Limit = 100 };
        foreach (var name in new[] { "session_id", "agent_id", "event_type", "cursor" })
        {
            var value = q[name].ToString();
            if (value.Length > 200)
            {
                return (null, GatewayError.InvalidRequest($"'{name}' is too long.", name));
            }
        }

        query = query with
        {
            SessionId = NullIfEmpty(q["session_id"].ToString()),
            AgentId = NullIfEmpty(q["agent_id"].ToString()),
            EventType = NullIfEmpty(q["event_type"].ToString()),
            Cursor = NullIfEmpty(q["cursor"].ToString()),
        };

        var limit = q["limit"].ToString();
        if (limit.Length > 0)
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > SqliteAuditLog.MaxPageSize)
            {
                return (null, GatewayError.InvalidRequest("'limit' must be an integer from 1 to 1000.", "limit"));
            }

            query = query with { Limit = n };
        }

        var since = q["since"].ToString();
        if (since.Length > 0)
        {
            if (since.Length > 64 || !DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            {
                return (null, GatewayError.InvalidRequest("'since' must be an ISO 8601 timestamp.", "since"));
            }

            query = query with { Since = t };
        }

        return (query, null);
    }

    // Admins read their own org's events (and org-less system events); agents only their own agent's events.
    private static IEnumerable<AuditRecord> Visible(IEnumerable<AuditRecord> records, GatewayCaller caller) =>
        caller.IsAdmin
            ? records.Where(r => r.Event.Org is null || r.Event.Org == caller.Org)
            : records.Where(r => r.Event.Org == caller.Org && r.Event.AgentId == caller.AgentId);

    private static async Task<GatewayCaller?> AuthenticateAsync(HttpContext context, GatewayServices services, bool allowBasic)
    {
        var key = GatewayHttp.ReadApiKey(context.Request, allowBasic);
        if (key is null)
        {
            return null;
        }

        var admin = services.Admin ?? throw new GatewayUnavailableException("IGatewayAdmin is not registered.");
        return await admin.AuthenticateAsync(key, context.RequestAborted);
    }

    private static IAuditLog RequireLog(GatewayServices services) =>
        services.AuditLog ?? throw new GatewayUnavailableException("No audit log is registered.");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>The gateway's two HTML pages. Every dynamic value is HTML-encoded.</summary>
internal static class HtmlPages
{
    private const string Style = "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}code{font-size:.85em}";

    public static async Task WriteAsync(HttpContext context, string html)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
        await response.WriteAsync(html, Encoding.UTF8, context.RequestAborted);
    }

    public static string SessionAudit(string sessionId, IReadOnlyList<AuditRecord> records, bool truncated)
    {
        var e = HtmlEncoder.Default;
        var html = new StringBuilder(4096);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TapPass audit — ")
            .Append(e.Encode(sessionId)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>Audit trail of session <code>").Append(e.Encode(sessionId)).Append("</code></h1>");
        html.Append("<p>").Append(records.Count.ToString(CultureInfo.InvariantCulture)).Append(" events")
            .Append(truncated ? " (first events only; use GET /v1/audit?session_id=… for the rest)" : "")
            .Append(". Metadata only; verify the whole chain with <code>GET /v1/audit/verify</code>.</p>");
        html.Append("<table><thead><tr><th>#</th><th>time (UTC)</th><th>event</th><th>agent</th><th>decision</th><th>blocked by</th><th>reason</th><th>classification</th><th>model / tool</th><th>detections</th><th>hash</th></tr></thead><tbody>");
        foreach (var record in records)
        {
            var ev = record.Event;
            var detections = ev.Detections is { Count: > 0 } d
                ? string.Join(", ", d.Select(x => $"{x.Type} ({x.Phase} {x.Start}+{x.Length}, {x.Action})"))
                : "";
            html.Append("<tr>");
            Cell(html, record.Sequence.ToString(CultureInfo.InvariantCulture));
            Cell(html, ev.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture));
            Cell(html, ev.EventType);
            Cell(html, ev.AgentId);
            Cell(html, ev.Decision);
            Cell(html, ev.BlockedBy);
            Cell(html, ev.Reason);
            Cell(html, ev.Classification);
            Cell(html, ev.Tool ?? ev.Model);
            Cell(html, detections);
            html.Append("<td><code title=\"").Append(e.Encode(record.Hash)).Append("\">")
                .Append(e.Encode(record.Hash.Length > 12 ? record.Hash[..12] : record.Hash)).Append("</code></td>");
            html.Append("</tr>");
        }

        html.Append("</tbody></table></body></html>");
        return html.ToString();
    }

    public static string Approval(string approvalId, ApprovalInfo approval, TimeProvider timeProvider)
    {
        var e = HtmlEncoder.Default;
        var html = new StringBuilder(2048);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TapPass approval — ")
            .Append(e.Encode(approvalId)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>Approval <code>").Append(e.Encode(approvalId)).Append("</code></h1><table>");
        Row(html, "status", approval.Status);
        Row(html, "held call", approval.Subject);
        Row(html, "rule", approval.Rule);
        Row(html, "expires", approval.ExpiresAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        Row(html, "reviewer's reason", approval.Reason);
        html.Append("</table>");
        if (approval.Status is null or "pending" && (approval.ExpiresAt is null || approval.ExpiresAt > timeProvider.GetUtcNow()))
        {
            html.Append("<p>To decide, an approver sends:</p><pre><code>")
                .Append(e.Encode($"curl -X POST -H \"Authorization: Bearer $APPROVER_KEY\" -H \"Content-Type: application/json\" -d '{{\"decision\":\"approve\",\"reason\":\"...\"}}' <gateway>/v1/approvals/{approvalId}/decide"))
                .Append("</code></pre>");
        }

        html.Append("</body></html>");
        return html.ToString();
    }

    private static void Cell(StringBuilder html, string? value) =>
        html.Append("<td>").Append(HtmlEncoder.Default.Encode(value ?? "")).Append("</td>");

    private static void Row(StringBuilder html, string name, string? value) =>
        html.Append("<tr><th>").Append(HtmlEncoder.Default.Encode(name)).Append("</th><td>").Append(HtmlEncoder.Default.Encode(value ?? "—")).Append("</td></tr>");
}
