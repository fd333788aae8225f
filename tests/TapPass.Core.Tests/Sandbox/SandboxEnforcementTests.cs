using TapPass.Sandbox.Probe;

namespace TapPass.Core.Tests.Sandbox;

/// <summary>
/// Each test locks a child process (the probe) down to a tier and proves with real system calls that the forbidden
/// operations fail with EACCES and the allowed ones still work. The test process itself is never sandboxed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SandboxEnforcementTests : IDisposable
{
    private readonly SandboxScenario _scenario = new();

    public void Dispose() => _scenario.Dispose();

    [LandlockFact]
    public async Task AgentCalls_AfterSecure_ReportTheEnforcedTierToTheGateway()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.AgentHeader(),
            Step.Secure(s.Secure("worker")),
            Step.AgentHeader(),
            Step.Secure(s.Secure("observer")),
            Step.AgentHeader(),
        ])).Results;

        r[0].Output.Should().Be("<none>", "nothing is claimed before the sandbox is applied");
        r[1].ShouldBeSecured().Tier.Should().Be("worker");
        r[2].Output.Should().Be("worker");
        r[3].ShouldBeSecured().Tier.Should().Be("observer");
        r[4].Output.Should().Be("observer", "a tighter second Secure() lowers the tier the gateway is told");
    }

    [LandlockFact]
    public async Task Observer_ReadsWorkspace_WritesNowhere()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("observer")),
            Step.Read(s.WorkspaceFile),
            Step.Write(Path.Combine(s.Workspace, "new.txt")),
            Step.Write(s.WorkspaceFile),
            Step.Write(Path.Combine(s.Outside, "new.txt")),
            Step.Write(Path.Combine(s.Temp, "new.txt")),
            Step.WriteManaged(Path.Combine(s.Workspace, "managed.txt")),
        ])).Results;

        var report = r[0].ShouldBeSecured();
        report.Tier.Should().Be("observer");
        report.Enforced.Should().BeTrue();
        report.AbiVersion.Should().BeGreaterThanOrEqualTo(LandlockFactAttribute.RequiredAbi);
        r[1].ShouldSucceed("observer reads the workspace");
        r[1].Output.Should().Be(SandboxScenario.WorkspaceContent);
        r[2].ShouldBeDenied("observer creates no file in the workspace");
        r[3].ShouldBeDenied("observer modifies no file in the workspace");
        r[4].ShouldBeDenied("observer writes nothing outside the workspace");
        r[5].ShouldBeDenied("observer writes nothing in the temp directory");
        r[6].ShouldBeDenied("File.WriteAllText hits the same wall");
        File.Exists(Path.Combine(s.Workspace, "new.txt")).Should().BeFalse();
        File.ReadAllText(s.WorkspaceFile).Should().Be(SandboxScenario.WorkspaceContent);
    }

    [LandlockFact]
    public async Task Observer_NoCredentials_NoExecution_TcpOnlyToGateway()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("observer")),
            Step.Read(s.SshKey),
            Step.Read(s.OutsideFile),
            Step.Exec("ls", s.Workspace),
            Step.Connect(s.OtherPort),
            Step.Connect(s.GatewayPort),
            Step.Bind(0),
        ])).Results;

        r[0].ShouldBeSecured();
        r[1].ShouldBeDenied("observer cannot read ~/.ssh");
        r[2].ShouldBeDenied("observer reads only the workspace and the runtime's files");
        r[3].ShouldBeDenied("observer executes no program");
        r[4].ShouldBeDenied("observer connects to no other TCP port");
        r[5].ShouldSucceed("the agent keeps its channel to the gateway");
        r[6].ShouldBeDenied("observer binds no TCP port");
    }

    [LandlockFact]
    public async Task Secure_RestrictsThreadsThatExistedBeforeTheCall()
    {
        var s = _scenario;
        var response = await s.RunAsync(
        [
            Step.Write(Path.Combine(s.Outside, "before.txt"), thread: "early"),
            Step.Secure(s.Secure("observer")),
            Step.Write(Path.Combine(s.Outside, "early.txt"), thread: "early"),
            Step.Write(Path.Combine(s.Outside, "pool.txt"), thread: "pool"),
            Step.Connect(s.OtherPort, thread: "pool"),
            Step.Read(s.WorkspaceFile, thread: "early"),
        ]);
        var r = response.Results;

        r[0].ShouldSucceed("before Secure() the early thread can write anywhere");
        var report = r[1].ShouldBeSecured();
        report.RestrictedThreads.Should().BeGreaterThanOrEqualTo(response.ThreadsBeforeSecure, "every thread that existed must confirm");
        report.NotEnforced.Should().NotContain(line => line.Contains("thread", StringComparison.Ordinal), "no thread may be left unrestricted");
        r[2].ShouldBeDenied("a thread started before Secure() is restricted too");
        r[3].ShouldBeDenied("thread-pool threads are restricted too");
        r[4].ShouldBeDenied("thread-pool threads cannot connect either");
        r[5].ShouldSucceed("the early thread still reads the workspace");
        File.Exists(Path.Combine(s.Outside, "early.txt")).Should().BeFalse();
        File.Exists(Path.Combine(s.Outside, "pool.txt")).Should().BeFalse();
    }

    [LandlockFact]
    public async Task ThreadThatBlocksTheSignal_IsReportedUnrestricted_UntilItUnblocks()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.BlockSignals(thread: "early"),
            Step.Secure(s.Secure("observer")),
            Step.Write(Path.Combine(s.Outside, "blocked.txt"), thread: "early"),
            Step.Write(Path.Combine(s.Outside, "main.txt")),
            Step.UnblockSignals(thread: "early"),
            Step.Write(Path.Combine(s.Outside, "unblocked.txt"), thread: "early"),
        ])).Results;

        r[0].ShouldSucceed("pthread_sigmask blocks the real-time signals on the early thread");
        var report = r[1].ShouldBeSecured();
        report.NotEnforced.Should().ContainSingle(line => line.Contains("probe-early", StringComparison.Ordinal) && line.Contains("NOT restricted", StringComparison.Ordinal),
            "the report must name the thread it could not restrict");
        r[2].ShouldSucceed("that thread really is unrestricted, exactly as reported");
        r[3].ShouldBeDenied("the other threads are restricted");
        r[4].ShouldSucceed("the early thread unblocks the signals");
        r[5].ShouldBeDenied("the pending signal restricts the thread as soon as it unblocks it");
    }

    [LandlockFact]
    public async Task Worker_WritesWorkspaceOnly_AndCannotReadCredentials()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("worker")),
            Step.Write(Path.Combine(s.Workspace, "new.txt")),
            Step.Read(Path.Combine(s.Workspace, "new.txt")),
            Step.Write(Path.Combine(s.Outside, "new.txt")),
            Step.Write(Path.Combine(s.Temp, "new.txt")),
            Step.Read(s.SshKey),
            Step.Read(s.AwsCredentials),
        ])).Results;

        r[0].ShouldBeSecured().Tier.Should().Be("worker");
        r[1].ShouldSucceed("worker writes in the workspace");
        r[2].ShouldSucceed("and reads back what it wrote");
        r[3].ShouldBeDenied("worker writes nothing outside the workspace");
        r[4].ShouldBeDenied("worker does not write the temp directory");
        r[5].ShouldBeDenied("worker cannot read ~/.ssh");
        r[6].ShouldBeDenied("worker cannot read ~/.aws");
    }

    [LandlockFact]
    public async Task Worker_ExecutesOnlyAllowListedPrograms()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("worker")),
            Step.Exec("ls", s.Workspace),
            Step.Exec("cat", s.WorkspaceFile),
            Step.Exec("id"),
            Step.Exec("sh", "-c", "echo escaped"),
        ])).Results;

        r[0].ShouldBeSecured();
        r[1].ShouldSucceed("ls is on the default allow-list");
        r[1].Output.Should().Contain("existing.txt");
        r[2].ShouldSucceed("cat is on the default allow-list");
        r[2].Output.Should().Be(SandboxScenario.WorkspaceContent);
        r[3].ShouldBeDenied("id is not on the allow-list");
        r[4].ShouldBeDenied("no shell on the allow-list");
    }

    [LandlockFact]
    public async Task Worker_CustomAllowList_ReplacesTheDefault()
    {
        var s = _scenario;
        var secure = s.Secure("worker");
        secure.AllowedPrograms = ["id"];
        var r = (await s.RunAsync([Step.Secure(secure), Step.Exec("id"), Step.Exec("ls", s.Workspace)])).Results;

        r[0].ShouldBeSecured();
        r[1].ShouldSucceed("id was allowed");
        r[2].ShouldBeDenied("ls is no longer allowed");
    }

    [LandlockFact]
    public async Task Worker_ConnectsOnlyToGatewayAndAllowedPorts()
    {
        var s = _scenario;
        var secure = s.Secure("worker");
        secure.AllowedTcpPorts = [s.AllowedPort];
        var r = (await s.RunAsync(
        [
            Step.Secure(secure),
            Step.Connect(s.GatewayPort),
            Step.Connect(s.AllowedPort),
            Step.Connect(s.OtherPort),
            Step.Bind(0),
            Step.Udp(s.OtherPort),
        ])).Results;

        var report = r[0].ShouldBeSecured();
        r[1].ShouldSucceed("the gateway port is allowed");
        r[2].ShouldSucceed("the caller allowed this port");
        r[3].ShouldBeDenied("any other TCP port is refused");
        r[4].ShouldBeDenied("worker listens on no port");
        r[5].ShouldSucceed("UDP is not restricted by Landlock");
        report.NotEnforced.Should().Contain(line => line.StartsWith("UDP", StringComparison.Ordinal), "the report must not claim UDP is restricted");
    }

    [LandlockFact]
    public async Task Default_WorkspaceReadWrite_RestReadOnly_CredentialsUnreadable()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure(null)),
            Step.Write(Path.Combine(s.Workspace, "new.txt")),
            Step.Write(Path.Combine(s.Outside, "new.txt")),
            Step.Write(Path.Combine(s.Temp, "new.txt")),
            Step.Read(s.OutsideFile),
            Step.Read(s.HomeNotes),
            Step.Read(s.SshKey),
            Step.List(Path.Combine(s.Home, ".ssh")),
            Step.Read(s.AwsCredentials),
        ])).Results;

        var report = r[0].ShouldBeSecured();
        report.Profile.Should().Be("default");
        report.Tier.Should().Be("standard", "the default profile enforces everything the standard tier does");
        r[1].ShouldSucceed("the workspace is writable");
        r[2].ShouldBeDenied("the rest is read-only");
        r[3].ShouldBeDenied("the temp directory is read-only in the default profile");
        r[4].ShouldSucceed("the rest is readable");
        r[4].Output.Should().Be(SandboxScenario.OutsideContent);
        r[5].ShouldSucceed("ordinary files in the home directory stay readable");
        r[6].ShouldBeDenied("~/.ssh is a credential directory");
        r[7].ShouldBeDenied("~/.ssh cannot even be listed");
        r[8].ShouldBeDenied("~/.aws is a credential directory");
    }

    [LandlockFact]
    public async Task Default_ProgramsRunButInheritTheSandbox_AndWorkspaceFilesAreNotExecutable()
    {
        var s = _scenario;
        var copied = Path.Combine(s.Workspace, "copied-true");
        File.Copy("/usr/bin/true", copied);
        File.SetUnixFileMode(copied, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure(null)),
            Step.Exec("id"),
            Step.Exec("sh", "-c", "cat \"$0\"", s.SshKey),
            Step.Exec("sh", "-c", "echo x > \"$0\"", Path.Combine(s.Outside, "from-shell.txt")),
            Step.Exec(copied),
            Step.Connect(s.GatewayPort),
            Step.Connect(s.OtherPort),
        ])).Results;

        r[0].ShouldBeSecured();
        r[1].ShouldSucceed("installed programs run in the default profile");
        r[2].Ok.Should().BeFalse("a child process inherits the sandbox and cannot read ~/.ssh");
        r[2].Output.Should().NotContain("PRIVATE KEY");
        r[3].Ok.Should().BeFalse("a child process cannot write outside the workspace");
        File.Exists(Path.Combine(s.Outside, "from-shell.txt")).Should().BeFalse();
        r[4].ShouldBeDenied("files in the writable workspace cannot be executed");
        r[5].ShouldSucceed("the gateway is reachable");
        r[6].ShouldBeDenied("other TCP ports are not");
    }

    [LandlockFact]
    public async Task Default_WorkspaceDefaultsToTheCurrentDirectory()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
            [Step.Secure(new ProbeSecure()), Step.Write(Path.Combine(s.Workspace, "cwd.txt")), Step.Write(Path.Combine(s.Outside, "cwd.txt"))],
            workingDirectory: s.Workspace)).Results;

        r[0].ShouldBeSecured().Rules.Should().Contain(line => line.Contains(s.Workspace + "/ (workspace)", StringComparison.Ordinal));
        r[1].ShouldSucceed("the current directory is the workspace");
        r[2].ShouldBeDenied("everything else is read-only");
    }

    [LandlockFact]
    public async Task Standard_AnyTcpConnect_TempWritable_CredentialsStillUnreadable()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("standard")),
            Step.Connect(s.OtherPort),
            Step.Bind(0),
            Step.Write(Path.Combine(s.Temp, "new.txt")),
            Step.Write(Path.Combine(s.Workspace, "new.txt")),
            Step.Write(Path.Combine(s.Outside, "new.txt")),
            Step.Read(s.SshKey),
        ])).Results;

        r[0].ShouldBeSecured().Tier.Should().Be("standard");
        r[1].ShouldSucceed("standard connects to any TCP port");
        r[2].ShouldBeDenied("standard does not listen");
        r[3].ShouldSucceed("standard writes the temp directory");
        r[4].ShouldSucceed("and the workspace");
        r[5].ShouldBeDenied("but nothing else");
        r[6].ShouldBeDenied("credentials stay unreadable");
    }

    [LandlockFact]
    public async Task Full_RestrictsNothing_AndSaysSo()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("full")),
            Step.Write(Path.Combine(s.Outside, "new.txt")),
            Step.Read(s.SshKey),
            Step.Connect(s.OtherPort),
        ])).Results;

        var report = r[0].ShouldBeSecured();
        report.Tier.Should().Be("full");
        report.Enforced.Should().BeFalse("the full tier is audit only");
        report.NotEnforced.Should().ContainSingle().Which.Should().Contain("nothing is restricted");
        r[1].ShouldSucceed("full writes anywhere");
        r[2].ShouldSucceed("full reads anything");
        r[2].Output.Should().Be(SandboxScenario.PrivateKey);
        r[3].ShouldSucceed("full connects anywhere");
    }

    [LandlockFact]
    public async Task SecondCall_TightensButNeverLoosens()
    {
        var s = _scenario;
        var r = (await s.RunAsync(
        [
            Step.Secure(s.Secure("worker")),
            Step.Write(Path.Combine(s.Workspace, "first.txt")),
            Step.Secure(s.Secure("standard")),
            Step.Secure(s.Secure(null)),
            Step.Write(Path.Combine(s.Workspace, "still-worker.txt")),
            Step.Secure(s.Secure("observer")),
            Step.Write(Path.Combine(s.Workspace, "second.txt")),
            Step.Read(s.WorkspaceFile),
            Step.Current(),
        ])).Results;

        r[0].ShouldBeSecured();
        r[1].ShouldSucceed("worker writes the workspace");
        r[2].Ok.Should().BeFalse();
        r[2].Error.Should().StartWith("InvalidOperationException").And.Contain("only be tightened");
        r[3].Ok.Should().BeFalse("the default profile is looser than worker");
        r[4].ShouldSucceed("a refused call changes nothing");
        var tightened = r[5].ShouldBeSecured();
        tightened.Tier.Should().Be("observer");
        tightened.Layers.Should().Be(2);
        tightened.Rules.Should().Contain(line => line.Contains("intersection", StringComparison.Ordinal));
        r[6].ShouldBeDenied("the observer layer forbids writes");
        r[7].ShouldSucceed("reading the workspace is allowed by both layers");
        r[8].Report!.Tier.Should().Be("observer", "Current reports the tier in force");
        r[8].Report!.Layers.Should().Be(2);
    }
}
