using System.Globalization;

namespace TapPass.Governance.Policy;

internal enum GovernanceMode
{
    Observe = 0,
    Warn = 1,
    Enforce = 2,
    Lockdown = 3,
}

internal enum PiiRule
{
    Off = 0,
    Flag = 1,
    Mask = 2,
    Block = 3,
}

internal enum SecretsRule
{
    Flag = 0,
    Redact = 1,
    Block = 2,
}

internal enum EmailRule
{
    Allow = 0,
    Internal = 1,
    Mirror = 2,
    Block = 3,
}

internal enum ToolsRule
{
    Log = 0,
    Allowlist = 1,
    Denylist = 2,
    Block = 3,
}

internal enum FilesRule
{
    Allow = 0,
    Project = 1,
    ReadOnly = 2,
    Block = 3,
}

internal enum DbRule
{
    SafeWrite = 0,
    ReadOnly = 1,
    Block = 2,
}

/// <summary>USD caps of a <c>budget</c> flag; null means no cap.</summary>
/// <param name="Name">The flag value's head (<c>unlimited</c>, <c>dev</c>, <c>standard</c>, <c>custom</c>).</param>
/// <param name="PerCallUsd">Cap per call.</param>
/// <param name="PerSessionUsd">Cap per session.</param>
/// <param name="PerDayUsd">Cap per agent and UTC day.</param>
internal sealed record BudgetLimits(string Name, decimal? PerCallUsd, decimal? PerSessionUsd, decimal? PerDayUsd)
{
    public static BudgetLimits Unlimited { get; } = new("unlimited", null, null, null);

    /// <summary>$1 per session, $5 per day (PROTOCOL.md §5).</summary>
    public static BudgetLimits Dev { get; } = new("dev", null, 1m, 5m);

    /// <summary>$10 per session, $50 per day (PROTOCOL.md §5).</summary>
    public static BudgetLimits Standard { get; } = new("standard", null, 10m, 50m);

    public bool IsUnlimited => PerCallUsd is null && PerSessionUsd is null && PerDayUsd is null;

    public static BudgetLimits Parse(string value)
    {
        if (value.StartsWith("custom:", StringComparison.Ordinal))
        {
            var parts = value.Split(':');
            return new BudgetLimits("custom",
                decimal.Parse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture),
                decimal.Parse(parts[2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture),
                null);
        }

        return value switch
        {
            "dev" => Dev,
            "standard" => Standard,
            _ => Unlimited,
        };
    }
}

/// <summary>
/// The flags in force for one call, typed. Built by <see cref="FlagResolver"/> from validated
/// <see cref="GovernanceFlags"/> that carry every key.
/// </summary>
internal sealed record EffectiveFlags
{
    public required GovernanceFlags Values { get; init; }
    public GovernanceMode Mode { get; init; }
    public PiiRule Pii { get; init; }
    public SecretsRule Secrets { get; init; }
    public EmailRule Email { get; init; }

    /// <summary>Domain of <c>internal:</c> or address of <c>mirror:</c>.</summary>
    public string? EmailParameter { get; init; }

    public ToolsRule Tools { get; init; }

    /// <summary>Globs of <c>allowlist:</c> / <c>denylist:</c>.</summary>
    public IReadOnlyList<string> ToolPatterns { get; init; } = [];

    public FilesRule Files { get; init; }
    public DbRule Db { get; init; }
    public BudgetLimits Budget { get; init; } = BudgetLimits.Unlimited;

    /// <summary>The protocol defaults, typed.</summary>
    public static EffectiveFlags Defaults { get; } = From(GovernanceFlags.Defaults);

    /// <summary>Types <paramref name="flags"/> merged over the protocol defaults.</summary>
    public static EffectiveFlags From(GovernanceFlags flags)
    {
        var all = GovernanceFlags.Defaults.Merge(flags);
        var email = all["email"];
        var tools = all["tools"];
        return new EffectiveFlags
        {
            Values = all,
            Mode = all["mode"] switch
            {
                "observe" => GovernanceMode.Observe,
                "warn" => GovernanceMode.Warn,
                "lockdown" => GovernanceMode.Lockdown,
                _ => GovernanceMode.Enforce,
            },
            Pii = all["pii"] switch
            {
                "mask" => PiiRule.Mask,
                "block" => PiiRule.Block,
                "flag" => PiiRule.Flag,
                _ => PiiRule.Off,
            },
            Secrets = all["secrets"] switch
            {
                "block" => SecretsRule.Block,
                "flag" => SecretsRule.Flag,
                _ => SecretsRule.Redact,
            },
            Email = Head(email) switch
            {
                "block" => EmailRule.Block,
                "internal" => EmailRule.Internal,
                "mirror" => EmailRule.Mirror,
                _ => EmailRule.Allow,
            },
            EmailParameter = Parameters(email).FirstOrDefault(),
            Tools = Head(tools) switch
            {
                "block" => ToolsRule.Block,
                "allowlist" => ToolsRule.Allowlist,
                "denylist" => ToolsRule.Denylist,
                _ => ToolsRule.Log,
            },
            ToolPatterns = Parameters(tools),
            Files = all["files"] switch
            {
                "read_only" => FilesRule.ReadOnly,
                "project" => FilesRule.Project,
                "block" => FilesRule.Block,
                _ => FilesRule.Allow,
            },
            Db = all["db"] switch
            {
                "read_only" => DbRule.ReadOnly,
                "block" => DbRule.Block,
                _ => DbRule.SafeWrite,
            },
            Budget = BudgetLimits.Parse(all["budget"]),
        };
    }

    /// <summary>The effective flags as the <c>tappass.flags</c> dictionary.</summary>
    public Dictionary<string, string> ToDictionary() => Values.ToDictionary();

    internal static string Head(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? value : value[..colon];
    }

    internal static string[] Parameters(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? [] : value[(colon + 1)..].Split(':');
    }
}
