namespace TapPass.Sandbox;

/// <summary>
/// What <see cref="TapPassSandbox.Secure(SandboxOptions)"/> enforced. The report never claims a restriction the
/// kernel does not enforce: everything requested but not enforced is listed in <see cref="NotEnforced"/>.
/// After several calls the report describes all layers; the effective access is their intersection.
/// </summary>
public sealed class SandboxReport
{
    internal SandboxReport(
        TrustTier tier,
        string profile,
        bool enforced,
        int abiVersion,
        int layers,
        int restrictedThreads,
        IReadOnlyList<string> rules,
        IReadOnlyList<string> notEnforced,
        IReadOnlyList<string> notes)
    {
        Tier = tier;
        Profile = profile;
        Enforced = enforced;
        AbiVersion = abiVersion;
        Layers = layers;
        RestrictedThreads = restrictedThreads;
        Rules = rules;
        NotEnforced = notEnforced;
        Notes = notes;
    }

    /// <summary>
    /// The trust tier in force, to send to the gateway (header <see cref="TapPassSandbox.TierHeaderName"/>) so
    /// <c>trust_tier_denied</c> rules use it. The default profile reports <see cref="TrustTier.Standard"/>: it
    /// enforces every standard restriction and more.
    /// </summary>
    public TrustTier Tier { get; }

    /// <summary>The profile of the latest call: <c>observer</c>, <c>worker</c>, <c>default</c>, <c>standard</c> or <c>full</c>.</summary>
    public string Profile { get; }

    /// <summary>
    /// <see langword="true"/> when the kernel enforces a Landlock ruleset on this process. <see langword="false"/> for
    /// the full tier (audit only) and for best-effort calls on a kernel or OS without Landlock.
    /// </summary>
    public bool Enforced { get; }

    /// <summary>The kernel's Landlock ABI version (1 = Linux 5.13 … 6 = Linux 6.12, 7 = Linux 6.15), or 0 when unknown or absent.</summary>
    public int AbiVersion { get; }

    /// <summary>How many Landlock layers this process applied (each enforcing call adds one).</summary>
    public int Layers { get; }

    /// <summary>How many threads of the process confirmed the latest layer (the calling thread included).</summary>
    public int RestrictedThreads { get; }

    /// <summary>The rules applied, as readable lines (for example <c>read+list: /usr (runtime and system libraries)</c>).</summary>
    public IReadOnlyList<string> Rules { get; }

    /// <summary>What the kernel does not enforce for this request, as readable lines. Empty only when nothing is missing.</summary>
    public IReadOnlyList<string> NotEnforced { get; }

    /// <summary>Information that is neither a rule nor a gap, such as grants skipped because a path does not exist.</summary>
    public IReadOnlyList<string> Notes { get; }
}
