using System.Runtime.InteropServices;

namespace TapPass.Sandbox;

/// <summary>
/// Raw Linux interfaces used by the sandbox: the three Landlock system calls, prctl, open/close,
/// realpath, and the signal and memory calls the thread broadcaster needs. Only x86-64 and
/// AArch64 are supported; both use the generic syscall numbers 444–446 for Landlock.
/// </summary>
internal static unsafe partial class LandlockNative
{
    private const string Libc = "libc";

    internal const int SysLandlockCreateRuleset = 444;
    internal const int SysLandlockAddRule = 445;
    internal const int SysLandlockRestrictSelf = 446;

    internal const uint CreateRulesetVersion = 1;
    internal const int RulePathBeneath = 1;
    internal const int RuleNetPort = 2;

    internal const int PrSetNoNewPrivs = 38;

    // open(2) flags shared by x86-64 and AArch64 (generic values). O_NOFOLLOW differs, so it is not used.
    internal const int OPath = 0x200000;
    internal const int OCloexec = 0x80000;

    internal const int ProtRead = 1;
    internal const int ProtWrite = 2;
    internal const int ProtExec = 4;
    internal const int MapPrivate = 0x02;
    internal const int MapAnonymous = 0x20;

    internal const int SaOnStack = 0x08000000;
    internal const int SaRestart = 0x10000000;

    internal const int Enosys = 38;
    internal const int Eopnotsupp = 95;
    internal const int Esrch = 3;

    /// <summary>The syscall numbers that differ between the supported architectures.</summary>
    internal readonly record struct ArchSyscalls(int GetTid, int TgKill);

    /// <summary>Returns the architecture's syscall numbers, or <see langword="null"/> for an unsupported architecture.</summary>
    internal static ArchSyscalls? ForArchitecture(Architecture architecture) => architecture switch
    {
        Architecture.X64 => new ArchSyscalls(GetTid: 186, TgKill: 234),
        Architecture.Arm64 => new ArchSyscalls(GetTid: 178, TgKill: 131),
        _ => null,
    };

    [StructLayout(LayoutKind.Sequential)]
    internal struct RulesetAttr
    {
        public ulong HandledAccessFs;
        public ulong HandledAccessNet;
        public ulong Scoped;
    }

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    internal struct PathBeneathAttr
    {
        public ulong AllowedAccess;
        public int ParentFd;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct NetPortAttr
    {
        public ulong AllowedAccess;
        public ulong Port;
    }

    /// <summary>glibc's and musl's <c>struct sigaction</c> on x86-64 and AArch64 (152 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SigAction
    {
        public nint Handler;
        public fixed ulong Mask[16];
        public int Flags;
        public nint Restorer;
    }

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint Syscall(nint number, nint arg1, nint arg2, nint arg3, nint arg4);

    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint RealPath(string path, nint resolved);

    [LibraryImport(Libc, EntryPoint = "free")]
    internal static partial void Free(nint pointer);

    [LibraryImport(Libc, EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Libc, EntryPoint = "mprotect", SetLastError = true)]
    internal static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport(Libc, EntryPoint = "sigaction", SetLastError = true)]
    internal static partial int Sigaction(int signal, SigAction* action, SigAction* oldAction);

    [LibraryImport("libgcc_s.so.1", EntryPoint = "__clear_cache")]
    internal static partial void ClearCache(nint begin, nint end);

    /// <summary>
    /// Returns the Landlock ABI version of the running kernel, or a negative errno when Landlock is
    /// missing (<c>-ENOSYS</c>) or disabled at boot (<c>-EOPNOTSUPP</c>). Linux only.
    /// </summary>
    internal static int GetAbiVersion()
    {
        var result = Syscall(SysLandlockCreateRuleset, 0, 0, (nint)CreateRulesetVersion, 0);
        return result >= 0 ? (int)result : -Marshal.GetLastPInvokeError();
    }

    /// <summary>The canonical absolute path (symbolic links resolved) of an existing path, or <see langword="null"/>.</summary>
    internal static string? TryRealPath(string path)
    {
        var resolved = RealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }
}
