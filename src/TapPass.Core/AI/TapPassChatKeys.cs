namespace TapPass;

/// <summary>
/// Keys of the TapPass values in <c>ChatOptions.AdditionalProperties</c> (sent as headers) and in the
/// <c>AdditionalProperties</c> of responses and streamed updates of the <see cref="TapPassChatClientExtensions.AsChatClient"/>
/// view. Session ids never travel in <c>ConversationId</c>.
/// </summary>
public static class TapPassChatKeys
{
    /// <summary>Request: session to join (<c>X-TapPass-Session-Id</c>; a string). Response: the session the call ran in.</summary>
    public const string SessionId = "tappass.session_id";

    /// <summary>Request: agent uuid to claim (a string or a <see cref="Guid"/>). Response: the agent's uuid.</summary>
    public const string AgentUuid = "tappass.agent_uuid";

    /// <summary>Request: task id (a string). Response: the task id.</summary>
    public const string TaskId = "tappass.task_id";

    /// <summary>Request: flags merged over the agent's defaults: a header string (<c>pii=mask, mode=lockdown</c>), a <see cref="GovernanceFlags"/> or a dictionary of strings.</summary>
    public const string Flags = "tappass.flags";

    /// <summary>Request: resume token of an approved call (a string).</summary>
    public const string ResumeToken = "tappass.resume_token";

    /// <summary>Response: classification on the wire (<c>PUBLIC</c>, <c>INTERNAL</c>, <c>CONFIDENTIAL</c>, <c>RESTRICTED</c>).</summary>
    public const string Classification = "tappass.classification";

    /// <summary>Response: pipeline run id.</summary>
    public const string PipelineUuid = "tappass.pipeline_uuid";

    /// <summary>Response: the session's audit page.</summary>
    public const string AuditUrl = "tappass.audit_url";

    /// <summary>Response: whether the pipeline reported a block (a <see cref="bool"/>).</summary>
    public const string Blocked = "tappass.blocked";

    /// <summary>Response: the full <see cref="PipelineResult"/> (detections, redactions, steps, flags).</summary>
    public const string Pipeline = "tappass.pipeline";

    /// <summary>
    /// Response: the tool calls the model proposed that an approval rule holds (an
    /// <see cref="IReadOnlyList{T}"/> of <see cref="Protocol.ToolApproval"/>: tool, call id, governed arguments, approval
    /// URL, resume token, expiry), present only when there are some. A held call is never a <c>FunctionCallContent</c>,
    /// so a function-invoking client cannot run it; once a reviewer approved it, run it through <c>Govern</c> with the
    /// same tool and arguments and the resume token.
    /// </summary>
    public const string ToolApprovals = "tappass.tool_approvals";

    /// <summary>Response: cost in USD (a <see cref="decimal"/>), when the gateway reported it.</summary>
    public const string CostUsd = "tappass.cost_usd";
}
