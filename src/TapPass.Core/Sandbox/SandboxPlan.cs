namespace TapPass.Sandbox;

/// <summary>One path-beneath rule: <paramref name="Rights"/> on <paramref name="Path"/> (a canonical path) and, for a directory, everything beneath it.</summary>
internal sealed record PlannedRule(string Path, bool IsDirectory, ulong Rights, string Reason);

/// <summary>One TCP port the process may connect to.</summary>
internal sealed record PlannedPort(int Port, string Reason);

/// <summary>
/// Everything a profile grants, independent of the kernel's ABI: the enforcer masks the rights with what
/// the kernel handles and reports the rest as not enforced.
/// </summary>
internal sealed class SandboxPlan
{
    internal required SandboxProfile Profile { get; init; }

    internal required IReadOnlyList<PlannedRule> PathRules { get; init; }

    /// <summary>Whether TCP connect is restricted to <see cref="ConnectPorts"/>.</summary>
    internal required bool RestrictConnect { get; init; }

    /// <summary>Whether TCP bind is restricted (no port is ever allowed).</summary>
    internal required bool RestrictBind { get; init; }

    internal required IReadOnlyList<PlannedPort> ConnectPorts { get; init; }

    /// <summary>What this profile never restricts, whatever the kernel (readable lines).</summary>
    internal required IReadOnlyList<string> Limitations { get; init; }

    /// <summary>Informational lines (skipped grants, split directories, programs not found).</summary>
    internal required IReadOnlyList<string> Notes { get; init; }
}

/// <summary>What one enforcing call did: threads restricted, rules applied and gaps, as readable lines.</summary>
internal sealed record EnforcementResult(int RestrictedThreads, IReadOnlyList<string> Rules, IReadOnlyList<string> NotEnforced, IReadOnlyList<string> Notes);
