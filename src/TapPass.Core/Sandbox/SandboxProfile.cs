namespace TapPass.Sandbox;

/// <summary>The sandbox profiles, ordered from tightest to loosest; the order is what "only tighten" compares.</summary>
internal enum SandboxProfile
{
    Observer = 0,
    Worker = 1,
    Default = 2,
    Standard = 3,
    Full = 4,
}

/// <summary>Mapping between <see cref="SandboxProfile"/>, <see cref="TrustTier"/> and names.</summary>
internal static class SandboxProfiles
{
    /// <summary>The profile for a requested tier; <see langword="null"/> is the default profile.</summary>
    internal static SandboxProfile From(TrustTier? tier) => tier switch
    {
        null => SandboxProfile.Default,
        TrustTier.Observer => SandboxProfile.Observer,
        TrustTier.Worker => SandboxProfile.Worker,
        TrustTier.Standard => SandboxProfile.Standard,
        TrustTier.Full => SandboxProfile.Full,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown trust tier."),
    };

    /// <summary>
    /// The tier the gateway is told. The default profile enforces every restriction of the standard tier
    /// (and more), so it reports <see cref="TrustTier.Standard"/>; reporting worker would claim an execute
    /// allow-list it does not enforce.
    /// </summary>
    internal static TrustTier ToTier(this SandboxProfile profile) => profile switch
    {
        SandboxProfile.Observer => TrustTier.Observer,
        SandboxProfile.Worker => TrustTier.Worker,
        SandboxProfile.Default or SandboxProfile.Standard => TrustTier.Standard,
        _ => TrustTier.Full,
    };

    /// <summary>The profile's name in reports.</summary>
    internal static string Name(this SandboxProfile profile) => profile switch
    {
        SandboxProfile.Observer => "observer",
        SandboxProfile.Worker => "worker",
        SandboxProfile.Default => "default",
        SandboxProfile.Standard => "standard",
        _ => "full",
    };
}
