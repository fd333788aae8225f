using System.Runtime.Versioning;
using TapPass.Sandbox;

namespace TapPass.Core.Tests.Sandbox;

/// <summary>The planner on real directories: what each profile would grant, without locking anything.</summary>
[SupportedOSPlatform("linux")]
public sealed class SandboxPlannerTests : IDisposable
{
    private readonly string _root;
    private readonly string _workspace;
    private readonly string _home;
    private readonly string _temp;

    public SandboxPlannerTests()
    {
        _root = Path.Combine(Path.GetTempPath(), "tappass-plan-" + Guid.NewGuid().ToString("N")[..12]);
        _workspace = Directory.CreateDirectory(Path.Combine(_root, "ws")).FullName;
        _home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        _temp = Directory.CreateDirectory(Path.Combine(_root, "tmp")).FullName;
        Directory.CreateDirectory(Path.Combine(_home, ".ssh"));
        File.WriteAllText(Path.Combine(_home, ".ssh", "id_rsa"), "key");
        File.WriteAllText(Path.Combine(_home, "notes.txt"), "notes");
        File.WriteAllText(Path.Combine(_workspace, "a.txt"), "a");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [LinuxFact]
    public void Observer_GrantsNoWriteAndNoExecuteAnywhere()
    {
        var plan = Plan(TrustTier.Observer, gateway: "http://localhost:9620");

        plan.PathRules.Should().NotBeEmpty();
        plan.PathRules.Should().OnlyContain(r => (r.Rights & ~LandlockAccess.Read) == 0, "observer only reads");
        Covering(plan, Path.Combine(_workspace, "a.txt")).Should().Be(LandlockAccess.ReadFile | LandlockAccess.ReadDir);
        Covering(plan, "/dev/null").Should().Be(LandlockAccess.ReadFile);
        plan.RestrictConnect.Should().BeTrue();
        plan.RestrictBind.Should().BeTrue();
        plan.ConnectPorts.Select(p => p.Port).Should().Equal(9620);
    }

    [LinuxFact]
    public void Observer_WithoutGateway_ConnectsNowhere() =>
        Plan(TrustTier.Observer).ConnectPorts.Should().BeEmpty();

    [LinuxFact]
    public void Observer_DoesNotGrantSecretsOfEtcOrRawDevices()
    {
        var plan = Plan(TrustTier.Observer);

        Covering(plan, "/etc/shadow").Should().Be(0);
        Covering(plan, "/etc/ssl/private/key.pem").Should().Be(0);
        Covering(plan, "/dev/sda").Should().Be(0);
        Covering(plan, Path.Combine(_home, "notes.txt")).Should().Be(0, "observer reads the workspace and the runtime, not the home directory");
    }

    [LinuxFact]
    public void Worker_ExecuteOnlyOnAllowedProgramsAndTheirLoader()
    {
        var plan = Plan(TrustTier.Worker, configure: o =>
        {
            o.AllowedPrograms.Clear();
            o.AllowedPrograms.Add("ls");
        });

        var ls = LandlockNative.TryRealPath("/usr/bin/ls")!;
        var loader = LandlockNative.TryRealPath(ExecutableInspector.Inspect(ls).Interpreter!)!;
        plan.PathRules.Where(r => (r.Rights & LandlockAccess.Execute) != 0).Select(r => r.Path)
            .Should().BeEquivalentTo([ls, loader]);
        plan.PathRules.Where(r => (r.Rights & LandlockAccess.Execute) != 0).Should().OnlyContain(r => !r.IsDirectory);
        (Covering(plan, "/usr/bin/id") & LandlockAccess.Execute).Should().Be(0UL);
        Covering(plan, Path.Combine(_workspace, "a.txt")).Should().Be(LandlockAccess.ReadWrite);
        plan.Limitations.Should().Contain(l => l.Contains(loader, StringComparison.Ordinal), "the loader bypass is reported, not hidden");
    }

    [LinuxFact]
    public void Worker_ProgramNotOnPath_IsNotedAndNotGranted()
    {
        var plan = Plan(TrustTier.Worker, configure: o =>
        {
            o.AllowedPrograms.Clear();
            o.AllowedPrograms.Add("no-such-program-tappass");
        });

        plan.PathRules.Should().NotContain(r => (r.Rights & LandlockAccess.Execute) != 0);
        plan.Notes.Should().Contain(n => n.Contains("no-such-program-tappass", StringComparison.Ordinal));
    }

    [LinuxFact]
    public void Worker_ScriptProgram_NeedsItsInterpreterAllowed()
    {
        var script = Path.Combine(_temp, "tool.sh");
        File.WriteAllText(script, "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        FluentActions.Invoking(() => Plan(TrustTier.Worker, configure: o =>
        {
            o.AllowedPrograms.Clear();
            o.AllowedPrograms.Add(script);
        })).Should().Throw<ArgumentException>().WithMessage("*script*/bin/sh*");

        var plan = Plan(TrustTier.Worker, configure: o =>
        {
            o.AllowedPrograms.Clear();
            o.AllowedPrograms.Add(script);
            o.AllowedPrograms.Add("/bin/sh");
        });
        (Covering(plan, LandlockNative.TryRealPath(script)!) & LandlockAccess.Execute).Should().NotBe(0UL);
        (Covering(plan, LandlockNative.TryRealPath("/bin/sh")!) & LandlockAccess.Execute).Should().NotBe(0UL);
    }

