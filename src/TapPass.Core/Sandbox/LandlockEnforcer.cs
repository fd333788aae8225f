using System.Globalization;
using System.Runtime.InteropServices;

namespace TapPass.Sandbox;

/// <summary>Builds a Landlock ruleset from a <see cref="SandboxPlan"/> for the kernel's ABI and applies it to every thread.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static unsafe class LandlockEnforcer
{
    /// <summary>
    /// Creates the ruleset and restricts the calling thread, then every other thread. Every failure before the calling
    /// thread is restricted throws and leaves the process untouched; after that point nothing throws: problems are reported.
    /// </summary>
    internal static EnforcementResult Apply(SandboxPlan plan, int abi, Architecture architecture, TimeSpan threadTimeout, TimeProvider timeProvider)
    {
        var restrictor = ThreadRestrictor.GetOrCreate(architecture);
        var rules = new List<string>();
        var notEnforced = new List<string>(plan.Limitations);
        var notes = new List<string>(plan.Notes);

        var handledFs = LandlockAccess.HandledFs(abi);
        ulong handledNet = 0;
        if (LandlockAccess.HandlesNetwork(abi))
        {
            handledNet = (plan.RestrictConnect ? LandlockAccess.NetConnectTcp : 0) | (plan.RestrictBind ? LandlockAccess.NetBindTcp : 0);
        }

        var scoped = LandlockAccess.HandlesScopes(abi) ? LandlockAccess.ScopeAbstractUnixSocket : 0;
        var networkRules = new List<string>();
        DescribeAbiGaps(plan, abi, notEnforced, notes, networkRules, handledNet, scoped);

        var attr = new LandlockNative.RulesetAttr { HandledAccessFs = handledFs, HandledAccessNet = handledNet, Scoped = scoped };
        var size = scoped != 0 ? 24 : handledNet != 0 ? 16 : 8;
        var ruleset = (int)LandlockNative.Syscall(LandlockNative.SysLandlockCreateRuleset, (nint)(&attr), size, 0, 0);
        if (ruleset < 0)
        {
            throw new InvalidOperationException($"landlock_create_ruleset failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        var keepRulesetOpen = false;
        try
        {
            AddPathRules(ruleset, plan, handledFs, rules, notes);
            rules.AddRange(networkRules);
            if ((handledNet & LandlockAccess.NetConnectTcp) != 0)
            {
                AddPortRules(ruleset, plan, rules);
            }

            if (scoped != 0)
            {
                rules.Add("abstract unix sockets: only those created inside the sandbox can be reached");
            }

            if (LandlockNative.Prctl(LandlockNative.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
            {
                throw new InvalidOperationException($"prctl(PR_SET_NO_NEW_PRIVS) failed (errno {Marshal.GetLastPInvokeError()}).");
            }

            if (LandlockNative.Syscall(LandlockNative.SysLandlockRestrictSelf, ruleset, 0, 0, 0) != 0)
            {
                throw new InvalidOperationException($"landlock_restrict_self failed (errno {Marshal.GetLastPInvokeError()}).");
            }

            // From here on the calling thread is locked: report, never throw.
            ThreadRestrictor.Outcome outcome;
            try
            {
                outcome = restrictor.RestrictOtherThreads(ruleset, threadTimeout, timeProvider);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                outcome = new ThreadRestrictor.Outcome(0, [], [$"the other threads could not be reached ({ex.GetType().Name}); they may be unrestricted"]);
            }

            var restricted = outcome.Confirmed + 1;
            rules.Add($"threads: {restricted} restricted (every thread of the process; threads they start inherit the restriction)");
            foreach (var failure in outcome.Failed.Concat(outcome.Unconfirmed))
            {
                notEnforced.Add($"{failure}: NOT restricted");
            }

            // A thread that has not answered yet may take the signal later; its handler needs the ruleset then.
            keepRulesetOpen = outcome.Unconfirmed.Count > 0;

            notes.Add("no_new_privs is set: set-user-ID programs (sudo, su) cannot gain privileges");
            return new EnforcementResult(restricted, rules, notEnforced, notes);
        }
        finally
        {
            if (!keepRulesetOpen)
            {
                LandlockNative.Close(ruleset);
            }
        }
    }

    private static void AddPathRules(int ruleset, SandboxPlan plan, ulong handledFs, List<string> rules, List<string> notes)
    {
        foreach (var rule in plan.PathRules)
        {
            var rights = rule.Rights & handledFs;
            if (!rule.IsDirectory)
            {
                rights &= LandlockAccess.FileRights;
            }

            if (rights == 0)
            {
                continue;
            }

            var fd = LandlockNative.Open(rule.Path, LandlockNative.OPath | LandlockNative.OCloexec);
            if (fd < 0)
            {
                notes.Add($"{rule.Path} ({rule.Reason}) could not be opened (errno {Marshal.GetLastPInvokeError()}): not granted");
                continue;
            }

            try
            {
                var attr = new LandlockNative.PathBeneathAttr { AllowedAccess = rights, ParentFd = fd };
                if (LandlockNative.Syscall(LandlockNative.SysLandlockAddRule, ruleset, LandlockNative.RulePathBeneath, (nint)(&attr), 0) != 0)
                {
                    throw new InvalidOperationException(
                        $"landlock_add_rule failed for {rule.Path} (errno {Marshal.GetLastPInvokeError()}).");
                }
            }
            finally
            {
                LandlockNative.Close(fd);
            }

            rules.Add($"{LandlockAccess.Describe(rights)}: {rule.Path}{(rule.IsDirectory ? "/" : string.Empty)} ({rule.Reason})");
        }

        rules.Add("everything else on the filesystem: no access (" + LandlockAccess.Describe(handledFs) + " denied)");
    }

    private static void AddPortRules(int ruleset, SandboxPlan plan, List<string> rules)
    {
        foreach (var port in plan.ConnectPorts)
        {
            var attr = new LandlockNative.NetPortAttr { AllowedAccess = LandlockAccess.NetConnectTcp, Port = (ulong)port.Port };
            if (LandlockNative.Syscall(LandlockNative.SysLandlockAddRule, ruleset, LandlockNative.RuleNetPort, (nint)(&attr), 0) != 0)
            {
                throw new InvalidOperationException($"landlock_add_rule failed for TCP port {port.Port} (errno {Marshal.GetLastPInvokeError()}).");
            }

            rules.Add($"tcp connect: port {port.Port.ToString(CultureInfo.InvariantCulture)} ({port.Reason})");
        }
    }

    private static void DescribeAbiGaps(
        SandboxPlan plan, int abi, List<string> notEnforced, List<string> notes, List<string> rules, ulong handledNet, ulong scoped)
    {
        if (plan.RestrictConnect || plan.RestrictBind)
        {
            if (handledNet == 0)
            {
                var what = plan.RestrictConnect ? "TCP connect and bind are" : "TCP bind is";
                notEnforced.Add(what + " NOT restricted: Landlock network rules need ABI 4 (Linux 6.7); this kernel has ABI " + abi.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                if (plan.RestrictConnect)
                {
                    rules.Add(plan.ConnectPorts.Count == 0 ? "tcp connect: denied to every port" : "tcp connect: denied except to the ports listed next");
                }
                else
                {
                    rules.Add("tcp connect: any port");
                }

                rules.Add("tcp bind: denied to every port (no listening sockets)");
            }
        }

        if (scoped == 0)
        {
            notEnforced.Add("connecting to abstract unix sockets outside the sandbox is not restricted (needs ABI 6, Linux 6.12)");
        }

        if (abi < 2)
        {
            notes.Add("ABI 1: renaming or linking a file into another directory is always denied, even inside the workspace");
        }

        if (abi < 3)
        {
            notEnforced.Add("truncating files (truncate(2), O_TRUNC) outside the writable paths is not restricted (needs ABI 3, Linux 6.2)");
        }

        if (abi < 5)
        {
            notEnforced.Add("ioctl on device files opened after Secure() is not restricted (needs ABI 5, Linux 6.10)");
        }
    }
}
