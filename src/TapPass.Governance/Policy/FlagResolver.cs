using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TapPass.Governance.Identity;

namespace TapPass.Governance.Policy;

/// <summary>A locked flag that a request tried to set to a looser (or incomparable) value; the locked value applied.</summary>
/// <param name="Flag">Flag name.</param>
/// <param name="Requested">The value requested.</param>
/// <param name="Locked">The locked value that applied.</param>
/// <param name="Source">Who requested it: <c>call</c>, <c>agent_default</c> or <c>gateway_default</c>.</param>
/// <param name="LockedBy"><c>org</c> or <c>agent</c>.</param>
internal sealed record LockApplication(string Flag, string Requested, string Locked, string Source, string LockedBy);

/// <summary>Effective flags and the locks that overrode a request.</summary>
internal sealed record FlagResolution(EffectiveFlags Flags, IReadOnlyList<LockApplication> LocksApplied);

/// <summary>
/// Resolves the flags of one call (PROTOCOL.md §5), strongest first: operator locks per org and per agent >
/// per-call header flags > the agent's default flags (from its key) > gateway defaults (configuration) >
/// <see cref="GovernanceFlags.Defaults"/>. A lock cannot be loosened: a request that is at least as strict as the
/// locked value is kept (tightening is allowed), anything else — looser, or not comparable such as a different
/// <c>internal:</c> domain — is replaced by the locked value and reported in
/// <see cref="FlagResolution.LocksApplied"/> so the engine can write a <c>flags.lock_applied</c> audit event.
/// Where an org lock and an agent lock name the same flag, the agent lock applies only when it is at least as strict.
/// </summary>
internal sealed class FlagResolver
{
    /// <summary>Resolutions kept per identity (distinct flag headers); beyond this, calls resolve without caching.</summary>
    internal const int MaxCachedPerIdentity = 64;

    private const string NoHeader = "\u0000";

    private readonly GovernanceFlags _gatewayDefaults;

    // The resolution depends only on the header, the identity (immutable, held by the key store) and this resolver's
    // immutable settings, and is itself immutable; agents send the same few headers, so it is computed once per pair.
    private readonly ConditionalWeakTable<AgentIdentity, ConcurrentDictionary<string, FlagResolution>> _cache = new();
    private readonly IReadOnlyDictionary<string, GovernanceFlags> _orgLocks;

    public FlagResolver(GovernanceFlags gatewayDefaults, IReadOnlyDictionary<string, GovernanceFlags>? orgLocks = null)
    {
        _gatewayDefaults = gatewayDefaults ?? GovernanceFlags.Empty;
        _orgLocks = orgLocks ?? new Dictionary<string, GovernanceFlags>(StringComparer.Ordinal);
    }

    /// <summary>Parses the header and resolves; false with <paramref name="error"/> for invalid header flags.</summary>
    public bool TryResolve(string? header, AgentIdentity identity, out FlagResolution resolution, out FlagError? error)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var byHeader = _cache.GetValue(identity, static _ => new ConcurrentDictionary<string, FlagResolution>(StringComparer.Ordinal));
        if (byHeader.TryGetValue(header ?? NoHeader, out resolution!))
        {
            error = null;
            return true;
        }

        resolution = null!;
        if (!GovernanceFlags.TryParse(header, out var perCall, out error))
        {
            return false;
        }

        resolution = Resolve(perCall, identity);
        if (byHeader.Count < MaxCachedPerIdentity)
        {
            byHeader.TryAdd(header ?? NoHeader, resolution);
        }

