namespace TapPass;

/// <summary>
/// The trust tiers of the TapPass protocol, lowest first (PROTOCOL.md §8). An agent key carries a tier,
/// tools and classifications can require a minimum tier, and the kernel sandbox applied with
/// <see cref="Sandbox.TapPassSandbox.Secure(Sandbox.SandboxOptions)"/> confines the process to one.
/// The numeric values are ordered: a lower value is a lower tier.
/// </summary>
public enum TrustTier
{
    /// <summary>Read-only: no writes, no program execution, no network except the gateway. Wire name <c>observer</c>.</summary>
    Observer = 0,

    /// <summary>Read/write in the workspace, an allow-list of programs, selected TCP ports. Wire name <c>worker</c>.</summary>
    Worker = 1,

    /// <summary>Workspace and temp read/write, the rest read-only, credentials unreadable, any TCP connect. Wire name <c>standard</c>.</summary>
    Standard = 2,

    /// <summary>No restriction, audit only. Wire name <c>full</c>.</summary>
    Full = 3,
}

/// <summary>Wire names of <see cref="TrustTier"/> (<c>observer</c>, <c>worker</c>, <c>standard</c>, <c>full</c>).</summary>
public static class TrustTierNames
{
    /// <summary>The longest wire name accepted by <see cref="TryParse"/>; longer input is rejected without inspection.</summary>
    private const int MaxLength = 32;

    /// <summary>Returns the protocol's wire name of <paramref name="tier"/>, for example <c>observer</c>.</summary>
    /// <param name="tier">The tier.</param>
    /// <returns>The lower-case wire name.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined tier.</exception>
    public static string ToWireName(this TrustTier tier) => tier switch
    {
        TrustTier.Observer => "observer",
        TrustTier.Worker => "worker",
        TrustTier.Standard => "standard",
        TrustTier.Full => "full",
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown trust tier."),
    };

    /// <summary>
    /// Parses a wire name (case-insensitive, surrounding white space ignored). Numeric strings and
    /// unknown names are rejected.
    /// </summary>
    /// <param name="value">The untrusted text, for example a header value.</param>
    /// <param name="tier">The parsed tier, or <see cref="TrustTier.Observer"/> when parsing fails.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> names a tier.</returns>
    public static bool TryParse(string? value, out TrustTier tier)
    {
        tier = TrustTier.Observer;
        if (value is null || value.Length > MaxLength)
        {
            return false;
        }

        var span = value.AsSpan().Trim();
        if (span.Equals("observer", StringComparison.OrdinalIgnoreCase))
        {
            tier = TrustTier.Observer;
            return true;
        }

        if (span.Equals("worker", StringComparison.OrdinalIgnoreCase))
        {
            tier = TrustTier.Worker;
            return true;
        }

        if (span.Equals("standard", StringComparison.OrdinalIgnoreCase))
        {
            tier = TrustTier.Standard;
            return true;
        }

        if (span.Equals("full", StringComparison.OrdinalIgnoreCase))
        {
            tier = TrustTier.Full;
            return true;
        }

        return false;
    }
}
