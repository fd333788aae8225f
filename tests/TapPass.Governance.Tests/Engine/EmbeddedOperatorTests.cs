using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance.Inspection;
using TapPass.Governance.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Tests.Engine;

/// <summary><see cref="TapPassEmbeddedOperator"/>: the embedded engine's approvals, break-glass, audit log and keys.</summary>
public sealed class EmbeddedOperatorTests : IDisposable
{
    private const string OtherKey = "tp_operator_tests_other_agent";

    private readonly ManualTimeProvider _time = new();
    private readonly ServiceProvider _services;

    public EmbeddedOperatorTests() => _services = Build([], _time);

    private TapPassEmbeddedOperator Operator => _services.GetRequiredService<TapPassEmbeddedOperator>();

    private ITapPassTransport Transport => _services.GetRequiredService<ITapPassTransport>();

    public void Dispose() => _services.Dispose();

    private static ServiceProvider Build(Dictionary<string, string?> settings, TimeProvider time)
    {
        var values = new Dictionary<string, string?>
        {
            ["TapPass:Gateway:ApprovalRules:0:Name"] = "large-transfer",
            ["TapPass:Gateway:ApprovalRules:0:Tool"] = "transfer_funds",
            ["TapPass:Gateway:ApprovalRules:0:Argument"] = "amount",
            ["TapPass:Gateway:ApprovalRules:0:Operator"] = "gt",
            ["TapPass:Gateway:ApprovalRules:0:Value"] = "1000",
            ["TapPass:Gateway:Keys:0:KeySha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(OtherKey))),
            ["TapPass:Gateway:Keys:0:AgentId"] = "other-agent",
            ["TapPass:Gateway:Keys:0:Org"] = "local",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddSingleton<ITextInspector, FakeInspector>();
        services.AddTapPassEmbeddedGateway(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return services.BuildServiceProvider(validateScopes: true);
    }

    private static GovernRequest Transfer(decimal amount) => new()
    {
        Payload = new GovernPayload { Tool = "transfer_funds", Args = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["account"] = "acct-1", ["amount"] = amount }) },
    };

    private async Task<GovernResponse> HeldAsync()
    {
        var held = await Transport.GovernAsync(new TapPassCall(), Transfer(5000), CancellationToken.None);
        held.Value!.Outcome.Should().Be(GovernOutcomes.NeedsApproval);
        return held.Value;
    }

    [Fact]
    public void AddTapPassEmbeddedGateway_RegistersOneOperatorSingleton()
    {
        Operator.Should().BeSameAs(_services.GetRequiredService<TapPassEmbeddedOperator>());
    }

    [Fact]
    public async Task AddTapPassEmbeddedGateway_WithConfiguration_BindsTheGatewaySection()
    {
        // The approval rule comes from TapPass:Gateway:ApprovalRules.
        var held = await HeldAsync();

        (await Operator.GetApprovalAsync(held.Approval!.ApprovalId!)).Value!.Rule.Should().Be("large-transfer");
        (await Transport.GovernAsync(new TapPassCall(), Transfer(10), CancellationToken.None)).Value!.Outcome.Should().Be(GovernOutcomes.Allow);
    }

    [Fact]
    public async Task DecideApproval_Approve_LetsTheIdenticalCallResumeOnce_AndIsAuditedAsTheEmbeddedIdentity()
    {
        var held = await HeldAsync();

        var pending = await Operator.GetApprovalAsync(held.Approval!.ApprovalId!);
        var decided = await Operator.DecideApprovalAsync(held.Approval.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve", Reason = "checked" });

        pending.Value!.Status.Should().Be("pending");
        pending.Value.ResumeToken.Should().BeNull();
        decided.StatusCode.Should().Be(200);
        decided.Value!.Status.Should().Be("approved");
        var resume = new TapPassCall { SessionId = held.SessionId, ResumeToken = held.Approval.ResumeToken };
        (await Transport.GovernAsync(resume, Transfer(5000), CancellationToken.None)).Value!.Outcome.Should().Be(GovernOutcomes.Allow);
        var replay = await Transport.GovernAsync(resume, Transfer(5000), CancellationToken.None);
        (replay.Value!.Outcome, replay.Value.BlockedBy).Should().Be((GovernOutcomes.Block, "require_approval"));

        var decision = (await Operator.ReadAuditAsync(new TapPassAuditFilter { EventType = "approval.decided" })).Entries.Should().ContainSingle().Subject;
        (decision.AgentId, decision.Decision, decision.Reason, decision.SessionId).Should().Be(("embedded", "approved", "checked", held.SessionId));
    }

    [Fact]
    public async Task DecideApproval_Twice_Is409_Unknown404_BadDecision400()
    {
        var held = await HeldAsync();
        var id = held.Approval!.ApprovalId!;

        (await Operator.DecideApprovalAsync(id, new ApprovalDecisionRequest { Decision = "deny" })).StatusCode.Should().Be(200);
        (await Operator.DecideApprovalAsync(id, new ApprovalDecisionRequest { Decision = "approve" })).StatusCode.Should().Be(409);
        (await Operator.DecideApprovalAsync("apr_000000000000000000000000", new ApprovalDecisionRequest { Decision = "approve" })).StatusCode.Should().Be(404);
        (await Operator.DecideApprovalAsync(id, new ApprovalDecisionRequest { Decision = "maybe" })).StatusCode.Should().Be(400);
        (await Operator.GetApprovalAsync("not-an-id")).StatusCode.Should().Be(404);
    }

    [Fact]
    public async Task DecideApproval_AfterExpiry_Is409()
    {
        var held = await HeldAsync();
        _time.Advance(TimeSpan.FromHours(1));

        var decided = await Operator.DecideApprovalAsync(held.Approval!.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" });

        decided.StatusCode.Should().Be(409);
        decided.Error!.Message.Should().Contain("expired");
    }

    [Fact]
    public async Task BreakGlass_HaltRefusesCallsUntilEnded_AndBothEndsAreAudited()
    {
        var declared = await Operator.DeclareBreakGlassAsync("halt", TimeSpan.FromMinutes(10), "incident");

        declared.Value!.Level.Should().Be("halt");
        (await Operator.GetBreakGlassAsync())!.Level.Should().Be("halt");
        var refused = await Transport.GovernAsync(new TapPassCall(), Transfer(10), CancellationToken.None);
        (refused.StatusCode, refused.Error!.Type, refused.Error.Level).Should().Be((503, ErrorTypes.BreakGlassActive, "halt"));
        refused.Headers.RetryAfter.Should().Be(TimeSpan.FromMinutes(10));

        (await Operator.EndBreakGlassAsync()).StatusCode.Should().Be(200);
        (await Operator.GetBreakGlassAsync()).Should().BeNull();
        (await Operator.EndBreakGlassAsync()).StatusCode.Should().Be(404);
        (await Transport.GovernAsync(new TapPassCall(), Transfer(10), CancellationToken.None)).StatusCode.Should().Be(200);
        var trail = (await Operator.ReadAuditAsync()).Entries.Select(e => (e.EventType, e.Decision)).ToList();
        trail.Should().Contain(("break_glass.declared", "halt")).And.Contain(("break_glass.ended", "allow"));
    }

    [Fact]
    public async Task BreakGlass_InvalidLevelDurationOrReason_Is400()
    {
        (await Operator.DeclareBreakGlassAsync("panic", TimeSpan.FromMinutes(1), "x")).StatusCode.Should().Be(400);
        (await Operator.DeclareBreakGlassAsync("halt", TimeSpan.Zero, "x")).StatusCode.Should().Be(400);
        (await Operator.DeclareBreakGlassAsync("halt", TimeSpan.FromDays(2), "x")).StatusCode.Should().Be(400);
        (await Operator.DeclareBreakGlassAsync("halt", TimeSpan.FromMinutes(1), " ")).StatusCode.Should().Be(400);
        (await Operator.GetBreakGlassAsync()).Should().BeNull();
    }

    [Fact]
    public async Task EmbeddedIdentityWithoutApproverOrAdminRole_IsRefused_AndReadsOnlyItsOwnEvents()
    {
        using var services = Build(new Dictionary<string, string?> { ["TapPass:Gateway:EmbeddedIdentity:Roles:0"] = "agent" }, new ManualTimeProvider());
        var op = services.GetRequiredService<TapPassEmbeddedOperator>();
        var transport = services.GetRequiredService<ITapPassTransport>();
        var held = await transport.GovernAsync(new TapPassCall(), Transfer(5000), CancellationToken.None);
        await transport.GovernAsync(new TapPassCall { ApiKey = OtherKey }, Transfer(10), CancellationToken.None);

        (await op.DecideApprovalAsync(held.Value!.Approval!.ApprovalId!, new ApprovalDecisionRequest { Decision = "approve" })).StatusCode.Should().Be(403);
        (await op.DeclareBreakGlassAsync("halt", TimeSpan.FromMinutes(1), "x")).StatusCode.Should().Be(403);
        (await op.EndBreakGlassAsync()).StatusCode.Should().Be(403);
        (await op.GetApprovalAsync(held.Value.Approval.ApprovalId!)).StatusCode.Should().Be(200, "the agent that asked may see its own request");

        var entries = (await op.ReadAuditAsync()).Entries;
        entries.Should().NotBeEmpty().And.OnlyContain(e => e.AgentId == "embedded");
    }

    [Fact]
    public async Task ReadAudit_FiltersBySessionAndType_PagesWithTheCursor_AndHoldsNoArgumentValues()
    {
        var held = await HeldAsync();
        await Transport.GovernAsync(new TapPassCall(), Transfer(10), CancellationToken.None);

        var session = (await Operator.ReadAuditAsync(new TapPassAuditFilter { SessionId = held.SessionId })).Entries;
        session.Select(e => e.EventType).Should().Equal("session.opened", "approval.requested");
        session[1].Tool.Should().Be("transfer_funds");
        session[1].BlockedBy.Should().Be("require_approval");
        session[1].Event.GetProperty("event_type").GetString().Should().Be("approval.requested");
        session[1].PrevHash.Should().Be(session[0].Hash);
        session[1].Signature.Should().NotBeNullOrEmpty();

        var all = (await Operator.ReadAuditAsync()).Entries;
        all.Should().HaveCount(4);
        all.Select(e => e.Sequence).Should().BeInAscendingOrder();
        all.Should().OnlyContain(e => !e.Event.GetRawText().Contains("acct-1", StringComparison.Ordinal) && !e.Event.GetRawText().Contains("\"amount\"", StringComparison.Ordinal));
        (await Operator.ReadAuditAsync(new TapPassAuditFilter { EventType = "tool.decided" })).Entries.Should().ContainSingle().Which.Decision.Should().Be("allow");

        var first = await Operator.ReadAuditAsync(new TapPassAuditFilter { Limit = 3 });
        first.Entries.Should().HaveCount(3);
        var rest = await Operator.ReadAuditAsync(new TapPassAuditFilter { Limit = 3, Cursor = first.NextCursor });
        rest.Entries.Select(e => e.EventId).Should().Equal(all.Skip(3).Select(e => e.EventId));
        rest.NextCursor.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task ReadAudit_LimitOutOfRange_Throws(int limit)
    {
        await FluentActions.Awaiting(() => Operator.ReadAuditAsync(new TapPassAuditFilter { Limit = limit }))
            .Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => Operator.ReadAuditAsync(new TapPassAuditFilter { SessionId = new string('s', 201) }))
            .Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task GetJwks_PublishesTheKeyThatSignsCapabilityTokens()
    {
        var allowed = await Transport.GovernAsync(new TapPassCall(), Transfer(10), CancellationToken.None);
        var token = allowed.Value!.CapabilityToken!;
        var parts = token.Split('.');
        var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0])).RootElement;

        var key = JsonDocument.Parse(Operator.GetJwks()).RootElement.GetProperty("keys").EnumerateArray().Should().ContainSingle().Subject;

        key.GetProperty("kid").GetString().Should().Be(header.GetProperty("kid").GetString());
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = System.Buffers.Text.Base64Url.DecodeFromChars(key.GetProperty("x").GetString()),
                Y = System.Buffers.Text.Base64Url.DecodeFromChars(key.GetProperty("y").GetString()),
            },
        });
        ecdsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            .Should().BeTrue();
    }
}