    [LinuxFact]
    public void Worker_PortsMergeGatewayAndAllowed_SortedWithoutDuplicates()
    {
        var plan = Plan(TrustTier.Worker, gateway: "http://localhost:9620", configure: o =>
        {
            o.AllowedTcpPorts.Add(8443);
            o.AllowedTcpPorts.Add(9620);
            o.AllowedTcpPorts.Add(5432);
        });

        plan.ConnectPorts.Select(p => p.Port).Should().Equal(5432, 8443, 9620);
        plan.ConnectPorts.Single(p => p.Port == 9620).Reason.Should().Contain("gateway").And.Contain("caller");
    }

    [LinuxFact]
    public void ProtectedPathInsideTheWorkspace_IsCutOutEntryByEntry()
    {
        var keys = Directory.CreateDirectory(Path.Combine(_workspace, ".ssh")).FullName;
        File.WriteAllText(Path.Combine(keys, "id_ed25519"), "key");
        Directory.CreateDirectory(Path.Combine(_workspace, "src"));

        var plan = Plan(TrustTier.Worker, configure: o => o.ProtectedPaths.Add(keys));

        Covering(plan, Path.Combine(keys, "id_ed25519")).Should().Be(0);
        Covering(plan, keys).Should().Be(0);
        Covering(plan, Path.Combine(_workspace, "src", "main.cs")).Should().Be(LandlockAccess.ReadWrite);
        Covering(plan, Path.Combine(_workspace, "a.txt")).Should().Be(LandlockAccess.ReadWrite & LandlockAccess.FileRights);
        plan.PathRules.Should().NotContain(r => r.Path == Real(_workspace), "the workspace itself would cover the protected path");
        plan.Notes.Should().Contain(n => n.Contains("one by one", StringComparison.Ordinal));
    }

    [LinuxFact]
    public void SymlinkToAProtectedPath_IsNotFollowed()
    {
        var keys = Directory.CreateDirectory(Path.Combine(_workspace, ".ssh")).FullName;
        File.CreateSymbolicLink(Path.Combine(_workspace, "keys"), Path.Combine(_home, ".ssh"));

        var plan = Plan(null, configure: o => o.ProtectedPaths.Add(keys));

        Covering(plan, Path.Combine(Real(_home), ".ssh", "id_rsa")).Should().Be(0);
        plan.PathRules.Should().NotContain(r => r.Path.EndsWith("/keys", StringComparison.Ordinal));
    }

    [LinuxFact]
    public void Default_RestIsReadAndExecute_WorkspaceWritableNotExecutable_CredentialsOut()
    {
        var plan = Plan(null, gateway: "http://localhost:9620");

        Covering(plan, Path.Combine(_workspace, "a.txt")).Should().Be(LandlockAccess.ReadWrite, "the workspace is writable but not executable");
        Covering(plan, Path.Combine(_workspace, "new", "deep.txt")).Should().Be(LandlockAccess.ReadWrite);
        Covering(plan, "/usr/bin/ls").Should().Be(LandlockAccess.ReadExecute);
        Covering(plan, "/etc/hostname").Should().Be(LandlockAccess.ReadExecute);
        Covering(plan, Path.Combine(_home, "notes.txt")).Should().Be(LandlockAccess.ReadExecute & LandlockAccess.FileRights);
        Covering(plan, Path.Combine(_home, ".ssh", "id_rsa")).Should().Be(0);
        Covering(plan, Path.Combine(_home, ".aws", "credentials")).Should().Be(0, "missing credential directories are protected too");
        Covering(plan, "/dev/sda").Should().Be(0, "raw disks are never readable");
        Covering(plan, "/dev/null").Should().Be(LandlockAccess.DeviceReadWrite);
        Covering(plan, "/proc/self/status").Should().Be(LandlockAccess.Read);
        (Covering(plan, Path.Combine(_temp, "x")) & LandlockAccess.WriteFile).Should().Be(0UL);
        plan.RestrictConnect.Should().BeTrue();
        plan.ConnectPorts.Select(p => p.Port).Should().Equal(9620);
        plan.Limitations.Should().Contain(l => l.Contains("/etc/shadow", StringComparison.Ordinal));
    }

