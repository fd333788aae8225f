using TapPass.AspNetCore.Http;
using TapPass.AspNetCore.Tests.Fakes;

namespace TapPass.AspNetCore.Tests.Http;

public sealed class TapPassHeaderPropagationHandlerTests
{
    private const string AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001";

    private static (HttpMessageInvoker Invoker, FakeHttpMessageHandler Inner) Create()
    {
        var inner = new FakeHttpMessageHandler();
        return (new HttpMessageInvoker(new TapPassHeaderPropagationHandler { InnerHandler = inner }), inner);
    }

    [Fact]
    public async Task InsideASession_StampsItsHeaders()
    {
        var (invoker, inner) = Create();
        using var scope = TapPassSession.Begin("ses_out", AgentUuid, "tsk_out");

        await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/"), default);

        var sent = inner.Requests.Single().Request.Headers;
        sent.GetValues("X-TapPass-Session-Id").Should().Equal("ses_out");
        sent.GetValues("X-TapPass-Agent-Uuid").Should().Equal(AgentUuid);
        sent.GetValues("X-TapPass-Task-Id").Should().Equal("tsk_out");
    }

    [Fact]
    public async Task IdsTheGatewayAssignedLater_ArePropagated()
    {
        var (invoker, inner) = Create();
        using var scope = TapPassSession.Begin();
        scope.Session.Observe("ses_assigned", AgentUuid, null);

        await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/"), default);

        inner.Requests.Single().Request.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_assigned");
    }

    [Fact]
    public async Task HeadersTheCallerSet_AreNeverOverwritten()
    {
        var (invoker, inner) = Create();
        using var scope = TapPassSession.Begin("ses_out", AgentUuid, "tsk_out");
        var request = new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/");
        request.Headers.Add("X-TapPass-Session-Id", "ses_caller");
        request.Headers.Add("X-TapPass-Agent-Uuid", "00000000-0000-4000-8000-000000000000");
        request.Headers.Add("X-TapPass-Task-Id", "tsk_caller");

        await invoker.SendAsync(request, default);

        var sent = inner.Requests.Single().Request.Headers;
        sent.GetValues("X-TapPass-Session-Id").Should().Equal("ses_caller");
        sent.GetValues("X-TapPass-Agent-Uuid").Should().Equal("00000000-0000-4000-8000-000000000000");
        sent.GetValues("X-TapPass-Task-Id").Should().Equal("tsk_caller");
    }

    [Fact]
    public async Task SessionAliasTheCallerSet_CountsAsSet()
    {
        var (invoker, inner) = Create();
        using var scope = TapPassSession.Begin("ses_out");
        var request = new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/");
        request.Headers.Add("X-Session-Id", "ses_caller");

        await invoker.SendAsync(request, default);

        inner.Requests.Single().Request.Headers.Contains("X-TapPass-Session-Id").Should().BeFalse();
    }

    [Fact]
    public async Task OutsideASession_AddsNothing()
    {
        var (invoker, inner) = Create();

        await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/"), default);

        inner.Requests.Single().Request.Headers.Should().BeEmpty();
    }

    [Fact]
    public async Task AfterTheScopeEnded_AddsNothing()
    {
        var (invoker, inner) = Create();
        var scope = TapPassSession.Begin("ses_old");
        scope.Dispose();

        await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://downstream.test/"), default);

        inner.Requests.Single().Request.Headers.Should().BeEmpty();
    }
}
