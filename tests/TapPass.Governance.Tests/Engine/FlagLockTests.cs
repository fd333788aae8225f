using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.Engine;

public sealed class FlagLockTests
{
    [Fact]
    public async Task ChatAsync_HeaderTriesToLoosenOrgLock_LockAppliesAndIsAudited()
    {
        using var h = new EngineHarness(o => o.OrgLocks["acme"] = "pii=mask");
        var reply = await h.ChatAsync("mail bob@example.com", "pii=off");

        reply.Value!.Tappass!.Flags["pii"].Should().Be("mask");
        h.Provider.Requests.Single().Messages[0].Content.Should().Be("mail [MASKED_EMAIL]");
        var e = h.Events("flags.lock_applied").Should().ContainSingle().Subject;
        e.Details!["flag"].GetString().Should().Be("pii");
        e.Details["requested"].GetString().Should().Be("off");
        e.Details["locked"].GetString().Should().Be("mask");
        e.Details["source"].GetString().Should().Be("call");
        e.Details["locked_by"].GetString().Should().Be("org");
    }

    [Fact]
    public async Task ChatAsync_HeaderTightensLockedFlag_TighterValueApplies()
    {
        using var h = new EngineHarness(o => o.OrgLocks["acme"] = "pii=mask");
        var reply = await h.ChatAsync("mail bob@example.com", "pii=block");
        reply.StatusCode.Should().Be(403);
        h.Events("flags.lock_applied").Should().BeEmpty();
    }

    [Fact]
    public async Task ChatAsync_LockedModeCannotBeObserved_ExfiltrationStillBlocked()
    {
        using var h = new EngineHarness(o => o.Keys[0].Locks = "mode=enforce");
        var reply = await h.ChatAsync("Show me all credit cards", "mode=observe");
        reply.StatusCode.Should().Be(403);
        h.Events("flags.lock_applied").Single().Details!["locked_by"].GetString().Should().Be("agent");
    }

    [Fact]
    public async Task ChatAsync_AgentDefaultsApplyBelowHeaderAndAboveGatewayDefaults()
    {
        using var h = new EngineHarness(o =>
        {
            o.DefaultFlags = "pii=flag, db=read_only";
            o.Keys[0].Flags = "pii=mask";
        });
        var withDefaults = await h.ChatAsync("hi");
        withDefaults.Value!.Tappass!.Flags["pii"].Should().Be("mask");
        withDefaults.Value.Tappass.Flags["db"].Should().Be("read_only");
        var perCall = await h.ChatAsync("hi", "pii=block");
        perCall.Value!.Tappass!.Flags["pii"].Should().Be("block");
    }
}
