namespace TapPass.Sandbox;

/// <summary>Landlock access rights (include/uapi/linux/landlock.h) and the sets the sandbox grants.</summary>
internal static class LandlockAccess
{
    // Filesystem rights.
    internal const ulong Execute = 1UL << 0;
    internal const ulong WriteFile = 1UL << 1;
    internal const ulong ReadFile = 1UL << 2;
    internal const ulong ReadDir = 1UL << 3;
    internal const ulong RemoveDir = 1UL << 4;
    internal const ulong RemoveFile = 1UL << 5;
    internal const ulong MakeChar = 1UL << 6;
    internal const ulong MakeDir = 1UL << 7;
    internal const ulong MakeReg = 1UL << 8;
    internal const ulong MakeSock = 1UL << 9;
    internal const ulong MakeFifo = 1UL << 10;
    internal const ulong MakeBlock = 1UL << 11;
    internal const ulong MakeSym = 1UL << 12;
    internal const ulong Refer = 1UL << 13;       // ABI 2
    internal const ulong Truncate = 1UL << 14;    // ABI 3
    internal const ulong IoctlDev = 1UL << 15;    // ABI 5

    // Network rights (ABI 4).
    internal const ulong NetBindTcp = 1UL << 0;
    internal const ulong NetConnectTcp = 1UL << 1;

    // Scopes (ABI 6).
    internal const ulong ScopeAbstractUnixSocket = 1UL << 0;

    /// <summary>The rights that apply to a file (as opposed to a directory); a rule on a file may hold only these.</summary>
    internal const ulong FileRights = Execute | WriteFile | ReadFile | Truncate | IoctlDev;

    /// <summary>Read a file or list a directory.</summary>
    internal const ulong Read = ReadFile | ReadDir;

    /// <summary>Read and execute.</summary>
    internal const ulong ReadExecute = Read | Execute;

    /// <summary>Everything a writable tree needs, but no device nodes, no ioctl on devices and no execution.</summary>
    internal const ulong ReadWrite = Read | WriteFile | RemoveDir | RemoveFile | MakeDir | MakeReg | MakeSock
        | MakeFifo | MakeSym | Refer | Truncate;

    /// <summary>Read and write an existing device file such as <c>/dev/null</c>.</summary>
    internal const ulong DeviceReadWrite = ReadFile | WriteFile | Truncate;

    /// <summary>The filesystem rights the kernel handles at <paramref name="abi"/>; 0 below ABI 1.</summary>
    internal static ulong HandledFs(int abi) => abi switch
    {
        < 1 => 0,
        1 => (1UL << 13) - 1,
        2 => (1UL << 14) - 1,
        3 or 4 => (1UL << 15) - 1,
        _ => (1UL << 16) - 1,
    };

    /// <summary>Whether the kernel restricts TCP bind/connect at <paramref name="abi"/> (Linux 6.7+).</summary>
    internal static bool HandlesNetwork(int abi) => abi >= 4;

    /// <summary>Whether the kernel supports scoping abstract unix sockets at <paramref name="abi"/> (Linux 6.12+).</summary>
    internal static bool HandlesScopes(int abi) => abi >= 6;

    /// <summary>A short human-readable description of a set of filesystem rights, for example <c>read+list+execute</c>.</summary>
    internal static string Describe(ulong rights)
    {
        var parts = new List<string>(6);
        if ((rights & ReadFile) != 0)
        {
            parts.Add("read");
        }

        if ((rights & ReadDir) != 0)
        {
            parts.Add("list");
        }

        if ((rights & WriteFile) != 0)
        {
            parts.Add("write");
        }

        if ((rights & (MakeDir | MakeReg | MakeSym | MakeSock | MakeFifo | RemoveDir | RemoveFile)) != 0)
        {
            parts.Add("create/delete");
        }

        if ((rights & Refer) != 0)
        {
            parts.Add("rename/link");
        }

        if ((rights & Truncate) != 0)
        {
            parts.Add("truncate");
        }

        if ((rights & Execute) != 0)
        {
            parts.Add("execute");
        }

        return parts.Count == 0 ? "none" : string.Join('+', parts);
    }
}
