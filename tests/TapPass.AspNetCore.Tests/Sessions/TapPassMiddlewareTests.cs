using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.Sessions;

public sealed class TapPassMiddlewareTests
{
    private const string AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001";

    private static void MapSessionEndpoint(WebApplication app) =>
        app.MapGet("/session", () =>
        {
            var s = TapPassSession.Current;
            return s is null
                ? Results.Ok(new Dictionary<string, object?> { ["present"] = false })
                : Results.Ok(new Dictionary<string, object?>
                {
                    ["present"] = true,
                    ["session_id"] = s.SessionId,
                    ["agent_uuid"] = s.AgentUuid,
                    ["task_id"] = s.TaskId,
                    ["audit_url"] = s.AuditUrl,
                    ["auto_opened"] = s.AutoOpened,
                });
        });

    private static HttpRequestMessage Get(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Fact]
    public async Task RequestWithSessionHeaders_JoinsThatSession()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var response = await host.Client.SendAsync(Get("/session",
            ("X-TapPass-Session-Id", "ses_joined"), ("X-TapPass-Agent-Uuid", AgentUuid), ("X-TapPass-Task-Id", "tsk_7")));
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("session_id").GetString().Should().Be("ses_joined");
        body.GetProperty("agent_uuid").GetString().Should().Be(AgentUuid);
        body.GetProperty("task_id").GetString().Should().Be("tsk_7");
        body.GetProperty("auto_opened").GetBoolean().Should().BeFalse();
        host.Transport.OpenCalls.Should().BeEmpty("a joined session is never opened");
    }

    [Fact]
    public async Task RequestWithSessionHeaders_EchoesThemOnTheResponse()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var response = await host.Client.SendAsync(Get("/session", ("X-TapPass-Session-Id", "ses_joined"), ("X-TapPass-Agent-Uuid", AgentUuid)));

        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_joined");
        response.Headers.GetValues("X-TapPass-Agent-Uuid").Should().Equal(AgentUuid);
    }

    [Theory]
    [InlineData("X-TapPass-Session")]
    [InlineData("X-Session-Id")]
    public async Task SessionHeaderAlias_IsAccepted(string alias)
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var body = await TestHost.ReadJsonAsync(await host.Client.SendAsync(Get("/session", (alias, "ses_alias"))));

        body.GetProperty("session_id").GetString().Should().Be("ses_alias");
    }

    [Fact]
    public async Task SessionHeaderAlias_WhenAliasesAreOff_IsIgnoredEvenIfMalformed()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.AcceptSessionHeaderAliases = false);

        var response = await host.Client.SendAsync(Get("/session", ("X-Session-Id", "app's own session; not TapPass")));
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        body.GetProperty("session_id").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task SessionHeaderAndAlias_NamingTheSameSession_AreAccepted()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var response = await host.Client.SendAsync(Get("/session", ("X-TapPass-Session-Id", "ses_same"), ("X-Session-Id", "ses_same")));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    public static TheoryData<string, string[], string> MalformedHeaders() => new()
    {
        { "X-TapPass-Session-Id", [new string('a', 129)], "X-TapPass-Session-Id" },
        { "X-TapPass-Session-Id", ["ses bad"], "X-TapPass-Session-Id" },
        { "X-TapPass-Session-Id", ["ses_1,ses_2"], "X-TapPass-Session-Id" },
        { "X-TapPass-Session-Id", ["ses_é"], "X-TapPass-Session-Id" },
        { "X-TapPass-Session-Id", ["ses_1", "ses_2"], "X-TapPass-Session-Id" },
        { "X-TapPass-Session-Id", ["ses_1", "ses_1"], "X-TapPass-Session-Id" },
        { "X-Session-Id", ["<script>"], "X-Session-Id" },
        { "X-TapPass-Agent-Uuid", ["not-a-uuid"], "X-TapPass-Agent-Uuid" },
        { "X-TapPass-Agent-Uuid", ["3f2b7c1e00004000800000000000000 1"], "X-TapPass-Agent-Uuid" },
        { "X-TapPass-Agent-Uuid", ["{3f2b7c1e-0000-4000-8000-000000000001}"], "X-TapPass-Agent-Uuid" },
        { "X-TapPass-Agent-Uuid", [AgentUuid, AgentUuid], "X-TapPass-Agent-Uuid" },
        { "X-TapPass-Task-Id", [new string('t', 500)], "X-TapPass-Task-Id" },
        { "X-TapPass-Task-Id", ["tsk/1"], "X-TapPass-Task-Id" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public async Task MalformedHeader_Answers400ProblemAndNeverRunsTheEndpoint(string header, string[] values, string reported)
    {
        var endpointRan = false;
        await using var host = await TestHost.StartAsync(app => app.MapGet("/session", () =>
        {
            endpointRan = true;
            return "ran";
        }));
        var request = new HttpRequestMessage(HttpMethod.Get, "/session");
        foreach (var value in values)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        var response = await host.Client.SendAsync(request);
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        body.GetProperty("type").GetString().Should().Be(TapPassProblemTypes.InvalidSessionHeader);
        body.GetProperty("header").GetString().Should().Be(reported);
        body.GetProperty("instance").GetString().Should().Be("/session");
        body.GetProperty("traceId").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("detail").GetString().Should().Contain(reported);
        endpointRan.Should().BeFalse();
        body.GetRawText().Should().NotContain(values[0], "hostile input is never reflected");
    }

    [Fact]
    public async Task ConflictingSessionHeaders_Answer400()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var response = await host.Client.SendAsync(Get("/session", ("X-TapPass-Session-Id", "ses_a"), ("X-TapPass-Session", "ses_b")));
        var body = await TestHost.ReadJsonAsync(response);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        body.GetProperty("header").GetString().Should().Be("X-TapPass-Session");
        body.GetProperty("detail").GetString().Should().Contain("different session");
    }

    [Fact]
    public async Task RequestWithoutHeaders_RunsInAnEmptySessionTheGatewayFills_AndEchoesTheAssignedIds()
    {
        await using var host = await TestHost.StartAsync(app => app.MapPost("/chat", async (ITapPassAgent agent) =>
        {
            var before = TapPassSession.Current!.SessionId;
            var answer = await agent.ChatAsync("hello");
            return Results.Ok(new { before, after = answer.SessionId });
        }));

        var response = await host.Client.PostAsync("/chat", null);
        var body = await TestHost.ReadJsonAsync(response);

        body.GetProperty("before").ValueKind.Should().Be(JsonValueKind.Null);
        body.GetProperty("after").GetString().Should().Be(FakeAgent.GatewaySessionId);
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal(FakeAgent.GatewaySessionId);
        response.Headers.GetValues("X-TapPass-Agent-Uuid").Should().Equal(FakeAgent.GatewayAgentUuid);
        host.Transport.OpenCalls.Should().BeEmpty();
    }

    [Fact]
    public async Task RequestWithoutHeadersOrCalls_CarriesNoSessionHeaders()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint);

        var response = await host.Client.GetAsync("/session");

        response.Headers.Contains("X-TapPass-Session-Id").Should().BeFalse();
        (await TestHost.ReadJsonAsync(response)).GetProperty("present").GetBoolean().Should().BeTrue("the session is set unconditionally");
    }

    [Fact]
    public async Task HeaderSetByTheEndpoint_IsNotOverwritten()
    {
        await using var host = await TestHost.StartAsync(app => app.MapGet("/own", (HttpContext ctx) =>
        {
            ctx.Response.Headers["X-TapPass-Session-Id"] = "ses_endpoint";
            return "ok";
        }));

        var response = await host.Client.SendAsync(Get("/own", ("X-TapPass-Session-Id", "ses_request")));

        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_endpoint");
    }

    [Fact]
    public async Task EmitSessionHeadersOff_WritesNoHeaders()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.EmitSessionHeaders = false);

        var response = await host.Client.SendAsync(Get("/session", ("X-TapPass-Session-Id", "ses_joined")));

        response.Headers.Contains("X-TapPass-Session-Id").Should().BeFalse();
    }

    [Fact]
    public async Task AutoOpenSession_OpensASessionForTheRequestAndClosesItAfterTheResponse()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.AutoOpenSession = true);

        var response = await host.Client.SendAsync(Get("/session", ("X-TapPass-Agent-Uuid", AgentUuid), ("X-TapPass-Task-Id", "tsk_3")));
        var body = await TestHost.ReadJsonAsync(response);
        var closed = await host.Transport.FirstClose.Task.WaitAsync(TimeSpan.FromSeconds(10));

        body.GetProperty("session_id").GetString().Should().Be("ses_auto_1");
        body.GetProperty("auto_opened").GetBoolean().Should().BeTrue();
        body.GetProperty("audit_url").GetString().Should().Be("http://gateway.test/audit/sessions/ses_auto_1");
        body.GetProperty("task_id").GetString().Should().Be("tsk_3");
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_auto_1");
        closed.Should().Be("ses_auto_1");
        host.Transport.OpenCalls.Should().ContainSingle().Which.Should().Match<TapPassCall>(c => c.AgentUuid == AgentUuid && c.TaskId == "tsk_3");
    }

    [Fact]
    public async Task AutoOpenSession_DefaultsToTheConfiguredOption()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, options: o => o.AutoOpenSession = true);

        var body = await TestHost.ReadJsonAsync(await host.Client.GetAsync("/session"));

        body.GetProperty("auto_opened").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task AutoOpenSession_RequestThatNamesASession_JoinsItInstead()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.AutoOpenSession = true);

        var body = await TestHost.ReadJsonAsync(await host.Client.SendAsync(Get("/session", ("X-TapPass-Session-Id", "ses_joined"))));

        body.GetProperty("session_id").GetString().Should().Be("ses_joined");
        host.Transport.OpenCalls.Should().BeEmpty();
        host.Transport.Closed.Should().BeEmpty();
    }

    [Fact]
    public async Task AutoOpenSession_IsClosedEvenWhenTheEndpointFails()
    {
        await using var host = await TestHost.StartAsync(
            app => app.MapGet("/blocked", IResult () => throw new PolicyBlockException { BlockedBy = "detect_pii" }),
            m => m.AutoOpenSession = true);

        var response = await host.Client.GetAsync("/blocked");
        var closed = await host.Transport.FirstClose.Task.WaitAsync(TimeSpan.FromSeconds(10));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_auto_1");
        (await TestHost.ReadJsonAsync(response)).GetProperty("session_id").GetString().Should().Be("ses_auto_1");
        closed.Should().Be("ses_auto_1");
    }

    [Fact]
    public async Task AutoOpenSession_GatewayUnreachable_Answers503AndNeverRunsTheEndpoint()
    {
        var ran = false;
        await using var host = await TestHost.StartAsync(app => app.MapGet("/x", () => ran = true), m => m.AutoOpenSession = true);
        host.Transport.OpenThrows = new TapPassConnectionException("refused", "http://gateway.test");

        var response = await host.Client.GetAsync("/x");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await TestHost.ReadJsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.GovernanceUnavailable);
        ran.Should().BeFalse();
    }

    [Fact]
    public async Task AutoOpenSession_GatewayRefuses_AnswersTheMappedDecision()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.AutoOpenSession = true);
        host.Transport.OpenReply = _ => TapPassReply<SessionResponse>.Fail(503, new ErrorBody
        {
            Type = ErrorTypes.BreakGlassActive,
            Message = "halted",
            Level = "halt",
        }, new TapPassReplyHeaders { RetryAfter = TimeSpan.FromSeconds(60) });

        var response = await host.Client.GetAsync("/session");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(60));
        (await TestHost.ReadJsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.BreakGlassActive);
    }

    [Fact]
    public async Task AutoOpenSession_MalformedIdFromTheGateway_IsRefused()
    {
        await using var host = await TestHost.StartAsync(MapSessionEndpoint, m => m.AutoOpenSession = true);
        host.Transport.OpenReply = _ => TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = "ses 1; drop" });

        var response = await host.Client.GetAsync("/session");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await TestHost.ReadJsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.GatewayError);
    }

    [Fact]
    public async Task ConnectionFailureInTheEndpoint_Answers503()
    {
        await using var host = await TestHost.StartAsync(app => app.MapPost("/chat", async (ITapPassAgent agent) => (await agent.ChatAsync("hi")).Content));
        host.Agent.Behaviour = (_, _, _) => throw new TapPassConnectionException("TapPass gateway unreachable.", "http://gateway.test");

        var response = await host.Client.PostAsync("/chat", null);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await TestHost.ReadJsonAsync(response)).GetProperty("type").GetString().Should().Be(TapPassProblemTypes.GovernanceUnavailable);
    }

    [Fact]
    public async Task EndpointHeadersAndStatus_AreClearedBeforeTheProblemIsWritten()
    {
        await using var host = await TestHost.StartAsync(app => app.MapGet("/x", IResult (HttpContext ctx) =>
        {
            ctx.Response.StatusCode = 201;
            ctx.Response.Headers["X-Partial"] = "1";
            throw new PolicyBlockException { BlockedBy = "detect_pii" };
        }));

        var response = await host.Client.SendAsync(Get("/x", ("X-TapPass-Session-Id", "ses_1")));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Headers.Contains("X-Partial").Should().BeFalse();
        response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_1");
    }

    [Fact]
    public async Task BackgroundWorkStartedByAHandler_SeesNoSessionAfterTheRequestEnded()
    {
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(string? During, TapPassSession? After)>? background = null;
        await using var host = await TestHost.StartAsync(app => app.MapGet("/background", async (HttpContext ctx) =>
        {
            ctx.Response.OnCompleted(() =>
            {
                completed.TrySetResult();
                return Task.CompletedTask;
            });
            var readDuring = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            background = Task.Run(async () =>
            {
                var during = TapPassSession.Current?.SessionId;
                readDuring.SetResult();
                await completed.Task;
                await Task.Delay(10);
                return (during, TapPassSession.Current);
            });
            await readDuring.Task;
            return "started";
        }));

        var response = await host.Client.SendAsync(Get("/background", ("X-TapPass-Session-Id", "ses_bg")));
        var (during, after) = await background!.WaitAsync(TimeSpan.FromSeconds(10));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        during.Should().Be("ses_bg", "work started inside the request sees its session");
        after.Should().BeNull("the session is cleared for every flow that captured it once the request ended");
    }

    [Fact]
    public async Task ManyParallelRequestsWithDistinctSessions_EachSeeOnlyTheirOwn()
    {
        await using var host = await TestHost.StartAsync(app => app.MapGet("/echo", async (HttpContext ctx) =>
        {
            var expected = ctx.Request.Headers["X-TapPass-Session-Id"].ToString();
            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(Random.Shared.Next(0, 5));
                if (TapPassSession.Current?.SessionId != expected)
                {
                    return Results.Problem("leak: saw " + TapPassSession.Current?.SessionId);
                }
            }

            return Results.Text(TapPassSession.Current!.SessionId);
        }));

        var tasks = Enumerable.Range(0, 200).Select(async i =>
        {
            var id = "ses_" + i;
            var response = await host.Client.SendAsync(Get("/echo", ("X-TapPass-Session-Id", id)));
            return (id, status: response.StatusCode, body: await response.Content.ReadAsStringAsync(),
                header: response.Headers.GetValues("X-TapPass-Session-Id").Single());
        });
        var results = await Task.WhenAll(tasks);

        results.Should().OnlyContain(r => r.status == HttpStatusCode.OK && r.body == r.id && r.header == r.id);
    }
}
