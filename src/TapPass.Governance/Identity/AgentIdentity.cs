namespace TapPass.Governance.Identity;

// Trust tiers are the SDK's public TapPass.TrustTier (PROTOCOL.md §8); a second internal enum of the same name here
// made every use ambiguous once both were in one build (TapPass.TrustTier is found first from TapPass.Governance.*).

/// <summary>What a key may do besides calling the data plane.</summary>
[Flags]
internal enum AgentRoles
{
    None = 0,

    /// <summary>Data-plane calls (chat, govern, sessions).</summary>
    Agent = 1,

    /// <summary>Decide approvals.</summary>
    Approver = 2,

    /// <summary>Declare and end break-glass; read the audit log.</summary>
    Admin = 4,
}

/// <summary>Wire names of <see cref="TrustTier"/>.</summary>
internal static class TrustTiers
{
    public static string ToWire(this TrustTier tier) => tier switch
    {
        TrustTier.Observer => "observer",
        TrustTier.Worker => "worker",
        TrustTier.Standard => "standard",
        _ => "full",
    };

    public static bool TryParse(string? value, out TrustTier tier)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "observer": tier = TrustTier.Observer; return true;
            case "worker": tier = TrustTier.Worker; return true;
            case "standard": tier = TrustTier.Standard; return true;
            case "full": tier = TrustTier.Full; return true;
            default: tier = TrustTier.Observer; return false;
        }
    }
}

/// <summary>
/// Who is calling: the identity an API key maps to (PROTOCOL.md §1). Operator-configured, never taken from the request.
/// </summary>
internal sealed record AgentIdentity
{
    /// <summary>Agent slug, e.g. <c>support-bot</c>.</summary>
    public required string AgentId { get; init; }

    /// <summary>Agent uuid (lower-case, hyphenated).</summary>
    public required string AgentUuid { get; init; }

    /// <summary>Organisation.</summary>
    public required string Org { get; init; }

    /// <summary>Trust tier of the key.</summary>
    public TrustTier TrustTier { get; init; } = TrustTier.Standard;

    /// <summary>Default flags of the agent (below per-call flags).</summary>
    public GovernanceFlags DefaultFlags { get; init; } = GovernanceFlags.Empty;

    /// <summary>Flags the operator locked for this agent (cannot be loosened).</summary>
    public GovernanceFlags Locks { get; init; } = GovernanceFlags.Empty;

    /// <summary>Roles.</summary>
    public AgentRoles Roles { get; init; } = AgentRoles.Agent;

    /// <summary>True when this identity was not authenticated by a key but configured for in-process use.</summary>
    public bool IsEmbedded { get; init; }

    public bool HasRole(AgentRoles role) => (Roles & role) == role;
}
