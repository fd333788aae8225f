using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MinimalApi;
using static TapPass.AspNetCore.Tests.Samples.SampleHttp;

namespace TapPass.AspNetCore.Tests.Samples;

/// <summary>
/// Resume and capability tokens of the sample are rejected when replayed, expired, tampered with, or used by another
/// session or agent. Time moves only when a test moves the sample's clock (a fake <see cref="TimeProvider"/>).
/// </summary>
public sealed class SampleTokenSecurityTests(ClockedSampleFactory factory) : IClassFixture<ClockedSampleFactory>
{
    private Ledger Ledger => factory.Services.GetRequiredService<Ledger>();

    /// <summary>A transfer held for approval, then approved: its session, token and amount.</summary>
    private async Task<(string Session, string Token, decimal Amount)> ApprovedTransferAsync(HttpClient client, decimal amount)
    {
        var problem = await JsonAsync(await TransferAsync(client, amount));
        problem.GetProperty("status").GetInt32().Should().Be(428, problem.ToString());
        var approvalId = problem.GetProperty("approval_id").GetString()!;
        (await PostAsync(client, $"/approvals/{approvalId}/approve", new { reason = "ok" })).StatusCode.Should().Be(HttpStatusCode.OK);
        return (problem.GetProperty("session_id").GetString()!, problem.GetProperty("resume_token").GetString()!, amount);
    }

