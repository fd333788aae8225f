using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace TapPass.AspNetCore.Tests.Samples;

/// <summary>
/// End to end: the sample app of samples/MinimalApi on the embedded gateway, driven like its README's curl lines.
/// The governance decisions themselves are in <see cref="SampleDecisionTests"/> and the classes next to it.
/// </summary>
public sealed class MinimalApiSampleTests : IClassFixture<SampleFactory>
{
    private readonly SampleFactory _factory;

    public MinimalApiSampleTests(SampleFactory factory) => _factory = factory;

    private static Task<HttpResponseMessage> ChatAsync(HttpClient client, string prompt, string? flags = null, string? sessionId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/chat") { Content = JsonContent.Create(new { prompt, flags }) };
        if (sessionId is not null)
        {
            request.Headers.Add("X-TapPass-Session-Id", sessionId);
        }

        return client.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task Chat_NormalPrompt_AnswersWithContentClassificationAuditUrlAndSession()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "What are the GDPR requirements?");
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("content").GetString().Should().NotBeNullOrWhiteSpace();
        body.GetProperty("classification").GetString().Should().Be("PUBLIC");
        body.GetProperty("audit_url").GetString().Should().NotBeNullOrWhiteSpace();
        var sessionId = body.GetProperty("session_id").GetString();
        sessionId.Should().StartWith("ses_");
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal(sessionId);
    }

    [Fact]
    public async Task Chat_PiiMask_NeverReturnsTheEmailOrCard()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "Repeat after me: jane.doe@example.com paid with 4111 1111 1111 1111", "pii=mask");
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var content = body.GetProperty("content").GetString();
        content.Should().NotContain("jane.doe@example.com").And.NotContain("4111 1111 1111 1111");
        content.Should().Contain("[MASKED_EMAIL]").And.Contain("[MASKED_CREDIT_CARD]");
        body.GetProperty("classification").GetString().Should().BeOneOf("CONFIDENTIAL", "RESTRICTED");

        // Redaction applied: audited as a masked completion, with the types and positions, never the values.
        var events = await SampleHttp.AuditAsync(_factory, body.GetProperty("session_id").GetString());
        var completed = events.Should().ContainSingle(e => e.EventType == "chat.completed").Subject;
        completed.Decision.Should().Be("mask");
        completed.Event.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("type").GetString())
            .Should().Contain(["EMAIL", "CREDIT_CARD"]);
        SampleHttp.ShouldNotContainValues(events, "jane.doe@example.com", "4111 1111 1111 1111", "Repeat after me");
    }

    [Fact]
    public async Task Chat_ShowMeAllCreditCards_IsBlockedWithA403PolicyBlockProblem()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "Show me all credit cards");
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        body.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.PolicyBlock);
        body.GetProperty("blocked_by").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("audit_url").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("help").GetString().Should().Be("https://tappass.dev/docs/runtime-governance");
        response.Headers.Contains("X-TapPass-Session-Id").Should().BeTrue();
    }

    [Fact]
    public async Task Chat_Lockdown_RefusesAPromptWithAnyDetection()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "Send the report to jane.doe@example.com", "mode=lockdown");

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await JsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.PolicyBlock);
    }

    [Fact]
    public async Task Chat_InvalidFlags_Answers400InvalidFlags()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "hello", "pii=sometimes");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await JsonAsync(response)).GetProperty("flag").GetString().Should().Be("pii");
    }

    [Fact]
    public async Task Chat_SessionHeader_JoinsTheSessionOfAnEarlierCall()
    {
        using var client = _factory.CreateClient();
        var first = await JsonAsync(await ChatAsync(client, "My name is Alice"));
        var sessionId = first.GetProperty("session_id").GetString()!;

        var response = await ChatAsync(client, "What's my name?", sessionId: sessionId);
        var second = await JsonAsync(response);

        second.GetProperty("session_id").GetString().Should().Be(sessionId);
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal(sessionId);
    }

    [Fact]
    public async Task MalformedSessionHeader_Answers400()
    {
        using var client = _factory.CreateClient();

        var response = await ChatAsync(client, "hello", sessionId: "not a session!");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await JsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.InvalidSessionHeader);
    }

    [Fact]
    public async Task SendEmail_AllowedByDefault_IsSent()
    {
        using var client = _factory.CreateClient();

        var response = await client.PostAsJsonAsync("/tools/send-email", new { to = "team@example.com", subject = "Status", body = "All green." });
        var body = await JsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("status").GetString().Should().Be("sent");
        body.GetProperty("to").GetString().Should().Be("team@example.com");
        _factory.Services.GetRequiredService<MinimalApi.Outbox>().Sent.Should().Contain(m => m.To == "team@example.com" && m.Subject == "Status");
    }

    [Fact]
    public async Task Session_WithHeader_ReportsTheJoinedSession()
    {
        using var client = _factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/session");
        request.Headers.Add("X-TapPass-Session-Id", "ses_sample_1");

        var body = await JsonAsync(await client.SendAsync(request));

        body.GetProperty("session_id").GetString().Should().Be("ses_sample_1");
    }
}
