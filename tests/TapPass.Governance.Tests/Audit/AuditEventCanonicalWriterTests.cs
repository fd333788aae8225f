using System.Buffers;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Audit;

public sealed class AuditEventCanonicalWriterTests
{
    private static string Generic(AuditEvent e)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(e, AuditJsonContext.Default.AuditEvent));
        return Encoding.UTF8.GetString(AuditCanonicalJson.Canonicalize(doc.RootElement));
    }

    private static string GenericHashInput(AuditEvent e, long seq, string prevHash)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(e, AuditJsonContext.Default.AuditEvent));
        return Encoding.UTF8.GetString(AuditCanonicalJson.HashInput(doc.RootElement, seq, prevHash));
    }

    private static string Direct(AuditEvent e, long seq = 0, string? prevHash = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        AuditEventCanonicalWriter.Write(buffer, e, seq, prevHash);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One write of the hash input, and the canonical event cut out of it.</summary>
    private static (string HashInput, string Canonical) Spliced(AuditEvent e, long seq, string prevHash)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default });
        var (prev, seqField) = AuditEventCanonicalWriter.WriteHashInput(writer, e, seq, prevHash);
        return (Encoding.UTF8.GetString(buffer.WrittenSpan), AuditEventCanonicalWriter.WithoutFields(buffer.WrittenSpan, prev, seqField));
    }

    private static AuditEvent Full() => new()
    {
        EventId = "ae_0123",
        Timestamp = new DateTimeOffset(2026, 11, 21, 20, 1, 2, 345, TimeSpan.Zero).AddTicks(6789),
        EventType = "chat.completed",
        Org = "acme",
        AgentId = "support-bot",
        AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001",
        SessionId = "ses_abc",
        TaskId = "tsk_1",
        PipelineUuid = "pl_xyz",
        Decision = "mask",
        BlockedBy = "detect_pii",
        Reason = "Quote \" backslash \\ <tag> & 'apos' é 漢字 😀 \u0001",
        Classification = "CONFIDENTIAL",
        Model = "gpt-4o-mini",
        Tool = "send_email",
        Flags = new Dictionary<string, string> { ["secrets"] = "redact", ["pii"] = "mask", ["Mode"] = "x", ["mode"] = "enforce" },
        Detections =
        [
            new DetectionInfo { Step = "detect_pii", Type = "EMAIL", Phase = "input", Start = 3, Length = 17, Action = "mask", Score = 0.8500000001, MessageIndex = 2 },
            new DetectionInfo { Step = "scan_output", Type = "PHONE", Phase = "output", Start = 0, Length = 1, Action = "flag", Score = 1e-7 },
        ],
        Steps = [new StepInfo { Name = "detect_pii", Outcome = "mask", DurationUs = 41 }, new StepInfo { Name = "cost", DurationUs = long.MaxValue }],
        Cost = new CostInfo { PromptTokens = 12, CompletionTokens = 40, Usd = 0.000031000m },
        Details = new JsonBag().Add("turn_index", 3L).Add("injection_score", 0.25).Add("stream", false).Add("would_block", ["b", "a"])
            .Add("nested", JsonDocument.Parse("""{"z":1,"a":{"y":[1,{"b":null,"a":"é"}],"x":2.50}}""").RootElement).Build(),
        Content = "{\"prompt\":\"hi\"}",
    };

    [Fact]
    public void Write_FullEvent_EqualsTheGenericCanonicalForm()
    {
        var e = Full();

        Direct(e).Should().Be(Generic(e));
    }

    [Fact]
    public void Write_WithSeqAndPrevHash_EqualsTheGenericHashInput()
    {
        var e = Full();

        Direct(e, 42, new string('a', 64)).Should().Be(GenericHashInput(e, 42, new string('a', 64)));
    }

    [Fact]
    public void WriteHashInput_CutsOutTheCanonicalEvent()
    {
        foreach (var e in new[] { Full(), new AuditEvent { EventType = "x" }, Full() with { Reason = null, SessionId = null, Steps = null } })
        {
            var (hashInput, canonical) = Spliced(e, 1234567, AuditCanonicalJson.GenesisHash);

            hashInput.Should().Be(GenericHashInput(e, 1234567, AuditCanonicalJson.GenesisHash));
            canonical.Should().Be(Generic(e));
        }
    }

    [Fact]
    public void Write_EqualsTheInMemoryLogsCanonicalEvent()
    {
        Direct(Full()).Should().Be(Encoding.UTF8.GetString(InMemoryAuditLog.CanonicalEvent(Full())));
    }

    [Fact]
    public void Write_MinimalEvent_EqualsTheGenericCanonicalForm()
    {
        var e = new AuditEvent { EventType = "session.opened" };

        Direct(e).Should().Be(Generic(e));
        Direct(e, 1, AuditCanonicalJson.GenesisHash).Should().Be(GenericHashInput(e, 1, AuditCanonicalJson.GenesisHash));
    }

    [Fact]
    public void Write_RandomEvents_EqualTheGenericCanonicalForm()
    {
        var text = ArbMap.Default.GeneratorFor<string>().Select(s => s ?? "");
        var optional = Gen.OneOf(Gen.Constant<string?>(null), text.Select(s => (string?)s));
        var gen =
            from strings in Gen.ArrayOf(optional, 12)
            from keys in Gen.ListOf(text)
            from numbers in Gen.ArrayOf(ArbMap.Default.GeneratorFor<int>(), 4)
            from score in ArbMap.Default.GeneratorFor<NormalFloat>()
            from usd in ArbMap.Default.GeneratorFor<decimal>()
            from ticks in Gen.Choose(0, int.MaxValue)
            select new AuditEvent
            {
                EventId = strings[0] ?? "ae_x",
                EventType = strings[1] ?? "chat.completed",
                Timestamp = DateTimeOffset.UnixEpoch.AddTicks((long)ticks * 977_000_013L).ToOffset(TimeSpan.FromMinutes(numbers[0] % 600)),
                Org = strings[2],
                AgentId = strings[3],
                AgentUuid = strings[4],
                SessionId = strings[5],
                TaskId = strings[6],
                PipelineUuid = strings[7],
                Decision = strings[8],
                BlockedBy = strings[9],
                Reason = strings[10],
                Content = strings[11],
                Flags = keys.Distinct().ToDictionary(k => k, k => k + "v"),
                Detections = [new DetectionInfo { Type = strings[2] ?? "", Start = numbers[1], Length = numbers[2], Score = score.Get, MessageIndex = numbers[3] % 2 == 0 ? null : numbers[3] }],
                Steps = [new StepInfo { Name = strings[3] ?? "", DurationUs = (long)numbers[1] * numbers[2] }],
                Cost = numbers[3] % 3 == 0 ? null : new CostInfo { PromptTokens = numbers[1], CompletionTokens = numbers[2], Usd = usd },
                Details = keys.Distinct().Take(5).Aggregate(new JsonBag(), (bag, k) => k.Length % 2 == 0 ? bag.Add(k, k) : bag.Add(k, (long)k.Length)).Build(),
            };

        Prop.ForAll(gen.ToArbitrary(), e =>
            Direct(e) == Generic(e) && Direct(e, 7, "p") == GenericHashInput(e, 7, "p") && Spliced(e, 7, "p") == (GenericHashInput(e, 7, "p"), Generic(e))
            && Direct(e) == Encoding.UTF8.GetString(InMemoryAuditLog.CanonicalEvent(e)))
            .QuickCheckThrowOnFailure();
    }
}
