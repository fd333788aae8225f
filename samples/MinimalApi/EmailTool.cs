using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TapPass;
using TapPass.AspNetCore;
using TapPass.Protocol;
using TapPass.Transport;

namespace MinimalApi;

/// <summary>Body of <c>POST /tools/send-email</c>: the arguments of the <c>send_email</c> tool.</summary>
public sealed record SendEmailRequest(string To, string Subject, string Body);

/// <summary>What the tool did, after governance.</summary>
public sealed record SendEmailResult(string Status, string To, string Subject, string? PipelineUuid, string? SessionId);

/// <summary>Where the sample "sends" mail: kept in memory, never leaves the process.</summary>
public sealed class Outbox
{
    private readonly ConcurrentQueue<SendEmailRequest> _sent = new();

    /// <summary>Mail sent so far.</summary>
    public IReadOnlyCollection<SendEmailRequest> Sent => _sent;

    /// <summary>Sends (records) one mail.</summary>
    public void Send(SendEmailRequest email) => _sent.Enqueue(email);
}

/// <summary>
/// A governed tool: asks the gateway (<c>POST /v1/govern</c>, PROTOCOL.md §6) before running, runs it with the
/// arguments governance allows, reports the outcome. The SDK's <c>Govern()</c> wrapper will do this for any delegate.
/// </summary>
public sealed class EmailTool(ITapPassTransport gateway, Outbox outbox, IOptions<TapPassOptions> options, TimeProvider time)
{
    private const string ToolName = "send_email";

    /// <summary>Governs and sends <paramref name="email"/>; refusals are thrown as governance decisions.</summary>
    public async Task<SendEmailResult> SendAsync(SendEmailRequest email, CancellationToken cancellationToken)
    {
        var session = TapPassSession.Current;
        var call = new TapPassCall
        {
            ApiKey = options.Value.ApiKey,
            SessionId = session?.SessionId,
            AgentUuid = session?.AgentUuid ?? options.Value.AgentUuid,
            TaskId = session?.TaskId,
        };
        var request = new GovernRequest
        {
            SessionId = session?.SessionId,
            Payload = new GovernPayload { Tool = ToolName, Args = JsonSerializer.SerializeToElement(email, SampleJsonContext.Default.SendEmailRequest) },
        };

        var reply = await gateway.GovernAsync(call, request, cancellationToken);
        if (!reply.IsSuccess)
        {
            // Governance unavailable or refused the call itself: fail closed.
            throw TapPassException.FromError(reply.StatusCode, reply.Error ?? new ErrorBody { Type = ErrorTypes.Unavailable }, reply.Headers.RetryAfter);
        }

        var decision = reply.Value!;
        session?.Observe(decision.SessionId, decision.AgentUuid, decision.AuditUrl);
        var allowed = decision.Outcome switch
        {
            GovernOutcomes.Allow => email,
            GovernOutcomes.Modify when decision.ModifiedArgs is { } args => args.Deserialize(SampleJsonContext.Default.SendEmailRequest) ?? throw Refused(decision),
            _ => throw Refused(decision),
        };

        var started = time.GetTimestamp();
        outbox.Send(allowed);
        await gateway.ReportExecutionAsync(call, new ExecutionReport
        {
            SessionId = decision.SessionId ?? session?.SessionId,
            PipelineUuid = decision.PipelineUuid,
            Tool = ToolName,
            Ok = true,
            DurationMs = time.GetElapsedTime(started).TotalMilliseconds,
        }, cancellationToken);

        return new SendEmailResult("sent", allowed.To, allowed.Subject, decision.PipelineUuid, decision.SessionId ?? session?.SessionId);
    }

    private static GovernanceDecision Refused(GovernResponse d)
    {
        GovernanceDecision decision = d switch
        {
            { Outcome: GovernOutcomes.NeedsApproval } => new ApprovalRequiredException(d.Reason ?? "Approval required.")
            {
                ApprovalUrl = d.Approval?.ApprovalUrl ?? "",
                ApprovalId = d.Approval?.ApprovalId,
                ResumeToken = d.Approval?.ResumeToken ?? "",
                ExpiresAt = d.Approval?.ExpiresAt,
                Reason = d.Reason,
                BlockedBy = d.BlockedBy,
            },
            { RequiredTier: not null } => new TrustTierDeniedException(d.Reason ?? "Trust tier too low.")
            {
                RequiredTier = d.RequiredTier,
                ActualTier = d.ActualTier ?? "",
            },
            { Violation: not null } => new ToolIntegrityViolationException(d.Reason ?? "Tool integrity violation.")
            {
                ToolName = ToolName,
                Violation = d.Violation,
            },
            _ => new PolicyBlockException(d.Reason ?? "Tool call blocked by policy.")
            {
                BlockedBy = d.BlockedBy ?? "",
                Reason = d.Reason ?? "",
            },
        };
        decision.SessionId = d.SessionId;
        decision.TaskId = d.TaskId;
        decision.AgentUuid = d.AgentUuid;
        decision.PipelineUuid = d.PipelineUuid;
        decision.AuditUrl = d.AuditUrl;
        return decision;
    }
}
