using System.Globalization;
using System.Runtime.InteropServices;

namespace TapPass.Sandbox;

/// <summary>
/// Applies a Landlock ruleset to every other thread of the process. <c>landlock_restrict_self</c> restricts only
/// the calling thread (until the kernel's TSYNC flag, which Landlock ABI 7 lacks), and a .NET process already runs
/// a dozen threads (thread pool, finalizer, tiered compilation, ...) that would stay unrestricted. Each thread is
/// sent a real-time signal whose handler is a few instructions of machine code — async-signal-safe raw system
/// calls only: <c>prctl(PR_SET_NO_NEW_PRIVS)</c>, <c>landlock_restrict_self(fd)</c>, <c>gettid</c> — that records
/// its result in a shared table. The caller waits until every thread has answered, rescans for threads created
/// meanwhile, and reports any thread that did not confirm. The handler stays installed for the process lifetime
/// so a late delivery is harmless.
/// </summary>
internal sealed unsafe class ThreadRestrictor
{
    private const int Capacity = 16384;
    private const int HeaderSize = 16;
    private const int EntrySize = 16;
    private const int MaxRounds = 64;

    // x86-64 handler (assembled with GNU as, Intel syntax; `data` is the literal at the end):
    //   push rbx; mov r9,[rip+data]; mov ebx,[r9+4]                       ; generation
    //   mov eax,157; mov edi,38; mov esi,1; xor edx,edx; xor r10d,r10d; xor r8d,r8d; syscall   ; prctl(PR_SET_NO_NEW_PRIVS,1)
    //   mov r8d,eax; mov eax,446; mov edi,[r9]; xor esi,esi; syscall     ; landlock_restrict_self(fd,0)
    //   mov r10d,eax; mov eax,186; syscall; mov edx,eax                   ; gettid
    //   mov ecx,1; lock xadd [r9+8],ecx; cmp ecx,16384; jae done          ; slot = count++
    //   shl ecx,4; lea rsi,[r9+rcx+16]; mov [rsi+4],ebx; mov [rsi+8],r8d; mov [rsi+12],r10d; mov [rsi],edx
    //   done: pop rbx; ret
    private static readonly byte[] X64Code =
    [
        0x53, 0x4c, 0x8b, 0x0d, 0x68, 0x00, 0x00, 0x00, 0x41, 0x8b, 0x59, 0x04, 0xb8, 0x9d, 0x00, 0x00,
        0x00, 0xbf, 0x26, 0x00, 0x00, 0x00, 0xbe, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x45, 0x31, 0xd2,
        0x45, 0x31, 0xc0, 0x0f, 0x05, 0x41, 0x89, 0xc0, 0xb8, 0xbe, 0x01, 0x00, 0x00, 0x41, 0x8b, 0x39,
        0x31, 0xf6, 0x0f, 0x05, 0x41, 0x89, 0xc2, 0xb8, 0xba, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x89, 0xc2,
        0xb9, 0x01, 0x00, 0x00, 0x00, 0xf0, 0x41, 0x0f, 0xc1, 0x49, 0x08, 0x81, 0xf9, 0x00, 0x40, 0x00,
        0x00, 0x73, 0x15, 0xc1, 0xe1, 0x04, 0x49, 0x8d, 0x74, 0x09, 0x10, 0x89, 0x5e, 0x04, 0x44, 0x89,
        0x46, 0x08, 0x44, 0x89, 0x56, 0x0c, 0x89, 0x16, 0x5b, 0xc3, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,
    ];

    private const int X64LiteralOffset = 0x70;

