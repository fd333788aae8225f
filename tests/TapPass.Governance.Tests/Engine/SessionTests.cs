using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

public sealed class SessionTests
{
    [Fact]
    public async Task ChatAsync_WithoutSession_OpensOneImplicitlyAndAuditsIt()
    {
        using var h = new EngineHarness();
        var reply = await h.ChatAsync("hi");
        var sessionId = reply.Value!.Tappass!.SessionId!;
        sessionId.Should().MatchRegex("^ses_[0-9A-Za-z]{24}$");
        h.Events("session.opened").Should().ContainSingle().Which.Details!["implicit"].GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task ChatAsync_JoiningOwnSession_CountsTurns()
    {
        using var h = new EngineHarness();
        var first = await h.ChatAsync("hi");
        var session = first.Value!.Tappass!.SessionId;
        var second = await h.ChatAsync("again", session: session);
        first.Value.Tappass.TurnIndex.Should().Be(0);
        second.Value!.Tappass!.TurnIndex.Should().Be(1);
        second.Value.Tappass.SessionId.Should().Be(session);
    }

    [Fact]
    public async Task ChatAsync_ForeignAgentsSession_Answers403SessionForbidden()
    {
        using var h = new EngineHarness();
        var session = (await h.ChatAsync("hi")).Value!.Tappass!.SessionId;
        var reply = await h.ChatAsync("hi", session: session, key: h.KeyB);
        reply.StatusCode.Should().Be(403);
        reply.Error!.Type.Should().Be("session_forbidden");
    }

    [Fact]
    public async Task ChatAsync_OtherOrgsSharedSession_Answers403()
    {
        using var h = new EngineHarness();
        var opened = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest { Shared = true }, CancellationToken.None);
        var reply = await h.ChatAsync("hi", session: opened.Value!.SessionId, key: h.KeyX);
        reply.StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task ChatAsync_SharedSessionSameOrg_OtherAgentMayJoin()
    {
        using var h = new EngineHarness();
        var opened = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest { Shared = true }, CancellationToken.None);
        var reply = await h.ChatAsync("hi", session: opened.Value!.SessionId, key: h.KeyB);
        reply.StatusCode.Should().Be(200);
        reply.Value!.Tappass!.SessionId.Should().Be(opened.Value.SessionId);
    }

    [Theory]
    [InlineData("ses_doesnotexist")]
    [InlineData("ses_AAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-our-format")]
    [InlineData("ses_../../etc")]
    public async Task ChatAsync_UnknownOrMalformedSessionId_Answers403(string sessionId)
    {
        using var h = new EngineHarness();
        var reply = await h.ChatAsync("hi", session: sessionId);
        reply.StatusCode.Should().Be(403);
        reply.Error!.Type.Should().Be("session_forbidden");
        h.Provider.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatAsync_AgentUuidHeaderMismatch_Answers403()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.ChatAsync(h.Call() with { AgentUuid = EngineHarness.AgentBUuid }, EngineHarness.Request("hi"), CancellationToken.None);
        reply.StatusCode.Should().Be(403);
        reply.Error!.Type.Should().Be("session_forbidden");
    }

    [Fact]
    public async Task ChatAsync_AgentUuidHeaderMatchesInAnyCase_IsAccepted()
    {
        using var h = new EngineHarness();
        var reply = await h.Engine.ChatAsync(h.Call() with { AgentUuid = EngineHarness.AgentAUuid.ToUpperInvariant() }, EngineHarness.Request("hi"), CancellationToken.None);
        reply.StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task ChatAsync_ClosedSession_Answers403()
    {
        using var h = new EngineHarness();
        var opened = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest(), CancellationToken.None);
        var closed = await h.Engine.CloseSessionAsync(h.Call(), opened.Value!.SessionId, CancellationToken.None);
        closed.Value!.Closed.Should().BeTrue();
        (await h.ChatAsync("hi", session: opened.Value.SessionId)).StatusCode.Should().Be(403);
        h.Events("session.closed").Should().ContainSingle();
    }

    [Fact]
    public async Task ChatAsync_ExpiredSession_Answers403()
    {
        using var h = new EngineHarness(o => o.SessionLifetime = TimeSpan.FromMinutes(10));
        var session = (await h.ChatAsync("hi")).Value!.Tappass!.SessionId;
        h.Time.Advance(TimeSpan.FromMinutes(11));
        (await h.ChatAsync("hi", session: session)).StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task CloseSessionAsync_OtherAgentsSession_Answers403()
    {
        using var h = new EngineHarness();
        var opened = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest(), CancellationToken.None);
        var reply = await h.Engine.CloseSessionAsync(h.Call(key: h.KeyB), opened.Value!.SessionId, CancellationToken.None);
        reply.StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task OpenSessionAsync_ReturnsIdAuditUrlAndExpiry()
    {
        using var h = new EngineHarness();
        var opened = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest { Metadata = new() { ["ticket"] = "T-1" } }, CancellationToken.None);
        opened.StatusCode.Should().Be(200);
        opened.Value!.AgentUuid.Should().Be(EngineHarness.AgentAUuid);
        opened.Value.AuditUrl.Should().EndWith(opened.Value.SessionId);
        opened.Value.ExpiresAt.Should().Be(h.Time.GetUtcNow() + TimeSpan.FromHours(24));
        var fetched = await h.Engine.GetSessionAsync(h.Identity(h.KeyA), opened.Value.SessionId, CancellationToken.None);
        fetched.Value!.SessionId.Should().Be(opened.Value.SessionId);
    }

    [Fact]
    public async Task OpenSessionAsync_TooMuchMetadata_Answers400()
    {
        using var h = new EngineHarness();
        var metadata = Enumerable.Range(0, 20).ToDictionary(i => "k" + i, i => "v");
        var reply = await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest { Metadata = metadata }, CancellationToken.None);
        reply.StatusCode.Should().Be(400);
    }
}