    private static async Task ShouldBeRefusedByRequireApprovalAsync(HttpResponseMessage response, string reason)
    {
        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, TapPassProblemTypes.PolicyBlock, "/tools/transfer-funds");
        problem.GetProperty("blocked_by").GetString().Should().Be("require_approval");
        problem.GetProperty("reason").GetString().Should().Contain(reason);
    }

    [Fact]
    public async Task ResumeToken_AfterTheApprovalExpired_Is403_AndTheTransferNeverRuns()
    {
        using var client = factory.CreateClient();
        var (session, token, amount) = await ApprovedTransferAsync(client, 1_500.11m);

        factory.Clock.Now += TimeSpan.FromMinutes(61); // ApprovalLifetime is 1 hour
        var resumed = await TransferAsync(client, amount, session, token);

        await ShouldBeRefusedByRequireApprovalAsync(resumed, "expired");
        Ledger.Transfers.Should().NotContain(t => t.Amount == amount);
        var decided = (await AuditAsync(factory, session)).Last();
        (decided.EventType, decided.Decision, decided.BlockedBy).Should().Be(("tool.decided", "block", "require_approval"));
    }

    [Fact]
    public async Task Approving_AfterTheRequestExpired_Is409_AndTheTokenStaysUseless()
    {
        using var client = factory.CreateClient();
        var problem = await JsonAsync(await TransferAsync(client, 1_500.22m));
        var approvalId = problem.GetProperty("approval_id").GetString()!;

        factory.Clock.Now += TimeSpan.FromHours(2);
        var approve = await PostAsync(client, $"/approvals/{approvalId}/approve", new { reason = "late" });

        approve.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var resumed = await TransferAsync(client, 1_500.22m, problem.GetProperty("session_id").GetString(), problem.GetProperty("resume_token").GetString());
        await ShouldBeRefusedByRequireApprovalAsync(resumed, "expired");
    }

    [Fact]
    public async Task ResumeToken_Tampered_Is403_TheGenuineTokenStillWorksOnce()
    {
        using var client = factory.CreateClient();
        var (session, token, amount) = await ApprovedTransferAsync(client, 1_500.33m);
        var tampered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        await ShouldBeRefusedByRequireApprovalAsync(await TransferAsync(client, amount, session, tampered), "not valid");
        await ShouldBeRefusedByRequireApprovalAsync(await TransferAsync(client, amount, session, "apr_000000000000000000000000.forged"), "not valid");

        (await TransferAsync(client, amount, session, token)).StatusCode.Should().Be(HttpStatusCode.OK);
        await ShouldBeRefusedByRequireApprovalAsync(await TransferAsync(client, amount, session, token), "already used");
        Ledger.Transfers.Count(t => t.Amount == amount).Should().Be(1);
    }

    [Fact]
    public async Task ResumeToken_ForAnotherCall_OrInAnotherSession_Is403()
    {
        using var client = factory.CreateClient();
        var (session, token, amount) = await ApprovedTransferAsync(client, 1_500.44m);

        // Same token, different arguments (a larger amount): the approval covered only the identical call.
        await ShouldBeRefusedByRequireApprovalAsync(await TransferAsync(client, 9_999_999m, session, token), "does not match");

        // Same call, but outside the session the 428 named (a new session).
        await ShouldBeRefusedByRequireApprovalAsync(await TransferAsync(client, amount, sessionId: null, resumeToken: token), "does not match");

        (await TransferAsync(client, amount, session, token)).StatusCode.Should().Be(HttpStatusCode.OK);
        Ledger.Transfers.Should().NotContain(t => t.Amount == 9_999_999m);
    }

    [Fact]
    public async Task ResumeToken_PresentedByAnotherAgent_IsRefused_InItsSessionAndInTheOwnersSession()
    {
        using var client = factory.CreateClient();
        var (session, token, amount) = await ApprovedTransferAsync(client, 1_500.55m);
        var tools = factory.Services.GetRequiredService<SampleTools>();
        using var agentB = factory.AgentB();

        // Agent B replays the identical call with the stolen token, in its own session.
        var stolen = agentB.Govern(tools.TransferFundsAsync).WithResumeToken(token);
        var refused = await FluentActions.Awaiting(() => stolen(Iban, amount, CancellationToken.None))
            .Should().ThrowAsync<PolicyBlockException>();
        refused.Which.BlockedBy.Should().Be("require_approval");
        refused.Which.AgentUuid.Should().Be(ClockedSampleFactory.AgentBUuid);

        // … and in the owner's session: the session is not B's.
        var inOwnersSession = agentB.Govern(tools.TransferFundsAsync, new TapPassToolOptions { SessionId = session }).WithResumeToken(token);
        await FluentActions.Awaiting(() => inOwnersSession(Iban, amount, CancellationToken.None))
            .Should().ThrowAsync<TapPassAuthorizationException>();

        Ledger.Transfers.Should().NotContain(t => t.Amount == amount);
        (await TransferAsync(client, amount, session, token)).StatusCode.Should().Be(HttpStatusCode.OK);
        var bEvents = (await AuditAsync(factory)).Where(e => e.AgentId == "agent-b").ToList();
        bEvents.Should().Contain(e => e.EventType == "tool.decided" && e.Decision == "block" && e.BlockedBy == "require_approval");
        bEvents.Should().Contain(e => e.EventType == "tool.rejected");
    }

    [Fact]
    public async Task CapabilityToken_ExpiresAfter60Seconds_OnTheSamplesClock()
    {
        using var client = factory.CreateClient();
        var jwks = await client.GetStringAsync("/.well-known/jwks.json");
        var (token, session) = await CapabilityTokens.SendEmailAsync(factory);
        var issued = factory.Clock.Now;

        CapabilityTokenVerifier.Verify(token, jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, issued).Should().Be(CapabilityVerdict.Valid);
        CapabilityTokenVerifier.Verify(token, jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, issued.AddSeconds(59)).Should().Be(CapabilityVerdict.Valid);
        CapabilityTokenVerifier.Verify(token, jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, issued.AddSeconds(60)).Should().Be(CapabilityVerdict.Expired);
        CapabilityTokenVerifier.Claims(token).GetProperty("exp").GetInt64().Should().Be(issued.ToUnixTimeSeconds() + 60);
    }

    [Fact]
    public async Task CapabilityToken_OfAnotherAgent_IsNotValidForTheSampleAgent()
    {
        using var client = factory.CreateClient();
        var jwks = await client.GetStringAsync("/.well-known/jwks.json");
        using var agentB = factory.AgentB();
        string? token = null;
        string? session = null;
        var send = agentB.Govern(
            (string to, string subject, string body) =>
            {
                token = TapPassToolContext.Current?.CapabilityToken;
                session = TapPassToolContext.Current?.SessionId;
                return Task.FromResult(0);
            },
            new TapPassToolOptions { Name = "send_email" });

        await send("team@example.com", "Status", "ok");

        token.Should().NotBeNull();
        var now = factory.Clock.Now;
        CapabilityTokenVerifier.Verify(token!, jwks, "send_email", ClockedSampleFactory.AgentBUuid, session, now).Should().Be(CapabilityVerdict.Valid);
        CapabilityTokenVerifier.Verify(token!, jwks, "send_email", SampleIds.EmbeddedAgentUuid, session, now).Should().Be(CapabilityVerdict.WrongAgent);
        JsonDocument.Parse(jwks).RootElement.GetProperty("keys").GetArrayLength().Should().Be(1);
    }
}
