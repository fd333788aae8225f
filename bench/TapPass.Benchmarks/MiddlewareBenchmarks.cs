using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TapPass.Benchmarks;

/// <summary>
/// Per-request overhead of <c>UseTapPass()</c>: the same pipeline (a terminal endpoint that reads
/// <see cref="TapPassSession.Current"/>) with and without the middleware, over a reused <see cref="DefaultHttpContext"/>
/// whose response feature keeps and fires <c>OnStarting</c> callbacks as a server does.
/// Run: <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *MiddlewareBenchmarks*</c>
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MiddlewareBenchmarks
{
    private ServiceProvider _services = null!;
    private RequestDelegate _without = null!;
    private RequestDelegate _with = null!;
    private DefaultHttpContext _plain = null!;
    private DefaultHttpContext _joined = null!;
    private ServerLikeResponseFeature _plainResponse = null!;
    private ServerLikeResponseFeature _joinedResponse = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddTapPass(o =>
        {
            o.Url = "http://localhost:9620";
            o.ApiKey = "tp_benchmark0123456789abcdefghijkl";
        });
        _services = services.BuildServiceProvider();

        static Task Endpoint(HttpContext context)
        {
            context.Response.StatusCode = TapPassSession.Current is null ? 200 : 204;
            return Task.CompletedTask;
        }

        var without = new ApplicationBuilder(_services);
        without.Run(Endpoint);
        _without = without.Build();

        var with = new ApplicationBuilder(_services);
        with.UseTapPass();
        with.Run(Endpoint);
        _with = with.Build();

        (_plain, _plainResponse) = CreateContext(joined: false);
        (_joined, _joinedResponse) = CreateContext(joined: true);
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [BenchmarkCategory("NoSessionHeaders"), Benchmark(Baseline = true)]
    public Task NoHeaders_WithoutTapPass() => RunAsync(_without, _plain, _plainResponse);

    [BenchmarkCategory("NoSessionHeaders"), Benchmark]
    public Task NoHeaders_WithTapPass() => RunAsync(_with, _plain, _plainResponse);

    [BenchmarkCategory("JoinSession"), Benchmark(Baseline = true)]
    public Task Join_WithoutTapPass() => RunAsync(_without, _joined, _joinedResponse);

    [BenchmarkCategory("JoinSession"), Benchmark]
    public Task Join_WithTapPass() => RunAsync(_with, _joined, _joinedResponse);

    private static async Task RunAsync(RequestDelegate pipeline, DefaultHttpContext context, ServerLikeResponseFeature response)
    {
        await pipeline(context);
        await response.StartAsync();
        response.Reset();
    }

    private static (DefaultHttpContext, ServerLikeResponseFeature) CreateContext(bool joined)
    {
        var response = new ServerLikeResponseFeature();
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature { Method = "GET", Path = "/chat" });
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var context = new DefaultHttpContext(features);
        if (joined)
        {
            context.Request.Headers["X-TapPass-Session-Id"] = "ses_0123456789abcdef";
            context.Request.Headers["X-TapPass-Agent-Uuid"] = "3f2b7c1e-0000-4000-8000-000000000001";
            context.Request.Headers["X-TapPass-Task-Id"] = "tsk_42";
        }

        return (context, response);
    }

    /// <summary>Keeps <c>OnStarting</c> callbacks in a reused array and fires them, like a server's response.</summary>
    private sealed class ServerLikeResponseFeature : HttpResponseFeature
    {
        private readonly (Func<object, Task> Callback, object State)[] _onStarting = new (Func<object, Task>, object)[4];
        private int _count;

        public override void OnStarting(Func<object, Task> callback, object state) => _onStarting[_count++] = (callback, state);

        public async Task StartAsync()
        {
            for (var i = _count - 1; i >= 0; i--)
            {
                await _onStarting[i].Callback(_onStarting[i].State);
            }
        }

        public void Reset()
        {
            Array.Clear(_onStarting, 0, _count);
            _count = 0;
            Headers.Clear();
            StatusCode = 200;
        }
    }
}
