using System.Runtime.InteropServices;

namespace TapPass.Sandbox;

/// <summary>The boundary to the kernel: what it supports, and applying a plan. Replaced by a fake in unit tests.</summary>
internal interface ISandboxKernel
{
    /// <summary>Returns the Landlock ABI (0 when absent) and, when <paramref name="profile"/> cannot be fully enforced, why.</summary>
    (int Abi, string? Unsupported) Probe(SandboxProfile profile);

    /// <summary>Plans and applies <paramref name="options"/> on every thread of the process. Irreversible.</summary>
    EnforcementResult Enforce(SandboxOptions options, int abi);
}

/// <summary>The real Linux kernel, through Landlock.</summary>
internal sealed class LandlockKernel : ISandboxKernel
{
    internal static LandlockKernel Instance { get; } = new();

    public (int Abi, string? Unsupported) Probe(SandboxProfile profile)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, $"Landlock needs Linux; this is {RuntimeInformation.OSDescription}.");
        }

        if (LandlockNative.ForArchitecture(RuntimeInformation.ProcessArchitecture) is null)
        {
            return (0, $"The sandbox supports x64 and arm64, not {RuntimeInformation.ProcessArchitecture}.");
        }

        var abi = LandlockNative.GetAbiVersion();
        if (abi < 1)
        {
            var why = -abi == LandlockNative.Eopnotsupp
                ? "Landlock is built into this kernel but disabled at boot (add landlock to the lsm= kernel parameter)."
                : "This kernel has no Landlock (it needs Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK).";
            return (0, why);
        }

        if (!LandlockAccess.HandlesNetwork(abi))
        {
            return (abi, $"The '{profile.Name()}' profile restricts TCP, which needs Landlock ABI 4 (Linux 6.7); this kernel has ABI {abi}.");
        }

        return (abi, null);
    }

    public EnforcementResult Enforce(SandboxOptions options, int abi)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Landlock needs Linux.");
        }

        var plan = SandboxPlanner.Create(options, SandboxEnvironment.Capture());
        return LandlockEnforcer.Apply(plan, abi, RuntimeInformation.ProcessArchitecture, options.ThreadConfirmationTimeout, TimeProvider.System);
    }
}
