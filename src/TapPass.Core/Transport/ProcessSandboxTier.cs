using TapPass.Sandbox;

namespace TapPass.Transport;

/// <summary>
/// The trust tier this process has locked itself to, sent as <c>X-TapPass-Sandbox-Tier</c> on every call so the
/// gateway can only lower the key's tier, never raise it. Derived from the sandbox's own report, so a tighter second
/// <c>Secure()</c> is reflected, and nothing is claimed when the kernel enforced nothing.
/// </summary>
internal static class ProcessSandboxTier
{
    /// <summary>The tier (<c>observer</c>, <c>worker</c>, <c>standard</c>, <c>full</c>), or null when no sandbox is enforced.</summary>
    public static string? Current => TapPassSandbox.Current is { Enforced: true } report ? report.Tier.ToWireName() : null;
}
