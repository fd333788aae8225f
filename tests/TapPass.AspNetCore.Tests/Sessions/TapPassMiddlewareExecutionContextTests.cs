using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TapPass.AspNetCore.Tests.Sessions;

/// <summary>
/// The middleware never writes the ambient session into its caller's execution context (a server's connection loop)
/// and never restores it there either: it enters the session inside its own async method, whose return restores the
/// caller's context, and marks the session ended for flows that captured it. Driven without a server, as a server's
/// connection loop drives the pipeline.
/// </summary>
public sealed class TapPassMiddlewareExecutionContextTests : IDisposable
{
    private static readonly AsyncLocal<string?> CallerValue = new();
    private readonly ServiceProvider _services;

    public TapPassMiddlewareExecutionContextTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddTapPass(o =>
        {
            o.Url = "http://localhost:9620";
            o.ApiKey = "tp_test0123456789abcdefghijklmnopq";
        });
        _services = services.BuildServiceProvider();
    }

    public void Dispose() => _services.Dispose();

    private RequestDelegate Pipeline(RequestDelegate endpoint)
    {
        var app = new ApplicationBuilder(_services);
        app.UseTapPass();
        app.Run(endpoint);
        return app.Build();
    }

    private static DefaultHttpContext Request(string? sessionId)
    {
        var context = new DefaultHttpContext();
        if (sessionId is not null)
        {
            context.Request.Headers["X-TapPass-Session-Id"] = sessionId;
        }

        return context;
    }

    [Fact]
    public void SynchronousRequest_LeavesTheCallersExecutionContextExactlyAsItWas()
    {
        CallerValue.Value = "connection-loop";
        var before = ExecutionContext.Capture();
        string? seen = null;
        var pipeline = Pipeline(_ =>
        {
            seen = TapPassSession.Current?.SessionId;
            return Task.CompletedTask;
        });

        var task = pipeline(Request("ses_sync"));

        task.IsCompletedSuccessfully.Should().BeTrue();
        seen.Should().Be("ses_sync");
        TapPassSession.Current.Should().BeNull();
        ExecutionContext.Capture().Should().BeSameAs(before, "the caller's context is restored, not rewritten (no new context or value map)");
        CallerValue.Value.Should().Be("connection-loop");
    }

    [Fact]
    public async Task AsynchronousRequest_NeverMakesTheSessionAmbientInTheCaller_BeforeOrAfterItCompletes()
    {
        CallerValue.Value = "connection-loop";
        var before = ExecutionContext.Capture();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? seenAfterAwait = null;
        var pipeline = Pipeline(async _ =>
        {
            await release.Task;
            seenAfterAwait = TapPassSession.Current?.SessionId;
        });

        var task = pipeline(Request("ses_async"));
        ExecutionContext.Capture().Should().BeSameAs(before);
        TapPassSession.Current.Should().BeNull();
        release.SetResult();
        await task;

        seenAfterAwait.Should().Be("ses_async");
        TapPassSession.Current.Should().BeNull();
        CallerValue.Value.Should().Be("connection-loop");
    }

    [Fact]
    public async Task SequentialSynchronousRequestsOnOneFlow_NeverSeeTheLastOnesSession_AndItsLeakedWorkSeesNull()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<TapPassSession?>();
        Task<TapPassSession?>? leaked = null;
        var pipeline = Pipeline(_ =>
        {
            seen.Add(TapPassSession.Current);
            leaked ??= Task.Run(async () =>
            {
                await release.Task;
                return TapPassSession.Current;
            });
            return Task.CompletedTask;
        });

        // Like HTTP/1.1 keep-alive: the connection loop runs one request after another on the same flow.
        pipeline(Request("ses_first")).IsCompletedSuccessfully.Should().BeTrue();
        pipeline(Request(null)).IsCompletedSuccessfully.Should().BeTrue();
        pipeline(Request("ses_third")).IsCompletedSuccessfully.Should().BeTrue();
        release.SetResult();

        seen[0]!.SessionId.Should().Be("ses_first");
        seen[1].Should().NotBeNull().And.NotBeSameAs(seen[0], "a request without headers gets a fresh session, never the previous one");
        seen[1]!.SessionId.Should().BeNull();
        seen[2]!.SessionId.Should().Be("ses_third");
        (await leaked!).Should().BeNull("work the first request left running must not see its session after the request");
    }

    [Fact]
    public void Request_InsideAnApplicationScope_RunsInItsOwnSession_AndLeavesTheOuterScopeAmbient()
    {
        using var outer = TapPassSession.Begin("ses_app_scope");
        TapPassSession? inner = null;
        var pipeline = Pipeline(_ =>
        {
            inner = TapPassSession.Current;
            return Task.CompletedTask;
        });

        pipeline(Request("ses_request")).IsCompletedSuccessfully.Should().BeTrue();

        inner!.SessionId.Should().Be("ses_request");
        TapPassSession.Current.Should().BeSameAs(outer.Session);
    }
}
