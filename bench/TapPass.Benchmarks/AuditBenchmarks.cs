using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Protocol;

namespace TapPass.Benchmarks;

/// <summary>
/// The durable audit path: <see cref="SqliteAuditLog.AppendAsync"/> of a chat-sized event (15 steps, 2 detections, 8
/// flags, 10 details) by <see cref="Callers"/> concurrent callers, each waiting for its event to be durable (group
/// commit, <c>synchronous=FULL</c>). Time and allocations are per event (OperationsPerInvoke), i.e. the audit cost one
/// request pays at that concurrency. The database lives in a temporary directory.
/// Run: <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *AuditBenchmarks* --job short</c>
/// </summary>
[MemoryDiagnoser]
public class AuditBenchmarks
{
    private const int EventsPerInvoke = 256;

    private DirectoryInfo _directory = null!;
    private SqliteAuditLog _log = null!;
    private AuditEvent _event = null!;

    /// <summary>Concurrent appenders.</summary>
    [Params(1, 64)]
    public int Callers { get; set; } = 64;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("tappass-audit-bench");
        _log = SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = Path.Combine(_directory.FullName, "audit.db") }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
        _event = AuditSamples.ChatCompleted();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _directory.Delete(recursive: true);
    }

    /// <summary>One durable append, amortised over <see cref="EventsPerInvoke"/> appends by <see cref="Callers"/> callers.</summary>
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public Task Append()
    {
        var perCaller = EventsPerInvoke / Callers;
        var tasks = new Task[Callers];
        for (var c = 0; c < Callers; c++)
        {
            tasks[c] = Task.Run(async () =>
            {
                for (var i = 0; i < perCaller; i++)
                {
                    await _log.AppendAsync(_event, CancellationToken.None).ConfigureAwait(false);
                }
            });
        }

        return Task.WhenAll(tasks);
    }
}

/// <summary>Representative audit events.</summary>
internal static class AuditSamples
{
    /// <summary>A <c>chat.completed</c> event as the engine writes it for a short masked chat.</summary>
    public static AuditEvent ChatCompleted()
    {
        string[] steps =
        [
            "normalize_input", "detect_pii", "detect_secrets", "detect_injection", "detect_exfiltration", "classify_data", "tool_integrity",
            "trust_tier", "require_approval", "budget", "rate_limit", "call_model", "scan_output", "tool_calls", "cost",
        ];
        return new AuditEvent
        {
            EventType = "chat.completed",
            Org = "dev",
            AgentId = "dev-agent",
            AgentUuid = "00000000-0000-4000-8000-000000000001",
            SessionId = "ses_0Hm3vHjkwqZbj0y9Hap4YiDY",
            PipelineUuid = "pl_ukR2xwzkUXUAXqJjWtfxwpu2",
            Decision = "mask",
            Classification = "CONFIDENTIAL",
            Model = "gpt-4o-mini",
            Flags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["budget"] = "unlimited", ["db"] = "safe_write", ["email"] = "allow", ["files"] = "allow",
                ["mode"] = "enforce", ["pii"] = "mask", ["secrets"] = "redact", ["tools"] = "log",
            },
            Detections =
            [
                new DetectionInfo { Step = "detect_pii", Type = "EMAIL", Phase = "input", Start = 34, Length = 19, Action = "mask", Score = 1, MessageIndex = 0 },
                new DetectionInfo { Step = "detect_pii", Type = "PHONE", Phase = "input", Start = 512, Length = 16, Action = "mask", Score = 0.85, MessageIndex = 0 },
            ],
            Steps = [.. steps.Select((s, i) => new StepInfo { Name = s, Outcome = i is 1 ? "mask" : "pass", DurationUs = 3 + i })],
            Cost = new CostInfo { PromptTokens = 142, CompletionTokens = 11, Usd = 0.00002793m },
            Details = new JsonBag()
                .Add("turn_index", 7L).Add("injection_score", 0.0).Add("degraded", false).Add("stream", false).Add("provider", "local")
                .Add("redactions", 2L).Add("finish_reason", "stop").Add("tool_calls", 0L).Build(),
        };
    }
}
