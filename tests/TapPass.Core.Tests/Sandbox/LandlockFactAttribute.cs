using System.Runtime.InteropServices;
using TapPass.Sandbox;

namespace TapPass.Core.Tests.Sandbox;

/// <summary>
/// A fact that needs a kernel with Landlock network rules (ABI 4, Linux 6.7). Decided at run time: on another
/// kernel or OS the test is reported as skipped with the reason, never silently passed.
/// </summary>
public sealed class LandlockFactAttribute : FactAttribute
{
    internal const int RequiredAbi = 4;

    public LandlockFactAttribute()
    {
        if (UnavailableReason() is { } reason)
        {
            Skip = reason;
        }
    }

    internal static string? UnavailableReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Landlock needs Linux; this is " + RuntimeInformation.OSDescription;
        }

        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return "the sandbox supports x64 and arm64, not " + RuntimeInformation.ProcessArchitecture;
        }

        var abi = LandlockNative.GetAbiVersion();
        if (abi < 1)
        {
            return $"this kernel has no Landlock (landlock_create_ruleset errno {-abi})";
        }

        return abi < RequiredAbi
            ? $"these tests need Landlock ABI {RequiredAbi} (Linux 6.7) for TCP rules; this kernel has ABI {abi}"
            : null;
    }
}

/// <summary>A fact that needs Linux (canonical paths, /proc); skipped with the reason elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux; this is " + RuntimeInformation.OSDescription;
        }
    }
}
