using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TapPass.Sandbox.Probe;

namespace TapPass.Core.Tests.Sandbox;

/// <summary>
/// A throw-away directory tree (workspace, a fake home with credentials, a directory outside the workspace, a temp
/// directory), three loopback TCP listeners, and a runner that starts the probe in a child process against them.
/// </summary>
internal sealed class SandboxScenario : IDisposable
{
    internal const string WorkspaceContent = "workspace content";
    internal const string PrivateKey = "-----BEGIN OPENSSH PRIVATE KEY----- fake";
    internal const string Notes = "ordinary notes";
    internal const string OutsideContent = "outside content";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(90);

    private readonly TcpListener _gateway;
    private readonly TcpListener _allowed;
    private readonly TcpListener _other;

    internal SandboxScenario()
    {
        Root = Path.Combine(Path.GetTempPath(), "tappass-sandbox-" + Guid.NewGuid().ToString("N")[..12]);
        Workspace = Directory.CreateDirectory(Path.Combine(Root, "ws")).FullName;
        Home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        Outside = Directory.CreateDirectory(Path.Combine(Root, "outside")).FullName;
        Temp = Directory.CreateDirectory(Path.Combine(Root, "tmp")).FullName;
        Directory.CreateDirectory(Path.Combine(Home, ".ssh"));
        Directory.CreateDirectory(Path.Combine(Home, ".aws"));
        File.WriteAllText(WorkspaceFile, WorkspaceContent);
        File.WriteAllText(SshKey, PrivateKey);
        File.WriteAllText(AwsCredentials, "[default]\naws_secret_access_key = fake");
        File.WriteAllText(HomeNotes, Notes);
        File.WriteAllText(OutsideFile, OutsideContent);

        _gateway = Listen();
        _allowed = Listen();
        _other = Listen();
    }

    internal string Root { get; }

    internal string Workspace { get; }

    internal string Home { get; }

    internal string Outside { get; }

    internal string Temp { get; }

    internal string WorkspaceFile => Path.Combine(Workspace, "existing.txt");

    internal string SshKey => Path.Combine(Home, ".ssh", "id_rsa");

    internal string AwsCredentials => Path.Combine(Home, ".aws", "credentials");

    internal string HomeNotes => Path.Combine(Home, "notes.txt");

    internal string OutsideFile => Path.Combine(Outside, "outside.txt");

    internal int GatewayPort => ((IPEndPoint)_gateway.LocalEndpoint).Port;

    internal int AllowedPort => ((IPEndPoint)_allowed.LocalEndpoint).Port;

    internal int OtherPort => ((IPEndPoint)_other.LocalEndpoint).Port;

    internal string Gateway => $"http://127.0.0.1:{GatewayPort}";

    internal ProbeSecure Secure(string? tier) => new() { Tier = tier, Workspace = Workspace, Gateway = Gateway };

    /// <summary>Runs the probe in a child process with HOME and TMPDIR pointing into the scenario.</summary>
    internal async Task<ProbeResponse> RunAsync(IEnumerable<ProbeStep> steps, string? workingDirectory = null)
    {
        var request = new ProbeRequest { Steps = [.. steps] };
        var requestPath = Path.Combine(Root, "request-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        await File.WriteAllTextAsync(requestPath, JsonSerializer.Serialize(request, ProbeJsonContext.Default.ProbeRequest));

        var probe = Path.Combine(AppContext.BaseDirectory, "sandbox-probe", "TapPass.Sandbox.Probe.dll");
        File.Exists(probe).Should().BeTrue($"the probe is copied to {probe} by the test project's build");

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(probe);
        start.ArgumentList.Add(requestPath);
        start.Environment["HOME"] = Home;
        start.Environment["TMPDIR"] = Temp;

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the sandbox probe did not finish within " + ProbeTimeout);
        }

        var output = await stdout;
        var errors = await stderr;
        process.ExitCode.Should().Be(0, "the probe must not crash; stderr: " + errors);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonSerializer.Deserialize(line, ProbeJsonContext.Default.ProbeResponse)
            ?? throw new InvalidDataException("empty probe response: " + output);
    }

    public void Dispose()
    {
        _gateway.Stop();
        _allowed.Stop();
        _other.Stop();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort clean-up of a temp directory
        }
    }

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 64);
        return listener;
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        var root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var candidate = Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}

/// <summary>Short constructors for probe steps.</summary>
internal static class Step
{
    internal static ProbeStep Secure(ProbeSecure secure) => new() { Kind = "secure", Secure = secure };

    internal static ProbeStep Current() => new() { Kind = "current" };

    internal static ProbeStep Write(string path, string thread = "main") => new() { Kind = "write", Path = path, Thread = thread };

    internal static ProbeStep WriteManaged(string path) => new() { Kind = "write_managed", Path = path };

    internal static ProbeStep AgentHeader() => new() { Kind = "agent_header" };

    internal static ProbeStep Read(string path, string thread = "main") => new() { Kind = "read", Path = path, Thread = thread };

    internal static ProbeStep List(string path) => new() { Kind = "list", Path = path };

    internal static ProbeStep Exec(string program, params string[] args) => new() { Kind = "exec", Program = program, Args = [.. args] };

    internal static ProbeStep Connect(int port, string thread = "main") => new() { Kind = "connect", Port = port, Thread = thread };

    internal static ProbeStep Bind(int port) => new() { Kind = "bind", Port = port };

    internal static ProbeStep Udp(int port) => new() { Kind = "udp", Port = port };

    internal static ProbeStep BlockSignals(string thread) => new() { Kind = "block_signals", Thread = thread };

    internal static ProbeStep UnblockSignals(string thread) => new() { Kind = "unblock_signals", Thread = thread };
}

/// <summary>Assertions on probe results.</summary>
internal static class ProbeAssertions
{
    internal const int Eacces = 13;

    internal static void ShouldBeDenied(this ProbeStepResult result, string because)
    {
        result.Ok.Should().BeFalse(because);
        var denied = result.Errno == Eacces
            || result.Error is { } error && (error.Contains("AccessDenied", StringComparison.Ordinal) || error.Contains("UnauthorizedAccessException", StringComparison.Ordinal));
        denied.Should().BeTrue($"{because}: expected EACCES, got errno {result.Errno} / {result.Error}");
    }

    internal static void ShouldSucceed(this ProbeStepResult result, string because)
    {
        result.Ok.Should().BeTrue($"{because}; got errno {result.Errno} / {result.Error}");
    }

    internal static ProbeReport ShouldBeSecured(this ProbeStepResult result)
    {
        result.Error.Should().BeNull();
        result.Ok.Should().BeTrue();
        result.Report.Should().NotBeNull();
        return result.Report!;
    }
}
