using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TapPass;
using TapPass.Sandbox;
using TapPass.Sandbox.Probe;

// Usage: TapPass.Sandbox.Probe <request.json>. Prints one JSON ProbeResponse line on stdout.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: TapPass.Sandbox.Probe <request.json>");
    return 2;
}

var request = JsonSerializer.Deserialize(File.ReadAllText(args[0]), ProbeJsonContext.Default.ProbeRequest)
    ?? throw new InvalidDataException("empty request");

// Threads that exist before the lock-down: a dedicated thread and a warm thread pool. The sandbox must restrict them too.
using var early = new EarlyThread();
WarmThreadPool();
var response = new ProbeResponse { ThreadsBeforeSecure = Directory.GetDirectories("/proc/self/task").Length };

foreach (var step in request.Steps)
{
    response.Results.Add(step.Thread switch
    {
        "early" => early.Run(() => Operations.Run(step)),
        "pool" => RunOnPool(() => Operations.Run(step)),
        _ => Operations.Run(step),
    });
}

Console.Out.WriteLine(JsonSerializer.Serialize(response, ProbeJsonContext.Default.ProbeResponse));
return 0;

static void WarmThreadPool()
{
    const int Workers = 8;
    ThreadPool.GetMinThreads(out _, out var io);
    ThreadPool.SetMinThreads(Workers + 2, io);
    using var barrier = new Barrier(Workers);
    using var done = new CountdownEvent(Workers);
    for (var i = 0; i < Workers; i++)
    {
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                barrier.SignalAndWait();
                done.Signal();
            },
            null);
    }

    done.Wait();
}

static ProbeStepResult RunOnPool(Func<ProbeStepResult> work)
{
    ProbeStepResult? result = null;
    using var finished = new ManualResetEventSlim();
    ThreadPool.UnsafeQueueUserWorkItem(
        _ =>
        {
            result = work();
            finished.Set();
        },
        null);
    finished.Wait();
    return result!;
}

/// <summary>A thread started before any Secure() call, running work items on request.</summary>
internal sealed class EarlyThread : IDisposable
{
    private readonly BlockingCollection<(Func<ProbeStepResult> Work, ManualResetEventSlim Done, ProbeStepResult?[] Slot)> _queue = new();
    private readonly Thread _thread;

    public EarlyThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "probe-early" };
        _thread.Start();
    }

    public ProbeStepResult Run(Func<ProbeStepResult> work)
    {
        using var done = new ManualResetEventSlim();
        var slot = new ProbeStepResult?[1];
        _queue.Add((work, done, slot));
        done.Wait();
        return slot[0]!;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(5));
        _queue.Dispose();
    }

    private void Loop()
    {
        foreach (var (work, done, slot) in _queue.GetConsumingEnumerable())
        {
            slot[0] = work();
            done.Set();
        }
    }
}

/// <summary>The operations, as real system calls (libc for files, sockets and Process for the rest).</summary>
internal static unsafe partial class Operations
{
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int OCreat = 0x40;
    private const int OTrunc = 0x200;
    private const int OCloexec = 0x80000;

    public static ProbeStepResult Run(ProbeStep step)
    {
        var result = new ProbeStepResult { Kind = step.Kind };
        try
        {
            switch (step.Kind)
            {
                case "secure":
                    result.Report = ToProbeReport(TapPassSandbox.Secure(ToOptions(step.Secure!)));
                    result.Ok = true;
                    break;
                case "agent_header":
                    // An agent call through an in-process handler: reports the sandbox tier header it sent.
                    result.Output = SandboxHeaderCapture.SendAndCapture();
                    result.Ok = true;
                    break;
                case "current":
                    result.Report = TapPassSandbox.Current is { } current ? ToProbeReport(current) : null;
                    result.Ok = true;
                    break;
                case "write":
                    WriteFile(step.Path!, result);
                    break;
                case "write_managed":
                    File.WriteAllText(step.Path!, "written by the managed API");
                    result.Ok = true;
                    break;
                case "read":
                    ReadFile(step.Path!, result);
                    break;
                case "list":
                    ListDirectory(step.Path!, result);
                    break;
                case "exec":
                    Execute(step, result);
                    break;
                case "connect":
                    using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                    {
                        socket.Connect(new IPEndPoint(IPAddress.Loopback, step.Port));
                        result.Ok = true;
                    }

                    break;
                case "bind":
                    using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                    {
                        socket.Bind(new IPEndPoint(IPAddress.Loopback, step.Port));
                        socket.Listen();
                        result.Ok = true;
                    }

                    break;
                case "block_signals":
                case "unblock_signals":
                    // Real-time signals 35..64 (SIGRTMIN, used by the runtime itself, stays deliverable).
                    var set = stackalloc ulong[16];
                    set[0] = ~((1UL << 34) - 1);
                    result.Ok = PthreadSigmask(step.Kind == "block_signals" ? 0 : 1, set, null) == 0;
                    break;
                case "udp":
                    using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
                    {
                        socket.SendTo("ping"u8, new IPEndPoint(IPAddress.Loopback, step.Port));
                        result.Ok = true;
                    }

                    break;
                default:
                    result.Error = "unknown step kind " + step.Kind;
                    break;
            }
        }
        catch (SocketException ex)
        {
            result.Error = "SocketException: " + ex.SocketErrorCode;
        }
        catch (Exception ex)
        {
            result.Error = ex.GetType().Name + ": " + ex.Message;
        }

        return result;
    }

