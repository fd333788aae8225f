namespace TapPass.Sandbox;

/// <summary>
/// Kernel-level sandbox for the agent's own process (Linux Landlock, no extra dependency). The lock-down is
/// irreversible for the process's lifetime and applies to every thread and every program it starts afterwards;
/// a second call can only tighten it.
/// </summary>
/// <example>
/// <code>
/// var report = TapPassSandbox.Secure(new SandboxOptions { Tier = TrustTier.Worker, Gateway = new Uri("http://localhost:9620") });
/// // report.Rules lists what is enforced, report.NotEnforced what is not.
/// </code>
/// </example>
public static class TapPassSandbox
{
    /// <summary>
    /// The request header that tells the gateway the tier the process is sandboxed to (value: the tier's wire name,
    /// see <see cref="TrustTierNames.ToWireName(TrustTier)"/>), so <c>trust_tier_denied</c> rules use it.
    /// </summary>
    public const string TierHeaderName = "X-TapPass-Sandbox-Tier";

    private static readonly SandboxCoordinator Coordinator = new(LandlockKernel.Instance);

    /// <summary>The sandbox in force in this process, or <see langword="null"/> before the first <see cref="Secure(SandboxOptions)"/>.</summary>
    public static SandboxReport? Current => Coordinator.Current;

    /// <summary>Applies the default profile with the current directory as workspace and no gateway port. See <see cref="Secure(SandboxOptions)"/>.</summary>
    /// <returns>What is enforced.</returns>
    public static SandboxReport Secure() => Secure(new SandboxOptions());

    /// <summary>
    /// Locks the process down to <see cref="SandboxOptions.Tier"/> (or the default profile), on every thread, and every
    /// program started afterwards. Irreversible: a later call adds a layer, and the effective access is the intersection
    /// of all layers.
    /// </summary>
    /// <param name="options">What to lock down to.</param>
    /// <returns>What is enforced, also available as <see cref="Current"/>.</returns>
    /// <exception cref="ArgumentException">The options are out of bounds or contradictory, or the workspace does not exist.</exception>
    /// <exception cref="InvalidOperationException">The request is looser than a sandbox already in force.</exception>
    /// <exception cref="PlatformNotSupportedException">
    /// Not Linux on x64/arm64, no Landlock in the kernel, or no Landlock network rules (ABI &lt; 4, Linux &lt; 6.7) — unless
    /// <see cref="SandboxOptions.BestEffort"/> is set, in which case the report says what is not enforced.
    /// </exception>
    public static SandboxReport Secure(SandboxOptions options) => Coordinator.Secure(options);
}
