namespace TapPass.Transport;

/// <summary>
/// The trust tier this process has locked itself to (set once the sandbox is applied), sent as
/// <c>X-TapPass-Sandbox-Tier</c> on every call so the gateway can only lower the key's tier, never raise it.
/// </summary>
internal static class ProcessSandboxTier
{
    private static string? s_current;

    /// <summary>The tier (<c>observer</c>, <c>worker</c>, <c>standard</c>, <c>full</c>), or null when no sandbox is applied.</summary>
    public static string? Current => Volatile.Read(ref s_current);

    /// <summary>Records the tier the process locked itself to. A sandbox is irreversible, so the first value stays.</summary>
    /// <param name="tier">Tier name.</param>
    public static void Set(string tier)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tier);
        Interlocked.CompareExchange(ref s_current, tier.Trim().ToLowerInvariant(), null);
    }
}