    // AArch64 handler (assembled with GNU as; x9..x17 are scratch, the kernel preserves all but x0 across svc):
    //   ldr x9,data; ldr w10,[x9,#4]
    //   mov x8,#167; mov x0,#38; mov x1,#1; mov x2,xzr; mov x3,xzr; mov x4,xzr; svc #0; mov w11,w0   ; prctl
    //   mov x8,#446; ldr w0,[x9]; mov x1,xzr; svc #0; mov w12,w0                                     ; restrict_self
    //   mov x8,#178; svc #0; mov w13,w0                                                               ; gettid
    //   add x14,x9,#8; 1: ldaxr w15,[x14]; add w16,w15,#1; stlxr w17,w16,[x14]; cbnz w17,1b           ; slot = count++
    //   mov w16,#16384; cmp w15,w16; b.hs 2f
    //   add x16,x9,#16; add x16,x16,x15,lsl #4; str w10,[x16,#4]; str w11,[x16,#8]; str w12,[x16,#12]; stlr w13,[x16]
    //   2: ret
    private static readonly uint[] Arm64Code =
    [
        0x58000449, 0xb940052a, 0xd28014e8, 0xd28004c0, 0xd2800021, 0xaa1f03e2, 0xaa1f03e3, 0xaa1f03e4,
        0xd4000001, 0x2a0003eb, 0xd28037c8, 0xb9400120, 0xaa1f03e1, 0xd4000001, 0x2a0003ec, 0xd2801648,
        0xd4000001, 0x2a0003ed, 0x9100212e, 0x885ffdcf, 0x110005f0, 0x8811fdd0, 0x35ffffb1, 0x52880010,
        0x6b1001ff, 0x540000e2, 0x91004130, 0x8b0f1210, 0xb900060a, 0xb9000a0b, 0xb9000e0c, 0x889ffe0d,
        0xd65f03c0, 0xd503201f,
    ];

    private const int Arm64LiteralOffset = 0x88;

    private static readonly Lock CreateGate = new();
    private static ThreadRestrictor? s_instance;

    private readonly byte* _data;
    private readonly int _signal;
    private readonly LandlockNative.ArchSyscalls _syscalls;
    private int _generation;
    private int _consumed;

    private ThreadRestrictor(byte* data, int signal, LandlockNative.ArchSyscalls syscalls)
    {
        _data = data;
        _signal = signal;
        _syscalls = syscalls;
    }

    /// <summary>The outcome of one broadcast.</summary>
    /// <param name="Confirmed">Threads other than the caller that applied the ruleset.</param>
    /// <param name="Failed">Threads whose prctl or restrict_self failed, with the error.</param>
    /// <param name="Unconfirmed">Threads that did not answer in time (or could not be signalled).</param>
    internal sealed record Outcome(int Confirmed, IReadOnlyList<string> Failed, IReadOnlyList<string> Unconfirmed);

    /// <summary>The kernel thread id of the calling thread.</summary>
    internal int CurrentThreadId => (int)LandlockNative.Syscall(_syscalls.GetTid, 0, 0, 0, 0);

    /// <summary>
    /// Installs the handler once per process. Throws <see cref="InvalidOperationException"/> when memory or a free
    /// real-time signal cannot be obtained; nothing is restricted at that point, so throwing is safe.
    /// </summary>
    internal static ThreadRestrictor GetOrCreate(Architecture architecture)
    {
        lock (CreateGate)
        {
            if (s_instance is not null)
            {
                return s_instance;
            }

            var syscalls = LandlockNative.ForArchitecture(architecture)
                ?? throw new PlatformNotSupportedException($"The sandbox supports x64 and arm64, not {architecture}.");
            var pageSize = (nuint)Environment.SystemPageSize;
            var dataLength = RoundUp((nuint)(HeaderSize + (Capacity * EntrySize)), pageSize);
            var data = Map(dataLength);
            var code = Map(pageSize);

            var codeSpan = new Span<byte>((void*)code, (int)pageSize);
            int literalOffset;
            if (architecture == Architecture.X64)
            {
                X64Code.CopyTo(codeSpan);
                literalOffset = X64LiteralOffset;
            }
            else
            {
                MemoryMarshal.AsBytes(Arm64Code.AsSpan()).CopyTo(codeSpan);
                literalOffset = Arm64LiteralOffset;
            }

            *(ulong*)(code + literalOffset) = (ulong)data;
            if (LandlockNative.Mprotect(code, pageSize, LandlockNative.ProtRead | LandlockNative.ProtExec) != 0)
            {
                throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastPInvokeError()}).");
            }

