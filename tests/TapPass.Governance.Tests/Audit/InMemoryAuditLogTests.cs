using TapPass.Governance.Audit;
using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.Audit;

public sealed class InMemoryAuditLogTests
{
    private static AuditEvent E(string type, string? session = null) => new() { EventType = type, SessionId = session, AgentId = "a" };

    [Fact]
    public async Task AppendAsync_AssignsIdsTimestampsAndChainsHashes()
    {
        var time = new ManualTimeProvider();
        using var log = new InMemoryAuditLog(time);
        var first = await log.AppendAsync(E("x"), default);
        var second = await log.AppendAsync(E("y"), default);

        first.Event.EventId.Should().StartWith("ae_");
        first.Event.Timestamp.Should().Be(time.GetUtcNow());
        first.PrevHash.Should().Be(InMemoryAuditLog.GenesisHash);
        second.PrevHash.Should().Be(first.Hash);
        second.Sequence.Should().Be(2);
        first.Hash.Should().MatchRegex("^[0-9a-f]{64}$");
        (await log.VerifyAsync(default)).Should().Be(new AuditVerification(true, 2, null));
    }

    [Fact]
    public void CanonicalEvent_SortsKeysWithoutWhitespace()
    {
        var json = System.Text.Encoding.UTF8.GetString(InMemoryAuditLog.CanonicalEvent(E("chat.completed", "ses_1") with { EventId = "ae_1" }));
        json.Should().StartWith("{\"agent_id\":\"a\",\"event_id\":\"ae_1\",\"event_type\":\"chat.completed\",\"session_id\":\"ses_1\"");
        json.Should().NotContain(" ");
    }

    [Fact]
    public async Task QueryAsync_FiltersAndPagesWithCursor()
    {
        using var log = new InMemoryAuditLog(new ManualTimeProvider());
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync(E("chat.completed", "s1"), default);
            await log.AppendAsync(E("tool.decided", "s2"), default);
        }

        var page = await log.QueryAsync(new AuditQuery { SessionId = "s1", Limit = 3 }, default);
        page.Records.Should().HaveCount(3).And.OnlyContain(r => r.Event.SessionId == "s1");
        page.NextCursor.Should().NotBeNull();
        var rest = await log.QueryAsync(new AuditQuery { SessionId = "s1", Limit = 3, Cursor = page.NextCursor }, default);
        rest.Records.Should().HaveCount(2);
        rest.NextCursor.Should().BeNull();
        (await log.QueryAsync(new AuditQuery { EventType = "tool.decided" }, default)).Records.Should().HaveCount(5);
    }

    [Fact]
    public async Task Bounded_DropsOldestAndStillVerifies()
    {
        using var log = new InMemoryAuditLog(new ManualTimeProvider(), maxEvents: 3);
        for (var i = 0; i < 10; i++)
        {
            await log.AppendAsync(E("x"), default);
        }

        log.Count.Should().Be(3);
        log.Snapshot()[0].Sequence.Should().Be(8);
        (await log.VerifyAsync(default)).Verified.Should().BeTrue();
    }

    [Fact]
    public async Task ContentCapture_OnARefusedCall_StoresNoPrompt()
    {
        using var h = new EngineHarness(o => o.CaptureContent = true);
        await h.ChatAsync("mail jane@example.com", "pii=block");
        h.AllAuditJson().Should().NotContain("jane@example.com");
    }
}
