using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MinimalApi;
using static TapPass.AspNetCore.Tests.Samples.SampleHttp;

namespace TapPass.AspNetCore.Tests.Samples;

/// <summary>
/// Break-glass through the sample's operator endpoints (its own app instance: break-glass is organisation-wide, so no
/// other test class shares it; the tests of one class run one after another).
/// </summary>
public sealed class SampleBreakGlassTests(SampleFactory factory) : IClassFixture<SampleFactory>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    // Whatever a test left behind, the next starts without break-glass.
    public async Task DisposeAsync() => await factory.Operator.EndBreakGlassAsync();

    [Fact]
    public async Task Halt_EveryCall503WithLevelExpiryAndRetryAfter_ToolsDoNotRun_UntilEnded()
    {
        using var client = factory.CreateClient();
        var outbox = factory.Services.GetRequiredService<Outbox>();

        var declared = await PostAsync(client, "/admin/break-glass", new { level = "halt", duration = "PT10M", reason = "Incident 42" });
        declared.StatusCode.Should().Be(HttpStatusCode.OK);
        var expiresAt = DateTimeOffset.Parse((await JsonAsync(declared)).GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);

        var chat = await ChatAsync(client, "What are the GDPR requirements?");
        var problem = await ProblemAsync(chat, HttpStatusCode.ServiceUnavailable, TapPassProblemTypes.BreakGlassActive, "/chat", inSession: false);
        problem.GetProperty("level").GetString().Should().Be("halt");
        DateTimeOffset.Parse(problem.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture).Should().BeCloseTo(expiresAt, TimeSpan.FromSeconds(1));
        chat.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(590, 600);

        var sent = outbox.Sent.Count;
        var tool = await PostAsync(client, "/tools/send-email", new { to = "team@example.com", subject = "During halt", body = "x" });
        var toolProblem = await ProblemAsync(tool, HttpStatusCode.ServiceUnavailable, TapPassProblemTypes.BreakGlassActive, "/tools/send-email", inSession: false);
        tool.Headers.RetryAfter.Should().NotBeNull();
        outbox.Sent.Count.Should().Be(sent);

        var chatRefusal = (await AuditOfRunAsync(factory, problem.GetProperty("pipeline_uuid").GetString()!)).Should().ContainSingle().Subject;
        (chatRefusal.EventType, chatRefusal.Decision, chatRefusal.BlockedBy).Should().Be(("chat.rejected", "block", "break_glass"));
        var toolRefusal = (await AuditOfRunAsync(factory, toolProblem.GetProperty("pipeline_uuid").GetString()!)).Should().ContainSingle().Subject;
        (toolRefusal.EventType, toolRefusal.Decision, toolRefusal.BlockedBy).Should().Be(("tool.rejected", "block", "break_glass"));
        ShouldNotContainValues([chatRefusal, toolRefusal], "GDPR", "team@example.com", "During halt");

        (await client.DeleteAsync("/admin/break-glass")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ChatAsync(client, "What are the GDPR requirements?")).StatusCode.Should().Be(HttpStatusCode.OK);

        var trail = await AuditAsync(factory);
        trail.Should().ContainSingle(e => e.EventType == "break_glass.declared" && e.Decision == "halt" && e.Reason == "Incident 42");
        trail.Should().Contain(e => e.EventType == "break_glass.ended" && e.Decision == "allow");
    }

    [Fact]
    public async Task Observe_BlockingSuspended_BlockedPrompt200MarkedObserve_AuditedWithWouldBlock()
    {
        using var client = factory.CreateClient();
        (await PostAsync(client, "/admin/break-glass", new { level = "observe", duration = "PT5M", reason = "Investigating false positives" }))
            .StatusCode.Should().Be(HttpStatusCode.OK);

        var response = await ChatAsync(client, "Show me all credit cards");
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK, body.ToString());
        body.GetProperty("break_glass").GetString().Should().Be("observe");
        var events = await AuditAsync(factory, body.GetProperty("session_id").GetString());
        var completed = events.Should().ContainSingle(e => e.EventType == "chat.completed").Subject;
        completed.Decision.Should().Be("flag");
        Detail(completed, "break_glass").Should().Be("observe");
        completed.Event.GetProperty("details").GetProperty("would_block").GetArrayLength().Should().BePositive();
        ShouldNotContainValues(events, "Show me all credit cards");

        (await client.DeleteAsync("/admin/break-glass")).StatusCode.Should().Be(HttpStatusCode.OK);
        var after = await ChatAsync(client, "Show me all credit cards");
        after.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Declare_InvalidLevelOrDuration_Answers400_AndEndWithoutBreakGlassIs404()
    {
        using var client = factory.CreateClient();

        (await PostAsync(client, "/admin/break-glass", new { level = "panic", duration = "PT5M", reason = "x" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostAsync(client, "/admin/break-glass", new { level = "halt", duration = "five minutes", reason = "x" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostAsync(client, "/admin/break-glass", new { level = "halt", duration = "P30D", reason = "x" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await client.DeleteAsync("/admin/break-glass")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ChatAsync(client, "What are the GDPR requirements?")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>The decisions an application opts into: <c>RespectBreakGlass</c> and <c>RaiseOnRedaction</c>.</summary>
public sealed class SampleOptInDecisionTests(StrictSampleFactory factory) : IClassFixture<StrictSampleFactory>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await factory.Operator.EndBreakGlassAsync();

    [Fact]
    public async Task Observe_WithRespectBreakGlass_Is503BreakGlassActiveLevelObserve()
    {
        using var client = factory.CreateClient();
        (await PostAsync(client, "/admin/break-glass", new { level = "observe", duration = "PT5M", reason = "Drill" })).StatusCode.Should().Be(HttpStatusCode.OK);

        var response = await ChatAsync(client, "What are the GDPR requirements?");

        var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable, TapPassProblemTypes.BreakGlassActive, "/chat");
        problem.GetProperty("level").GetString().Should().Be("observe");
        problem.GetProperty("expires_at").GetString().Should().NotBeNullOrEmpty();
        response.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(1, 300);

        // The engine answered (and audited) the call; the application refused to use an answer given under break-glass.
        var run = await AuditOfRunAsync(factory, problem.GetProperty("pipeline_uuid").GetString()!);
        run.Select(e => e.EventType).Should().Equal("session.opened", "chat.completed");
        Detail(run[1], "break_glass").Should().Be("observe");
    }

    [Fact]
    public async Task PiiMask_WithRaiseOnRedaction_Is422RedactionApplied_MaskedAnswerWithheld()
    {
        using var client = factory.CreateClient();

        var response = await ChatAsync(client, "Repeat after me: jane.doe@example.com", "pii=mask");

        var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity, TapPassProblemTypes.RedactionApplied, "/chat");
        problem.GetProperty("redacted_types").EnumerateArray().Select(t => t.GetString()).Should().Equal("EMAIL");
        problem.GetRawText().Should().NotContain("jane.doe").And.NotContain("[MASKED_EMAIL]");

        var events = await AuditAsync(factory, problem.GetProperty("session_id").GetString());
        var completed = events.Should().ContainSingle(e => e.EventType == "chat.completed").Subject;
        completed.Decision.Should().Be("mask");
        completed.Event.GetProperty("detections").EnumerateArray().Should().Contain(d => d.GetProperty("type").GetString() == "EMAIL");
        ShouldNotContainValues(events, "jane.doe@example.com", "Repeat after me");
    }
}

/// <summary>Governance unreachable: the sample fails closed with 503 and nothing runs.</summary>
public sealed class SampleUnavailableTests(UnreachableSampleFactory factory) : IClassFixture<UnreachableSampleFactory>
{
    [Theory]
    [InlineData("/chat")]
    [InlineData("/tools/send-email")]
    public async Task GovernanceUnreachable_Is503GovernanceUnavailable_NothingRunsOrIsAudited(string path)
    {
        using var client = factory.CreateClient();
        var outbox = factory.Services.GetRequiredService<Outbox>();
        var audited = (await AuditAsync(factory)).Count;
        var sent = outbox.Sent.Count;

        var response = await PostAsync(client, path, path == "/chat"
            ? new { prompt = "What are the GDPR requirements?" }
            : new { to = "team@example.com", subject = "Status", body = "All green." });
        var problem = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        problem.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.GovernanceUnavailable);
        problem.GetProperty("instance").GetString().Should().Be(path);
        Errors.TraceIdMemberTests.TraceIdMembers(problem).Should().Equal("trace_id");
        problem.GetProperty("trace_id").GetString().Should().NotBeNullOrEmpty();
        problem.TryGetProperty("pipeline_uuid", out _).Should().BeFalse("no governance decision was taken");
        response.Headers.RetryAfter.Should().BeNull("only break-glass sets Retry-After");
        outbox.Sent.Count.Should().Be(sent);
        (await AuditAsync(factory)).Count.Should().Be(audited);
    }
}
