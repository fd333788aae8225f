using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Engine;
using TapPass.Governance.Inspection;
using TapPass.Governance.Audit;
using TapPass.Protocol;

namespace TapPass.Benchmarks;

/// <summary>
/// A closed loop for profilers (<c>dotnet-trace collect -- …</c>) and quick before/after checks, not a benchmark (the machine is shared, so
/// it reports process CPU time per operation as well as wall time):
/// <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- profile [chat|audit|allocs] [seconds] [kb|concurrency]</c>.
/// <c>chat</c>: in-process governed chats (as <see cref="PipelineBenchmarks"/>) of a prompt of <c>kb</c> KB, one caller.
/// <c>audit-idle</c>: one caller with an idle gap of <c>arg</c> microseconds between appends, append latency percentiles.
/// <c>audit</c>: <c>concurrency</c> callers appending chat-sized events to a SQLite audit log in a temporary directory
/// (group commit, fsync per batch). Prints operations per second and allocated bytes per operation.
/// <c>allocs</c>: bytes allocated by each part of one chat of a <c>kb</c> KB prompt. <c>alloc-types file.nettrace</c>:
/// allocated bytes by type from a <c>gc-verbose</c> trace. <c>scan [seconds]</c>: best time of each step of
/// <c>ContentScanner.Scan</c> on the short prompt and the four 256 KB corpora of <see cref="ScannerBenchmarks"/>.
/// <c>scan-dump file.jsonl</c>: everything <c>Scan</c> decides for the benchmark texts and each line of the file (its
/// "text" field), one line each, to compare two builds with <c>cmp</c>.
/// </summary>
internal static class ProfileLoop
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mode = args.Length > 1 ? args[1] : "chat";
        if (mode == "alloc-types")
        {
            return AllocationTypes(args[2]);
        }

        if (mode == "scan-dump")
        {
            return ScanDump(args[2]);
        }

        var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var arg = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : (mode == "audit" ? 64 : 0.5);
        return mode switch
        {
            "chat" => await ChatAsync(seconds, arg),
            "audit" => await AuditAsync(seconds, (int)arg),
            "audit-idle" => await AuditIdleAsync(seconds, arg),
            "allocs" => Allocations(arg),
            "scan" => ScanSteps(seconds),
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

    /// <summary>
    /// One caller appending with an idle gap of <paramref name="gapMicroseconds"/> between appends (a gateway at
    /// concurrency 1): the latency of each append, p50/p90/p99.
    /// </summary>
    private static async Task<int> AuditIdleAsync(double seconds, double gapMicroseconds)
    {
        var directory = Directory.CreateTempSubdirectory("tappass-audit-profile");
        try
        {
            var durability = Environment.GetEnvironmentVariable("AUDIT_DURABILITY") == "normal" ? AuditDurability.Normal : AuditDurability.Full;
            var log = SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = Path.Combine(directory.FullName, "audit.db"), Durability = durability }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
            await using (log)
            {
                var sample = AuditSamples.ChatCompleted();
                var latencies = new List<double>(100_000);
                var gap = TimeSpan.FromMicroseconds(gapMicroseconds);
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed.TotalSeconds < seconds)
                {
                    var start = Stopwatch.GetTimestamp();
                    await log.AppendAsync(sample with { EventId = "", Timestamp = default }, CancellationToken.None);
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    var idle = Stopwatch.GetTimestamp();
                    while (Stopwatch.GetElapsedTime(idle) < gap)
                    {
                        Thread.SpinWait(20);
                    }
                }

                latencies.Sort();
                double At(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit idle gap {gapMicroseconds:N0} us, durability {durability}: {latencies.Count} appends ({log.BatchesCommitted} commits), p50 {At(0.5):N1} us, p90 {At(0.9):N1} us, p99 {At(0.99):N1} us"));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

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

    /// <summary>Bytes allocated per call by the parts of one governed chat (after a warm-up), to find allocation hot spots.</summary>
    /// <summary>
    /// Per-step time of <c>ContentScanner.Scan</c> (best of many runs, microseconds) on the short prompt of
    /// <see cref="ScannerBenchmarks"/> and on each 256 KB corpus: where a scan's time goes, for before/after checks.
    /// </summary>
    private static int ScanSteps(double seconds)
    {
        var scanner = TapPass.Governance.Detection.DetectionDefaults.CreateScanner();
        foreach (var corpus in new[] { "prompt", "prose", "code", "json", "pii_dense" })
        {
            var text = corpus == "prompt" ? BenchTexts.ShortPrompt : BenchTexts.Get(corpus);
            var best = new Dictionary<string, double>();
            var totalBest = double.MaxValue;
            var watch = Stopwatch.StartNew();
            var runs = 0;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            while (watch.Elapsed.TotalSeconds < seconds / 5 || runs < 20)
            {
                var timings = new Dictionary<string, long>();
                var t0 = Stopwatch.GetTimestamp();
                scanner.Scan(text, timings);
                totalBest = Math.Min(totalBest, Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                foreach (var (step, ticks) in timings)
                {
                    var us = ticks * 1e6 / Stopwatch.Frequency;
                    best[step] = best.TryGetValue(step, out var b) ? Math.Min(b, us) : us;
                }

                runs++;
            }

            var perScan = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / runs;
            var steps = string.Join("  ", best.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:F1}")));
            Console.WriteLine(FormattableString.Invariant($"{corpus,-10} total {totalBest,10:F1} us  ({runs} runs, ~{perScan} B/scan incl. timings)  {steps}"));
        }

        return 0;
    }

    /// <summary>
    /// Prints, for every line of a file (JSONL lines use their "text" field), everything <c>Scan</c> decides: findings,
    /// classification, injection score and signals, exfiltration results. For comparing two builds line by line.
    /// </summary>
    private static int ScanDump(string path)
    {
        var scanner = TapPass.Governance.Detection.DetectionDefaults.CreateScanner();
        string[] benchTexts = [BenchTexts.ShortPrompt, .. new[] { "prose", "code", "json", "pii_dense" }.Select(BenchTexts.Get)];
        foreach (var line in benchTexts.Select(t => JsonSerializer.Serialize(new { text = t })).Concat(File.ReadLines(path)))
        {
            var text = line;
            if (line.StartsWith('{'))
            {
                using var doc = JsonDocument.Parse(line);
                text = doc.RootElement.TryGetProperty("text", out var t) ? t.GetString() ?? "" : line;
            }

            var r = scanner.Scan(text);
            var findings = string.Join(",", r.Findings.Select(f => FormattableString.Invariant($"{f.Type}@{f.Start}+{f.Length}")));
            var exfiltration = string.Join(",", r.Exfiltration.Select(x => $"{x.Kind}/{x.Target}/{x.Reason}"));
            Console.WriteLine(FormattableString.Invariant(
                $"{r.Injection.Score:R} [{string.Join(",", r.Injection.Signals)}] {r.Classification} F[{findings}] X[{exfiltration}]"));
        }

        return 0;
    }

    private static int Allocations(double kb)
    {
        var (services, transport) = EngineFactory.Create();
        using var scope = services;
        var engine = transport.Engine;
        var settings = services.GetRequiredService<EngineSettings>();
        var inspector = services.GetRequiredService<ITextInspector>();
        var prompt = PromptTexts.Prose((int)(kb * 1024));
        var call = EngineFactory.OpenSession(transport, "pii=mask");
        var request = new ChatCompletionRequest { Model = "gpt-4o-mini", Messages = [new ChatCompletionMessage { Role = "user", Content = prompt }] };
        var reply = transport.ChatAsync(call, request, CancellationToken.None).GetAwaiter().GetResult();
        var answer = reply.Value!.Choices[0].Message.Content ?? "";
        var body = JsonSerializer.SerializeToUtf8Bytes(request, TapPassJsonContext.Default.ChatCompletionRequest);
        var sample = AuditSamples.ChatCompleted() with { EventId = "ae_x", Timestamp = DateTimeOffset.UnixEpoch };
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new Utf8JsonWriter(buffer);

        void Measure(string what, Action action)
        {
            for (var i = 0; i < 50; i++)
            {
                action();
            }

            const int N = 200;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < N; i++)
            {
                action();
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-40} {(GC.GetAllocatedBytesForCurrentThread() - before) / N,10:N0} B"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prompt {prompt.Length} chars, answer {answer.Length} chars, body {body.Length} bytes"));
        Measure("whole chat (engine, in-memory audit)", () => transport.ChatAsync(call, request, CancellationToken.None).GetAwaiter().GetResult());
        Measure("parse request body", () => JsonSerializer.Deserialize(body, TapPassJsonContext.Default.ChatCompletionRequest));
        Measure("inspect prompt (all detectors)", () => inspector.Inspect(prompt));
        Measure("inspect answer (entities)", () => inspector.InspectEntities(answer));
        Measure("flags resolve (pii=mask)", () => settings.Flags.TryResolve("pii=mask", engine.EmbeddedIdentity, out _, out _));
        Measure("serialize response", () => JsonSerializer.SerializeToUtf8Bytes(reply.Value!, TapPassJsonContext.Default.ChatCompletionResponse));
        Measure("audit canonical write + hash", () =>
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var (a, b) = AuditEventCanonicalWriter.WriteHashInput(writer, sample, 7, AuditCanonicalJson.GenesisHash);
            _ = System.Security.Cryptography.SHA256.HashData(buffer.WrittenSpan);
            _ = AuditEventCanonicalWriter.WithoutFields(buffer.WrittenSpan, a, b);
        });
        return 0;
    }

    /// <summary>
    /// Allocated bytes by type from a trace taken with <c>dotnet-trace collect --profile gc-verbose</c> (allocation
    /// ticks, one per ~100 KB allocated): <c>profile alloc-types trace.nettrace</c>.
    /// </summary>
    private static int AllocationTypes(string path)
    {
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var byMethod = new Dictionary<string, long>(StringComparer.Ordinal);
        var etlx = Microsoft.Diagnostics.Tracing.Etlx.TraceLog.CreateFromEventPipeDataFile(path);
        using (var log = new Microsoft.Diagnostics.Tracing.Etlx.TraceLog(etlx))
        {
            var source = log.Events.GetSource();
            source.Clr.GCAllocationTick += e =>
            {
                var name = e.TypeName ?? "?";
                byType[name] = byType.GetValueOrDefault(name) + e.AllocationAmount64;

                // The innermost TapPass method on the stack: which of our code asked for the memory.
                var method = "(no TapPass frame)";
                for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
                {
                    var m = frame.CodeAddress.FullMethodName;
                    if (m.Contains("TapPass", StringComparison.Ordinal) && !m.Contains("ProfileLoop", StringComparison.Ordinal))
                    {
                        method = m.Length > 150 ? m[..150] : m;
                        break;
                    }
                }

                byMethod[method] = byMethod.GetValueOrDefault(method) + e.AllocationAmount64;
            };
            source.Process();
        }

        foreach (var (title, table) in new[] { ("by type", byType), ("by innermost TapPass method", byMethod) })
        {
            Console.WriteLine(title);
            var total = table.Values.Sum();
            foreach (var (key, bytes) in table.OrderByDescending(kv => kv.Value).Take(30))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{100.0 * bytes / total,6:N1}%  {key}"));
            }
        }

        return 0;
    }

    private static void Report(string what, long ops, TimeSpan elapsed, long allocated, TimeSpan cpu) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {ops} ops in {elapsed.TotalSeconds:N1} s = {ops / elapsed.TotalSeconds:N0} op/s, {elapsed.TotalMicroseconds / Math.Max(1, ops):N1} µs/op wall, {cpu.TotalMicroseconds / Math.Max(1, ops):N1} µs/op CPU (process), {allocated / Math.Max(1, ops):N0} B/op"));
}