        return true;
    }

    /// <summary>Resolves validated per-call flags for <paramref name="identity"/>.</summary>
    public FlagResolution Resolve(GovernanceFlags perCall, AgentIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(perCall);
        ArgumentNullException.ThrowIfNull(identity);

        var values = GovernanceFlags.Defaults.ToDictionary();
        var sources = values.Keys.ToDictionary(k => k, _ => "default", StringComparer.Ordinal);
        Layer(_gatewayDefaults, "gateway_default");
        Layer(identity.DefaultFlags, "agent_default");
        Layer(perCall, "call");

        var locks = CombinedLocks(identity);
        var applied = new List<LockApplication>();
        foreach (var (key, (locked, lockedBy)) in locks)
        {
            var requested = values[key];
            var cmp = Compare(key, requested, locked);
            if (cmp is >= 0)
            {
                continue;
            }

            values[key] = locked;
            if (sources[key] != "default")
            {
                applied.Add(new LockApplication(key, requested, locked, sources[key], lockedBy));
            }
        }

        var flags = GovernanceFlags.From(values);
        return new FlagResolution(EffectiveFlags.From(flags), applied.AsReadOnly());

        void Layer(GovernanceFlags layer, string source)
        {
            foreach (var (k, v) in layer)
            {
                values[k] = v;
                sources[k] = source;
            }
        }
    }

    private SortedDictionary<string, (string Value, string By)> CombinedLocks(AgentIdentity identity)
    {
        var result = new SortedDictionary<string, (string, string)>(StringComparer.Ordinal);
        if (_orgLocks.TryGetValue(identity.Org, out var org))
        {
            foreach (var (k, v) in org)
            {
                result[k] = (v, "org");
            }
        }

        foreach (var (k, v) in identity.Locks)
        {
            if (!result.TryGetValue(k, out var existing) || Compare(k, v, existing.Item1) is >= 0)
            {
                result[k] = (v, "agent");
            }
        }

        return result;
    }

    /// <summary>
    /// Compares two valid values of flag <paramref name="key"/> by strictness: positive when <paramref name="a"/> is
    /// stricter than <paramref name="b"/>, zero when equally strict, negative when looser, null when not comparable.
    /// </summary>
    public static int? Compare(string key, string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return 0;
        }

        switch (key)
        {
            case "mode":
                return Rank(a, "observe", "warn", "enforce", "lockdown") - Rank(b, "observe", "warn", "enforce", "lockdown");
            case "pii":
                return Rank(a, "off", "flag", "mask", "block") - Rank(b, "off", "flag", "mask", "block");
            case "secrets":
                return Rank(a, "flag", "redact", "block") - Rank(b, "flag", "redact", "block");
            case "files":
                return Rank(a, "allow", "project", "read_only", "block") - Rank(b, "allow", "project", "read_only", "block");
            case "db":
                return Rank(a, "safe_write", "read_only", "block") - Rank(b, "safe_write", "read_only", "block");
            case "email":
                return CompareParameterised(a, b, "allow", "block", static (_, _) => null);
            case "tools":
                return CompareParameterised(a, b, "log", "block", CompareToolLists);
            case "budget":
                return CompareBudgets(BudgetLimits.Parse(a), BudgetLimits.Parse(b));
            default:
                return null;
        }
    }

    private static int Rank(string value, params string[] order)
    {
        var i = Array.IndexOf(order, value);
        return i < 0 ? 0 : i;
    }

    private static int? CompareParameterised(string a, string b, string loosest, string strictest, Func<string, string, int?> middle)
    {
        int R(string v) => v == loosest ? 0 : v == strictest ? 2 : 1;
        var (ra, rb) = (R(a), R(b));
        return ra == 1 && rb == 1 ? middle(a, b) : ra - rb;
    }

    private static int? CompareToolLists(string a, string b)
    {
        var (ha, pa) = (EffectiveFlags.Head(a), EffectiveFlags.Parameters(a).ToHashSet(StringComparer.OrdinalIgnoreCase));
        var (hb, pb) = (EffectiveFlags.Head(b), EffectiveFlags.Parameters(b).ToHashSet(StringComparer.OrdinalIgnoreCase));
        if (ha != hb)
        {
            return null;
        }

        // A smaller allowlist, or a larger denylist, is stricter.
        var (small, large) = ha == "allowlist" ? (pa, pb) : (pb, pa);
        if (small.SetEquals(large))
        {
            return 0;
        }

        if (small.IsSubsetOf(large))
        {
            return 1;
        }

        return large.IsSubsetOf(small) ? -1 : null;
    }

    private static int? CompareBudgets(BudgetLimits a, BudgetLimits b)
    {
        static bool AtMost(decimal? x, decimal? y) => y is null || (x is not null && x <= y);
        var aStricter = AtMost(a.PerCallUsd, b.PerCallUsd) && AtMost(a.PerSessionUsd, b.PerSessionUsd) && AtMost(a.PerDayUsd, b.PerDayUsd);
        var bStricter = AtMost(b.PerCallUsd, a.PerCallUsd) && AtMost(b.PerSessionUsd, a.PerSessionUsd) && AtMost(b.PerDayUsd, a.PerDayUsd);
        return (aStricter, bStricter) switch
        {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => -1,
            _ => null,
        };
    }
}