    private static SandboxOptions ToOptions(ProbeSecure secure)
    {
        var options = new SandboxOptions
        {
            Workspace = secure.Workspace,
            Gateway = secure.Gateway is null ? null : new Uri(secure.Gateway),
            BestEffort = secure.BestEffort,
        };
        if (secure.Tier is not null)
        {
            options.Tier = TrustTierNames.TryParse(secure.Tier, out var tier) ? tier : throw new ArgumentException("unknown tier " + secure.Tier);
        }

        if (secure.AllowedPrograms is not null)
        {
            options.AllowedPrograms.Clear();
            secure.AllowedPrograms.ForEach(options.AllowedPrograms.Add);
        }

        secure.AllowedTcpPorts?.ForEach(options.AllowedTcpPorts.Add);
        secure.ExtraReadPaths?.ForEach(options.ExtraReadPaths.Add);
        secure.ExtraWritePaths?.ForEach(options.ExtraWritePaths.Add);
        return options;
    }

    private static ProbeReport ToProbeReport(SandboxReport report) => new()
    {
        Tier = report.Tier.ToWireName(),
        Profile = report.Profile,
        Enforced = report.Enforced,
        AbiVersion = report.AbiVersion,
        Layers = report.Layers,
        RestrictedThreads = report.RestrictedThreads,
        Rules = [.. report.Rules],
        NotEnforced = [.. report.NotEnforced],
        Notes = [.. report.Notes],
    };

    private static void WriteFile(string path, ProbeStepResult result)
    {
        var fd = Open(path, OWrOnly | OCreat | OTrunc | OCloexec, 420);
        if (fd < 0)
        {
            result.Errno = Marshal.GetLastPInvokeError();
            return;
        }

        var bytes = "written by the probe"u8;
        fixed (byte* p = bytes)
        {
            var written = Write(fd, p, (nuint)bytes.Length);
            result.Ok = written == bytes.Length;
            if (!result.Ok)
            {
                result.Errno = Marshal.GetLastPInvokeError();
            }
        }

        Close(fd);
    }

    private static void ReadFile(string path, ProbeStepResult result)
    {
        var fd = Open(path, ORdOnly | OCloexec, 0);
        if (fd < 0)
        {
            result.Errno = Marshal.GetLastPInvokeError();
            return;
        }

        var buffer = new byte[4096];
        fixed (byte* p = buffer)
        {
            var read = Read(fd, p, (nuint)buffer.Length);
            if (read < 0)
            {
                result.Errno = Marshal.GetLastPInvokeError();
            }
            else
            {
                result.Ok = true;
                result.Output = Encoding.UTF8.GetString(buffer, 0, (int)read);
            }
        }

        Close(fd);
    }

    private static void ListDirectory(string path, ProbeStepResult result)
    {
        // open(2) of a directory needs the read-dir right.
        var fd = Open(path, ORdOnly | OCloexec, 0);
        if (fd < 0)
        {
            result.Errno = Marshal.GetLastPInvokeError();
            return;
        }

        Close(fd);
        result.Ok = true;
    }

    private static void Execute(ProbeStep step, ProbeStepResult result)
    {
        var start = new ProcessStartInfo(step.Program!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        step.Args?.ForEach(start.ArgumentList.Add);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                result.Error = "timed out";
                return;
            }

            result.Ok = process.ExitCode == 0;
            result.Output = output.Length > 2000 ? output[..2000] : output;
            if (!result.Ok)
            {
                result.Error = $"exit code {process.ExitCode}: {(error.Length > 500 ? error[..500] : error)}";
            }
        }
        catch (Win32Exception ex)
        {
            result.Errno = ex.NativeErrorCode;
            result.Error = "Win32Exception: " + ex.Message;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    private static partial int PthreadSigmask(int how, ulong* set, ulong* old);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

/// <summary>Runs one agent call against an in-process handler and returns the X-TapPass-Sandbox-Tier it carried.</summary>
internal static class SandboxHeaderCapture
{
    public static string SendAndCapture()
    {
        var handler = new CapturingHandler();
        using var agent = new TapPassAgent(
            new TapPassAgentOptions { Url = "http://127.0.0.1:9", ApiKey = "tp_probe", VerifyGatewayVersion = false },
            new HttpClient(handler));
        agent.Chat("hello");
        return handler.Tier ?? "<none>";
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public string? Tier { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Tier = request.Headers.TryGetValues("X-TapPass-Sandbox-Tier", out var v) ? string.Join(",", v) : null;
            const string body = """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""";
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            });
        }
    }
}