    [LinuxFact]
    public void Standard_TempWritable_AnyTcpConnect_BindRestricted()
    {
        var plan = Plan(TrustTier.Standard, gateway: "http://localhost:9620");

        Covering(plan, Path.Combine(_temp, "x")).Should().Be(LandlockAccess.ReadWrite);
        Covering(plan, Path.Combine(_home, ".ssh", "id_rsa")).Should().Be(0);
        plan.RestrictConnect.Should().BeFalse();
        plan.ConnectPorts.Should().BeEmpty();
        plan.RestrictBind.Should().BeTrue();
    }

    [LinuxFact]
    public void Workspace_RootMissingOrProtected_IsRefused()
    {
        FluentActions.Invoking(() => Plan(null, workspace: "/")).Should().Throw<ArgumentException>().WithMessage("*root*");
        FluentActions.Invoking(() => Plan(null, workspace: Path.Combine(_root, "missing"))).Should().Throw<ArgumentException>().WithMessage("*not an existing directory*");
        FluentActions.Invoking(() => Plan(null, workspace: Path.Combine(_home, ".ssh"))).Should().Throw<ArgumentException>().WithMessage("*protected*");
    }

    [LinuxFact]
    public void Full_HasNothingToPlan() =>
        FluentActions.Invoking(() => Plan(TrustTier.Full)).Should().Throw<ArgumentException>();

    [Fact]
    public void Compact_DropsRulesAnAncestorAlreadyCovers()
    {
        PlannedRule[] rules =
        [
            new("/usr/bin/ls", false, LandlockAccess.ReadFile | LandlockAccess.Execute, "program"),
            new("/usr", true, LandlockAccess.Read, "system"),
            new("/usr/lib", true, LandlockAccess.Read, "libs"),
            new("/usr2", true, LandlockAccess.Read, "sibling with a common prefix"),
        ];

        SandboxPlanner.Compact(rules).Select(r => r.Path).Should().Equal("/usr", "/usr/bin/ls", "/usr2");
    }

    [Theory]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b/c", "/a/b", true)]
    [InlineData("/a/bc", "/a/b", false)]
    [InlineData("/a", "/a/b", false)]
    [InlineData("/anything", "/", true)]
    public void IsSameOrUnder_RespectsPathBoundaries(string path, string root, bool expected) =>
        SandboxPlanner.IsSameOrUnder(path, root).Should().Be(expected);

    private SandboxPlan Plan(TrustTier? tier, string? gateway = null, string? workspace = null, Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions { Tier = tier, Workspace = workspace ?? _workspace, Gateway = gateway is null ? null : new Uri(gateway) };
        configure?.Invoke(options);
        options.Validate();
        var environment = new SandboxEnvironment(_home, _root, _temp, "/usr/local/bin:/usr/bin:/bin", ["/usr/share/dotnet"]);
        return SandboxPlanner.Create(options, environment);
    }

    /// <summary>The rights the plan grants on <paramref name="path"/>: the union of the rules on it and on its ancestors, as the kernel computes it.</summary>
    private static ulong Covering(SandboxPlan plan, string path)
    {
        var real = CanonicalMaybeMissing(path);
        ulong rights = 0;
        foreach (var rule in plan.PathRules)
        {
            if (rule.IsDirectory ? SandboxPlanner.IsSameOrUnder(real, rule.Path) : real == rule.Path)
            {
                rights |= rule.Rights;
            }
        }

        return rights;
    }

    private static string Real(string path) => LandlockNative.TryRealPath(path)!;

    private static string CanonicalMaybeMissing(string path)
    {
        var suffix = new Stack<string>();
        var current = path;
        while (LandlockNative.TryRealPath(current) is not { } real)
        {
            suffix.Push(Path.GetFileName(current));
            current = Path.GetDirectoryName(current)!;
            if (current == "/")
            {
                real = "/";
                break;
            }
        }

        var result = LandlockNative.TryRealPath(current) ?? current;
        while (suffix.Count > 0)
        {
            result = result.TrimEnd('/') + "/" + suffix.Pop();
        }

        return result;
    }
}
