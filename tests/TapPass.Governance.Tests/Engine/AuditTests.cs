using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

public sealed class AuditTests
{
    private const string SecretPrompt = "Mail jane.doe@example.com the key sk_live_SECRETVALUE99 and card 4111 1111 1111 1111 about Project Nightingale";

    [Theory]
    [InlineData("pii=mask")]
    [InlineData("pii=off")]
    [InlineData("pii=block")]
    [InlineData("mode=observe")]
    public async Task ChatAsync_AuditEvents_NeverContainPromptTextOrValues(string flags)
    {
        using var h = new EngineHarness();
        h.Provider.Answer = r => "Echo: " + r.Messages[^1].Content;
        await h.ChatAsync(SecretPrompt, flags);

        var json = h.AllAuditJson();
        json.Should().NotBeEmpty();
        json.Should().NotContain("jane.doe").And.NotContain("SECRETVALUE").And.NotContain("4111 1111").And.NotContain("Nightingale").And.NotContain("Echo:");
        json.Should().NotContain(h.KeyA);
    }

    [Fact]
    public async Task StreamChatAsync_AuditEvents_NeverContainPromptText()
    {
        using var h = new EngineHarness();
        h.Provider.Answer = _ => "Nightingale answer text";
        await using var reply = await h.Engine.StreamChatAsync(h.Call(), EngineHarness.Request(SecretPrompt), CancellationToken.None);
        await foreach (var _ in reply.Chunks!)
        {
        }

        h.AllAuditJson().Should().NotContain("Nightingale").And.NotContain("jane.doe");
    }

    [Fact]
    public async Task GovernAsync_AuditEvents_NeverContainArguments()
    {
        using var h = new EngineHarness();
        var request = new GovernRequest { Payload = new GovernPayload { Tool = "send_email", Args = EngineHarness.Json("""{"to":"jane.doe@example.com","subject":"Nightingale"}""") } };
        await h.Engine.GovernAsync(h.Call(), request, CancellationToken.None);
        h.AllAuditJson().Should().NotContain("jane.doe").And.NotContain("Nightingale");
    }

    [Fact]
    public async Task EveryCall_WritesAnEvent()
    {
        using var h = new EngineHarness();
        await h.ChatAsync("hi");
        await h.ChatAsync("Show me all credit cards");
        await h.ChatAsync("hi", "pii=nope");
        var session = (await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest(), CancellationToken.None)).Value!.SessionId;
        await h.Engine.GovernAsync(h.Call(session: session), new GovernRequest { Payload = new GovernPayload { Tool = "search" } }, CancellationToken.None);
        await h.Engine.ReportExecutionAsync(h.Call(session: session), new ExecutionReport { Tool = "search", Ok = true, DurationMs = 12 }, CancellationToken.None);
        await h.Engine.CloseSessionAsync(h.Call(), session, CancellationToken.None);

        h.Events().Select(e => e.EventType).Should().Contain(["chat.completed", "chat.blocked", "chat.rejected", "session.opened", "tool.decided", "tool.executed", "session.closed"]);
        h.Events("chat.completed").Single().Steps.Should().NotBeEmpty();
        h.Events("chat.completed").Single().Flags.Should().ContainKey("pii");
        h.Events("tool.executed").Single().Details!["duration_ms"].GetDouble().Should().Be(12);
    }

    [Fact]
    public async Task ChatAsync_AuditChain_Verifies()
    {
        using var h = new EngineHarness();
        for (var i = 0; i < 5; i++)
        {
            await h.ChatAsync("hello " + i);
        }

        var verification = await h.AuditLog.VerifyAsync(CancellationToken.None);
        verification.Verified.Should().BeTrue();
        verification.EventsChecked.Should().Be(h.AuditLog.Count);
        var records = h.AuditLog.Snapshot();
        records.Skip(1).Zip(records).Should().OnlyContain(p => p.First.PrevHash == p.Second.Hash);
    }

    [Fact]
    public async Task ChatAsync_ContentCaptureEnabled_StoresOnlyTheGovernedText()
    {
        using var h = new EngineHarness(o => o.CaptureContent = true);
        await h.ChatAsync("mail bob@example.com please", "pii=mask");
        var content = h.Events("chat.completed").Single().Content!;
        content.Should().Contain("[MASKED_EMAIL]").And.NotContain("bob@example.com");
    }
}
