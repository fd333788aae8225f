namespace TapPass;

/// <summary>
/// Configuration of a <c>TapPassAgent</c>. Unset values fall back to the environment (<c>TAPPASS_URL</c>,
/// <c>TAPPASS_API_KEY</c>, <c>TAPPASS_FLAGS</c>, <c>TAPPASS_MODEL</c>); explicit values always win.
/// </summary>
public sealed class TapPassAgentOptions
{
    /// <summary>Default model: <c>gpt-4o-mini</c>.</summary>
    public const string DefaultModel = "gpt-4o-mini";

    /// <summary>Gateway base URL, e.g. <c>http://localhost:9620</c>. Required unless a transport is supplied. Env: <c>TAPPASS_URL</c>.</summary>
    public string? Url { get; set; }

    /// <summary>Agent API key (<c>tp_…</c>). Never logged. Env: <c>TAPPASS_API_KEY</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Default model. Default <c>gpt-4o-mini</c>. Env: <c>TAPPASS_MODEL</c>.</summary>
    public string? Model { get; set; }

    /// <summary>Default governance flags, e.g. <c>{ ["pii"] = "mask" }</c>. Env: <c>TAPPASS_FLAGS</c> (header syntax).</summary>
    public IDictionary<string, string> Flags { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Total time allowed for one call, retries included (for a stream: until it starts, and then between two events).
    /// Default 30 s; between 10 ms and 24 h.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Time allowed for one attempt (one HTTP request, up to the first byte of a stream); an attempt that takes longer
    /// is abandoned and retried. Default null: no per-attempt limit, only <see cref="Timeout"/>.
    /// </summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>Retries for transient failures (connect errors, timeouts, 502/503/504 that are not break-glass). Default 2; at most 10.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Raise <see cref="BreakGlassActiveException"/> when a 200 answer reports break-glass <c>observe</c>. Default false.</summary>
    public bool RespectBreakGlass { get; set; }

    /// <summary>Raise <see cref="RedactionAppliedException"/> when an answer was masked. Default false.</summary>
    public bool RaiseOnRedaction { get; set; }

    /// <summary>Agent uuid to claim in <c>X-TapPass-Agent-Uuid</c> when no session supplies one. Default none.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>
    /// Most messages kept in <see cref="ITapPassAgent.History"/>; the oldest user/assistant pairs are dropped first
    /// (an odd bound keeps one message fewer). 0 keeps no history. Default 200; at most 10 000.
    /// </summary>
    public int MaxHistoryMessages { get; set; } = 200;

    /// <summary>Check on the first call that the gateway implements API 0.6.0 or later. Default true.</summary>
    public bool VerifyGatewayVersion { get; set; } = true;
}

/// <summary>Per-call options of <see cref="ITapPassAgent"/> methods.</summary>
public sealed class TapPassChatOptions
{
    /// <summary>Model for this call; the agent's default when null.</summary>
    public string? Model { get; set; }

    /// <summary>Flags for this call, merged over the agent's defaults.</summary>
    public IDictionary<string, string> Flags { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Session to join for this call, overriding <see cref="TapPassSession.Current"/> (explicit passing).</summary>
    public string? SessionId { get; set; }

    /// <summary>Agent uuid to claim for this call.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Task id for this call.</summary>
    public string? TaskId { get; set; }

    /// <summary>Resume token of an approved call (PROTOCOL.md §7).</summary>
    public string? ResumeToken { get; set; }

    /// <summary>Sampling temperature.</summary>
    public double? Temperature { get; set; }

    /// <summary>Maximum completion tokens.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Tools offered to the model.</summary>
    public IList<Protocol.ToolDefinition>? Tools { get; set; }
}
