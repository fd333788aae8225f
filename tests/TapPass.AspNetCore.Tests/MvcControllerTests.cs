using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace TapPass.AspNetCore.Tests;

public sealed class MvcControllerTests
{
    private static Task<TestHost> StartAsync() => TestHost.StartAsync(
        app => app.MapControllers(),
        services: b => b.Services.AddControllers().AddApplicationPart(typeof(GovernedController).Assembly));

    [Fact]
    public async Task Controller_SeesTheJoinedSessionThroughTheAmbientSession()
    {
        await using var host = await StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/mvc/session");
        request.Headers.Add("X-TapPass-Session-Id", "ses_mvc");

        var response = await host.Client.SendAsync(request);

        (await response.Content.ReadAsStringAsync()).Should().Be("ses_mvc");
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_mvc");
    }

    [Fact]
    public async Task Controller_DecisionBecomesAProblem()
    {
        await using var host = await StartAsync();

        var response = await host.Client.PostAsync("/mvc/chat", null);
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        body.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.PolicyBlock);
        body.GetProperty("blocked_by").GetString().Should().Be("detect_pii");
        body.GetProperty("instance").GetString().Should().Be("/mvc/chat");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Controller_DecisionProblem_HasExactlyOneTraceId_SpelledAsTheMvcWriterSpellsIt(bool snakeCase)
    {
        await using var host = await TestHost.StartAsync(
            app => app.MapControllers(),
            services: b =>
            {
                var mvc = b.Services.AddControllers().AddApplicationPart(typeof(GovernedController).Assembly);
                if (snakeCase)
                {
                    b.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
                    mvc.AddJsonOptions(o => o.JsonSerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
                }
            });

        var response = await host.Client.PostAsync("/mvc/chat", null);
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        Errors.TraceIdMemberTests.TraceIdMembers(body).Should().Equal(["traceId"], "the MVC problem writer of [ApiController] endpoints adds it so, whatever the naming policy: " + body);
    }

    [Fact]
    public async Task Controller_GetsTheInjectedAgent()
    {
        await using var host = await StartAsync();

        var response = await host.Client.GetAsync("/mvc/agent");

        (await response.Content.ReadAsStringAsync()).Should().Be("echo: from mvc");
    }
}

[ApiController]
[Route("mvc")]
public sealed class GovernedController(ITapPassAgent agent) : ControllerBase
{
    [HttpGet("session")]
    public string? Session() => TapPassSession.Current?.SessionId;

    [HttpGet("agent")]
    public async Task<string> Agent(CancellationToken cancellationToken) => (await agent.ChatAsync("from mvc", cancellationToken: cancellationToken)).Content;

    [HttpPost("chat")]
    public IActionResult Chat() => throw new PolicyBlockException("blocked") { BlockedBy = "detect_pii", Reason = "PII detected" };
}