            if (architecture == Architecture.Arm64)
            {
                FlushInstructionCache(code, literalOffset + 8);
            }

            var signal = InstallHandler(code);
            s_instance = new ThreadRestrictor((byte*)data, signal, syscalls);
            return s_instance;
        }
    }

    /// <summary>
    /// Applies <paramref name="rulesetFd"/> on every thread except the caller (which must already be restricted),
    /// waiting at most <paramref name="timeout"/> for their confirmations.
    /// </summary>
    internal Outcome RestrictOtherThreads(int rulesetFd, TimeSpan timeout, TimeProvider timeProvider)
    {
        var generation = ++_generation;
        Volatile.Write(ref *(int*)_data, rulesetFd);
        Volatile.Write(ref *(int*)(_data + 4), generation);
        Interlocked.MemoryBarrier();

        var pid = LandlockNative.GetPid();
        var self = CurrentThreadId;
        var signalled = new HashSet<int>();
        var pending = new HashSet<int>();
        var confirmed = new HashSet<int>();
        var failed = new Dictionary<int, string>();
        var unconfirmed = new Dictionary<int, string>();
        var started = timeProvider.GetTimestamp();

        for (var round = 0; round < MaxRounds; round++)
        {
            var threads = ListThreads();
            if (threads is null)
            {
                unconfirmed[0] = "the threads of the process could not be listed (/proc/self/task unreadable); other threads may be unrestricted";
                break;
            }

            var fresh = threads.Where(t => t != self && !signalled.Contains(t)).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            foreach (var tid in fresh)
            {
                signalled.Add(tid);
                if (LandlockNative.Syscall(_syscalls.TgKill, pid, tid, _signal, 0) == 0)
                {
                    pending.Add(tid);
                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != LandlockNative.Esrch)
                {
                    unconfirmed[tid] = $"could not be signalled (errno {errno})";
                }
            }

            var lastLivenessCheck = timeProvider.GetTimestamp();
            while (pending.Count > 0 && timeProvider.GetElapsedTime(started) < timeout)
            {
                Drain(generation, pending, confirmed, failed);
                if (pending.Count == 0)
                {
                    break;
                }

                if (timeProvider.GetElapsedTime(lastLivenessCheck) > TimeSpan.FromMilliseconds(20))
                {
                    foreach (var tid in pending.ToList())
                    {
                        switch (Inspect(tid, _signal))
                        {
                            case ThreadState.Gone:
                                pending.Remove(tid);
                                break;
                            case ThreadState.BlocksSignal:
                                pending.Remove(tid);
                                unconfirmed[tid] = "blocks the signal (it will be restricted if it unblocks it)";
                                break;
                        }
                    }

                    lastLivenessCheck = timeProvider.GetTimestamp();
                }

                Thread.Sleep(1);
            }

            Drain(generation, pending, confirmed, failed);
            if (pending.Count > 0)
            {
                break; // timed out: do not start another round
            }
        }

        foreach (var tid in pending)
        {
            unconfirmed[tid] = "did not answer in time";
        }

        Drain(generation, pending, confirmed, failed);
        foreach (var tid in confirmed.Concat(failed.Keys))
        {
            unconfirmed.Remove(tid); // answered after all (for example, unblocked the signal meanwhile)
        }

        // A thread that did not answer may still take the signal later (when it unblocks it): the caller then keeps
        // the ruleset open so that late delivery restricts it. Otherwise the ruleset is closed after this call and a
        // late delivery must fail harmlessly (EBADF) rather than hit a reused descriptor.
        if (unconfirmed.Count == 0)
        {
            Volatile.Write(ref *(int*)_data, -1);
        }

        return new Outcome(
            confirmed.Count,
            [.. failed.OrderBy(p => p.Key).Select(p => Describe(p.Key) + ": " + p.Value)],
            [.. unconfirmed.OrderBy(p => p.Key).Select(p => Describe(p.Key) + ": " + p.Value)]);
    }

    private void Drain(int generation, HashSet<int> pending, HashSet<int> confirmed, Dictionary<int, string> failed)
    {
        var count = Math.Min(Volatile.Read(ref *(int*)(_data + 8)), Capacity);
        while (_consumed < count)
        {
            var entry = _data + HeaderSize + (_consumed * EntrySize);
            var tid = Volatile.Read(ref *(int*)entry);
            if (tid == 0)
            {
                return; // slot claimed, not yet written
            }

            _consumed++;
            if (*(int*)(entry + 4) != generation)
            {
                continue;
            }

            var prctl = *(int*)(entry + 8);
            var restrict = *(int*)(entry + 12);
            pending.Remove(tid);
            if (prctl == 0 && restrict == 0)
            {
                confirmed.Add(tid);
            }
            else
            {
                failed[tid] = prctl != 0 ? $"prctl failed (errno {-prctl})" : $"landlock_restrict_self failed (errno {-restrict})";
            }
        }
    }

    private static List<int>? ListThreads()
    {
        var tids = new List<int>();
        try
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
                {
                    tids.Add(tid);
                }
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return tids;
    }

    private enum ThreadState
    {
        Running,
        Gone,
        BlocksSignal,
    }

    /// <summary>Reads <c>/proc/self/task/{tid}/status</c>: whether the thread still exists and whether it blocks <paramref name="signal"/>.</summary>
    private static ThreadState Inspect(int tid, int signal)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/task/" + tid.ToString(CultureInfo.InvariantCulture) + "/status");
        }
        catch (IOException)
        {
            return ThreadState.Gone;
        }
        catch (UnauthorizedAccessException)
        {
            return ThreadState.Running;
        }

        foreach (var line in lines)
        {
            if (line.StartsWith("SigBlk:", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var blocked))
            {
                return (blocked & (1UL << (signal - 1))) != 0 ? ThreadState.BlocksSignal : ThreadState.Running;
            }
        }

        return ThreadState.Running;
    }

    private static string Describe(int tid)
    {
        if (tid == 0)
        {
            return "threads";
        }

        var id = tid.ToString(CultureInfo.InvariantCulture);
        try
        {
            var name = File.ReadAllText("/proc/self/task/" + id + "/comm").Trim();
            return $"thread {id} ({(name.Length > 32 ? name[..32] : name)})";
        }
        catch (IOException)
        {
            return "thread " + id;
        }
        catch (UnauthorizedAccessException)
        {
            return "thread " + id;
        }
    }

    private static nint Map(nuint length)
    {
        var address = LandlockNative.Mmap(
            0, length, LandlockNative.ProtRead | LandlockNative.ProtWrite, LandlockNative.MapPrivate | LandlockNative.MapAnonymous, -1, 0);
        if (address == -1)
        {
            throw new InvalidOperationException($"mmap failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        return address;
    }

    private static int InstallHandler(nint code)
    {
        // Real-time signals from the top: the runtime uses SIGRTMIN for its own activation injection.
        for (var signal = 64; signal >= 40; signal--)
        {
            LandlockNative.SigAction current;
            if (LandlockNative.Sigaction(signal, null, &current) != 0 || current.Handler != 0)
            {
                continue;
            }

            var action = default(LandlockNative.SigAction);
            action.Handler = code;
            action.Flags = LandlockNative.SaRestart | LandlockNative.SaOnStack;
            if (LandlockNative.Sigaction(signal, &action, null) == 0)
            {
                return signal;
            }
        }

        throw new InvalidOperationException("No free real-time signal to reach the other threads of the process.");
    }

    private static void FlushInstructionCache(nint code, int length)
    {
        try
        {
            LandlockNative.ClearCache(code, code + length);
        }
        catch (DllNotFoundException)
        {
            // Linux maps a freshly executable page coherently (arm64 set_pte_at syncs the caches for exec pages).
        }
        catch (EntryPointNotFoundException)
        {
            // as above
        }
    }

    private static nuint RoundUp(nuint value, nuint multiple) => (value + multiple - 1) / multiple * multiple;
}
