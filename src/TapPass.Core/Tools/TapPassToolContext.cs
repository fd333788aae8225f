namespace TapPass;

/// <summary>
/// The governance decision behind the tool call now running: set while a governed tool runs (its synchronous part and
/// every continuation it awaits), cleared when it returns, so work that outlives the call sees <see langword="null"/>.
/// A tool reads it to present the gateway's capability token to a downstream service.
/// </summary>
public sealed class TapPassToolContext
{
    private static readonly AsyncLocal<Holder?> CurrentHolder = new();

    internal TapPassToolContext(string toolName, GovernMode mode, string? outcome, string? capabilityToken, string? pipelineUuid, string? sessionId, string? auditUrl)
    {
        ToolName = toolName;
        Mode = mode;
        Outcome = outcome;
        CapabilityToken = capabilityToken;
        PipelineUuid = pipelineUuid;
        SessionId = sessionId;
        AuditUrl = auditUrl;
    }

    /// <summary>The context of the governed tool running in the current asynchronous flow, or null.</summary>
    public static TapPassToolContext? Current => CurrentHolder.Value?.Context;

    /// <summary>Tool name.</summary>
    public string ToolName { get; }

    /// <summary>The wrapper's mode.</summary>
    public GovernMode Mode { get; }

    /// <summary>
    /// The gateway's outcome: <c>allow</c> or <c>modify</c> (the tool received the gateway's arguments); null when the
    /// tool runs unverified (audit mode with the gateway unreachable).
    /// </summary>
    public string? Outcome { get; }

    /// <summary>True when no decision was obtained (audit mode, gateway unreachable).</summary>
    public bool Unverified => Outcome is null;

    /// <summary>ES256 JWS the gateway issued for this call (about 60 s, scoped to this tool and its arguments), or null.</summary>
    public string? CapabilityToken { get; }

    /// <summary>Pipeline run id of the decision.</summary>
    public string? PipelineUuid { get; }

    /// <summary>Session id the decision was taken in.</summary>
    public string? SessionId { get; }

    /// <summary>Audit page of the session.</summary>
    public string? AuditUrl { get; }

    /// <summary>Makes <paramref name="context"/> current until the returned scope is disposed (then the previous one is restored).</summary>
    internal static Scope Enter(TapPassToolContext context)
    {
        var previous = CurrentHolder.Value;
        var holder = new Holder { Context = context };
        CurrentHolder.Value = holder;
        return new Scope(holder, previous);
    }

    internal sealed class Holder
    {
        public TapPassToolContext? Context;
    }

    /// <summary>Ends a context: clears it for every flow that captured it and restores the outer one.</summary>
    internal readonly struct Scope(Holder holder, Holder? previous) : IDisposable
    {
        public void Dispose()
        {
            holder.Context = null;
            CurrentHolder.Value = previous;
        }
    }
}
