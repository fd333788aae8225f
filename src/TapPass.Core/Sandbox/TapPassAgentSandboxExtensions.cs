using TapPass.Sandbox;

namespace TapPass;

/// <summary>The seed's <c>agent.secure()</c>: lock the current process down with the kernel sandbox.</summary>
public static class TapPassAgentSandboxExtensions
{
    /// <summary>
    /// Applies the kernel sandbox to the current process (irreversible; a second call can only tighten) and makes
    /// every later call of every agent report the tier to the gateway (<c>X-TapPass-Sandbox-Tier</c>), so
    /// <c>trust_tier_denied</c> rules use the lower of the key's tier and this one. Network access stays open to the
    /// agent's gateway port.
    /// </summary>
    /// <param name="agent">The agent.</param>
    /// <param name="tier">Tier; null applies the default profile (workspace read/write, credentials unreadable, network to the gateway only).</param>
    /// <param name="configure">Further options (workspace, allowed programs and ports, best effort).</param>
    /// <returns>What the kernel enforces.</returns>
    /// <exception cref="PlatformNotSupportedException">No Landlock (or not Linux) and best effort not requested.</exception>
    public static SandboxReport Secure(this ITapPassAgent agent, TrustTier? tier = null, Action<SandboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var options = new SandboxOptions { Tier = tier, Gateway = (agent as TapPassAgent)?.GatewayUrl };
        configure?.Invoke(options);
        return TapPassSandbox.Secure(options);
    }
}
