using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Engine;

public sealed class ApprovalTests
{
    private static EngineHarness WithRules() => new(o =>
    {
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "big-refunds", Tool = "refund_*", Argument = "amount", Operator = "gt", Value = "500" });
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "deletes", Tool = "delete_*" });
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "restricted-data", MinClassification = "RESTRICTED" });
    });

    private static GovernRequest Refund(decimal amount, string session) => new()
    {
        SessionId = session,
        Payload = new GovernPayload { Tool = "refund_order", Args = EngineHarness.Json($$"""{"order":"A-1","amount":{{amount}}}""") },
    };

    private static async Task<string> Session(EngineHarness h) =>
        (await h.Engine.OpenSessionAsync(h.Call(), new SessionCreateRequest(), CancellationToken.None)).Value!.SessionId;

    [Fact]
    public async Task GovernAsync_ArgumentPredicate_HoldsOnlyAboveThreshold()
    {
        using var h = WithRules();
        var s = await Session(h);
        (await h.Engine.GovernAsync(h.Call(), Refund(100, s), CancellationToken.None)).Value!.Outcome.Should().Be("allow");
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!;
        held.Outcome.Should().Be("needs_approval");
        held.BlockedBy.Should().Be("require_approval");
        held.Approval!.ApprovalUrl.Should().Be($"http://localhost:9620/approvals/{held.Approval.ApprovalId}");
        held.Approval.ResumeToken.Should().StartWith(held.Approval.ApprovalId + ".");
        held.Approval.ExpiresAt.Should().Be(h.Time.GetUtcNow().AddHours(1));
        held.CapabilityToken.Should().BeNull();
        h.Events("approval.requested").Should().ContainSingle();
    }

    [Fact]
    public async Task Approve_ThenIdenticalCallWithToken_IsAllowedOnce()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;

        var info = await h.Engine.GetApprovalAsync(h.Identity(h.ApproverKey), held.ApprovalId!, CancellationToken.None);
        info.Value!.Status.Should().Be("pending");
        info.Value.ResumeToken.Should().BeNull();

        var decided = await h.Engine.DecideApprovalAsync(h.Identity(h.ApproverKey), held.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve", Reason = "ok" }, CancellationToken.None);
        decided.Value!.Status.Should().Be("approved");
        h.Events("approval.decided").Should().ContainSingle();

        var resumed = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(900, s), CancellationToken.None)).Value!;
        resumed.Outcome.Should().Be("allow");
        resumed.CapabilityToken.Should().NotBeNull();

        var reused = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(900, s), CancellationToken.None)).Value!;
        reused.Outcome.Should().Be("block");
        reused.BlockedBy.Should().Be("require_approval");
    }

    [Fact]
    public async Task ResumeToken_ForADifferentCall_IsRejected()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        await h.Engine.DecideApprovalAsync(h.Identity(h.ApproverKey), held.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);

        var other = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(901, s), CancellationToken.None)).Value!;
        other.Outcome.Should().Be("block");
        other.Reason.Should().Contain("does not match");
    }

    [Fact]
    public async Task Denied_ResumeIsRejected()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        await h.Engine.DecideApprovalAsync(h.Identity(h.ApproverKey), held.ApprovalId!, new ApprovalDecisionRequest { Decision = "deny" }, CancellationToken.None);
        var r = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(900, s), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("block");
        r.Reason.Should().Contain("denied");
    }

    [Fact]
    public async Task Expired_ResumeIsRejected()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        await h.Engine.DecideApprovalAsync(h.Identity(h.ApproverKey), held.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);
        h.Time.Advance(TimeSpan.FromHours(2));
        var r = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(900, s), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("block");
        r.Reason.Should().Contain("expired");
    }

    [Fact]
    public async Task Pending_ResumeAnswersNeedsApprovalAgain()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        var r = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = held.ResumeToken }, Refund(900, s), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("needs_approval");
        r.Approval!.ApprovalId.Should().Be(held.ApprovalId);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("apr_AAAAAAAAAAAAAAAAAAAAAAAA.0000000000000000000000000000000000000000000")]
    public async Task ForgedToken_IsRejected(string token)
    {
        using var h = WithRules();
        var s = await Session(h);
        var r = (await h.Engine.GovernAsync(h.Call() with { ResumeToken = token }, Refund(900, s), CancellationToken.None)).Value!;
        r.Outcome.Should().Be("block");
        r.BlockedBy.Should().Be("require_approval");
    }

    [Fact]
    public async Task DecideApproval_WithoutApproverRole_Answers403AndOtherOrgSees404()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        (await h.Engine.DecideApprovalAsync(h.Identity(h.KeyB), held.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None)).StatusCode.Should().Be(403);
        (await h.Engine.GetApprovalAsync(h.Identity(h.KeyX), held.ApprovalId!, CancellationToken.None)).StatusCode.Should().Be(404);
        (await h.Engine.GetApprovalAsync(h.Identity(h.KeyA), held.ApprovalId!, CancellationToken.None)).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task DecideApproval_Twice_Answers409()
    {
        using var h = WithRules();
        var s = await Session(h);
        var held = (await h.Engine.GovernAsync(h.Call(), Refund(900, s), CancellationToken.None)).Value!.Approval!;
        var approver = h.Identity(h.ApproverKey);
        await h.Engine.DecideApprovalAsync(approver, held.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);
        (await h.Engine.DecideApprovalAsync(approver, held.ApprovalId!, new ApprovalDecisionRequest { Decision = "deny" }, CancellationToken.None)).StatusCode.Should().Be(409);
    }

    [Fact]
    public async Task ChatAsync_RestrictedClassification_Answers428ThenResumesOnceApproved()
    {
        using var h = WithRules();
        var first = await h.ChatAsync("deploy with sk_live_ABCDEFGH12345");
        first.StatusCode.Should().Be(428);
        var e = first.Error!;
        e.Type.Should().Be("approval_required");
        e.BlockedBy.Should().Be("require_approval");
        e.ApprovalUrl.Should().EndWith(e.ApprovalId);
        e.SessionId.Should().NotBeNull();
        h.Provider.Requests.Should().BeEmpty();

        await h.Engine.DecideApprovalAsync(h.Identity(h.ApproverKey), e.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);
        var call = h.Call(session: e.SessionId) with { ResumeToken = e.ResumeToken };
        var resumed = await h.Engine.ChatAsync(call, EngineHarness.Request("deploy with sk_live_ABCDEFGH12345"), CancellationToken.None);
        resumed.StatusCode.Should().Be(200);
        var again = await h.Engine.ChatAsync(call, EngineHarness.Request("deploy with sk_live_ABCDEFGH12345"), CancellationToken.None);
        again.StatusCode.Should().Be(403);
        again.Error!.BlockedBy.Should().Be("require_approval");
    }
}
