using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TapPass.AspNetCore.Sessions;
using TapPass.AspNetCore.Tests.Fakes;

namespace TapPass.AspNetCore.Tests.Sessions;

public sealed class TapPassSessionLifecycleTests
{
    private const string Key = "tp_0123456789abcdefghijABCDEFGHIJ";
    private const string AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001";

    private static (ITapPassSessionLifecycle Lifecycle, FakeHttpMessageHandler Handler, ServiceProvider Provider) Create()
    {
        var handler = new FakeHttpMessageHandler();
        var (lifecycle, provider) = CreateWithHandler(handler, null);
        return (lifecycle, handler, provider);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task Open_OverHttp_PostsToTheSessionsEndpointWithTheKeyAndIds()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.OK,
            """{"session_id":"ses_new","agent_uuid":"3f2b7c1e-0000-4000-8000-000000000001","audit_url":"http://gateway.test/audit/sessions/ses_new"}""");

        var session = await lifecycle.OpenAsync(AgentUuid, "tsk_1", CancellationToken.None);

        session.SessionId.Should().Be("ses_new");
        session.AuditUrl.Should().Be("http://gateway.test/audit/sessions/ses_new");
        var (request, body) = handler.Requests.Single();
        request.Method.Should().Be(HttpMethod.Post);
        request.RequestUri.Should().Be(new Uri("http://gateway.test:9620/v1/sessions"));
        request.Headers.Authorization!.ToString().Should().Be("Bearer " + Key);
        request.Headers.GetValues("X-TapPass-Agent-Uuid").Should().Equal(AgentUuid);
        request.Headers.GetValues("X-TapPass-Task-Id").Should().Equal("tsk_1");
        body.Should().Be("{}");
    }

    [Fact]
    public async Task Close_OverHttp_SendsDeleteForTheSession()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.OK, """{"session_id":"ses_1","closed":true}""");

        await lifecycle.CloseAsync("ses_1", AgentUuid, CancellationToken.None);

        var request = handler.Requests.Single().Request;
        request.Method.Should().Be(HttpMethod.Delete);
        request.RequestUri.Should().Be(new Uri("http://gateway.test:9620/v1/sessions/ses_1"));
        request.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_1");
    }

    [Fact]
    public async Task Close_SessionAlreadyGone_IsNotAnError()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.NotFound, """{"error":{"type":"not_found","message":"no such session"}}""");

        var act = () => lifecycle.CloseAsync("ses_1", null, CancellationToken.None);

        await act.Should().NotThrowAsync();
    }

    [Fact]
    public async Task Open_GatewayRejectsTheKey_ThrowsAuthentication()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.Unauthorized, """{"error":{"type":"unauthorized","message":"bad key"}}""");

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        await act.Should().ThrowAsync<TapPassAuthenticationException>();
    }

    [Fact]
    public async Task Open_BreakGlass_ThrowsItWithRetryAfter()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ =>
        {
            var response = Json(HttpStatusCode.ServiceUnavailable, """{"error":{"type":"break_glass_active","message":"halted","level":"halt"}}""");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(90));
            return response;
        };

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        (await act.Should().ThrowAsync<BreakGlassActiveException>()).Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(90));
    }

    [Theory]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Open_ProxyErrorWithoutEnvelope_ThrowsConnection(int status)
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent("<html>bad gateway</html>") };

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        await act.Should().ThrowAsync<TapPassConnectionException>();
    }

    [Fact]
    public async Task Open_ConnectFailure_ThrowsConnection()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => throw new HttpRequestException("connection refused");

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        (await act.Should().ThrowAsync<TapPassConnectionException>()).Which.Url.Should().Be("http://gateway.test:9620");
    }

    [Fact]
    public async Task Open_OversizedAnswer_IsRefused()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.OK, "{\"session_id\":\"" + new string('a', 70_000) + "\"}");

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        (await act.Should().ThrowAsync<TapPassException>()).Which.Message.Should().Contain("more than");
    }

    [Fact]
    public async Task Open_MalformedJson_IsRefused()
    {
        var (lifecycle, handler, provider) = Create();
        using var _ = provider;
        handler.Respond = _ => Json(HttpStatusCode.OK, "{not json");

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        await act.Should().ThrowAsync<TapPassException>();
    }

    [Fact]
    public async Task Open_GatewayNeverAnswers_TimesOutAsConnectionFailure()
    {
        var (lifecycle, provider) = CreateWithHandler(new SlowHandler(), new ImmediateTimeoutTimeProvider());
        using var _ = provider;

        var act = () => lifecycle.OpenAsync(null, null, CancellationToken.None);

        await act.Should().ThrowAsync<TapPassConnectionException>().WithMessage("*timed out*");
    }

    [Fact]
    public async Task Open_CallerCancels_PropagatesCancellation()
    {
        var (lifecycle, provider) = CreateWithHandler(new SlowHandler(), null);
        using var _ = provider;
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        var act = () => lifecycle.OpenAsync(null, null, cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    private static (ITapPassSessionLifecycle, ServiceProvider) CreateWithHandler(HttpMessageHandler handler, TimeProvider? time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddTapPass(o =>
        {
            o.Url = "http://gateway.test:9620";
            o.ApiKey = Key;
        });
        services.AddHttpClient(TapPassOptions.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<ITapPassSessionLifecycle>(), provider);
    }

    /// <summary>Waits until the call is cancelled.</summary>
    private sealed class SlowHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    /// <summary>A clock whose timers fire at once: every deadline has already passed.</summary>
    private sealed class ImmediateTimeoutTimeProvider : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
