using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Audit;
using TapPass.Protocol;

namespace TapPass.Benchmarks;

/// <summary>
/// A closed loop for profilers (<c>dotnet-trace collect -- …</c>) and quick before/after checks, not a benchmark (the machine is shared, so
/// it reports process CPU time per operation as well as wall time):
/// <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- profile [chat|audit] [seconds] [kb|concurrency]</c>.
/// <c>chat</c>: in-process governed chats (as <see cref="PipelineBenchmarks"/>) of a prompt of <c>kb</c> KB, one caller.
/// <c>audit</c>: <c>concurrency</c> callers appending chat-sized events to a SQLite audit log in a temporary directory
/// (group commit, fsync per batch). Prints operations per second and allocated bytes per operation.
/// </summary>
internal static class ProfileLoop
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mode = args.Length > 1 ? args[1] : "chat";
        var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var arg = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : (mode == "audit" ? 64 : 0.5);
        return mode switch
        {
            "chat" => await ChatAsync(seconds, arg),
            "audit" => await AuditAsync(seconds, (int)arg),
            _ => 2,
        };
    }

    private static async Task<int> ChatAsync(double seconds, double kb)
    {
        var (services, transport) = EngineFactory.Create();
        await using var _ = services;
        var call = EngineFactory.OpenSession(transport, "pii=mask");
        var request = new ChatCompletionRequest
        {
            Model = "gpt-4o-mini",
            Messages = [new ChatCompletionMessage { Role = "user", Content = PromptTexts.Prose((int)(kb * 1024)) }],
        };

        var ops = 0L;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            var reply = await transport.ChatAsync(call, request, CancellationToken.None);
            if (reply.StatusCode != 200)
            {
                Console.Error.WriteLine($"chat answered {reply.StatusCode} {reply.Error?.Type}");
                return 1;
            }

            ops++;
        }

        Report("chat", ops, watch.Elapsed, GC.GetTotalAllocatedBytes(precise: true) - allocated, Process.GetCurrentProcess().TotalProcessorTime - cpu);
        return 0;
    }

    private static async Task<int> AuditAsync(double seconds, int concurrency)
    {
        var directory = Directory.CreateTempSubdirectory("tappass-audit-profile");
        try
        {
            var log = SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = Path.Combine(directory.FullName, "audit.db") }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
            await using (log)
            {
                var sample = AuditSamples.ChatCompleted();
                var ops = 0L;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
                {
                    while (watch.Elapsed.TotalSeconds < seconds)
                    {
                        await log.AppendAsync(sample with { EventId = "", Timestamp = default }, CancellationToken.None);
                        Interlocked.Increment(ref ops);
                    }
                })).ToArray();
                await Task.WhenAll(workers);
                Report($"audit x{concurrency} ({log.BatchesCommitted} commits)", ops, watch.Elapsed, GC.GetTotalAllocatedBytes(precise: true) - allocated, Process.GetCurrentProcess().TotalProcessorTime - cpu);
                var verify = Stopwatch.StartNew();
                var verification = await log.VerifyAsync(CancellationToken.None);
                Console.WriteLine($"verify: {verification.Verified} {verification.EventsChecked} events in {verify.Elapsed.TotalMilliseconds:N0} ms");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        return 0;
    }

    private static void Report(string what, long ops, TimeSpan elapsed, long allocated, TimeSpan cpu) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {ops} ops in {elapsed.TotalSeconds:N1} s = {ops / elapsed.TotalSeconds:N0} op/s, {elapsed.TotalMicroseconds / Math.Max(1, ops):N1} µs/op wall, {cpu.TotalMicroseconds / Math.Max(1, ops):N1} µs/op CPU (process), {allocated / Math.Max(1, ops):N0} B/op"));
}
