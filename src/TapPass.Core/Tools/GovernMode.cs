namespace TapPass;

/// <summary>How a governed tool treats the gateway (PROTOCOL.md §6, <c>enforcement.mode</c>).</summary>
public enum GovernMode
{
    /// <summary>
    /// Default. The gateway's decision is enforced, and the tool never runs without one: an unreachable gateway is a
    /// <see cref="TapPassConnectionException"/> (fail closed).
    /// </summary>
    Enforce = 0,

    /// <summary>
    /// Audit only: the call is sent with <c>enforcement.mode = "audit"</c>, so the gateway decides and records but does
    /// not block or hold. A refusal the gateway still sends is honoured (it is the gateway's to give). If the gateway
    /// cannot be reached, the tool runs anyway, unverified, and a warning is logged.
    /// </summary>
    Audit = 1,
}
