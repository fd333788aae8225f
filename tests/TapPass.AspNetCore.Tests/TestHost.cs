using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests;

/// <summary>
/// A test application on <see cref="TestServer"/>: the embedded-mode fake transport and a fake agent registered in
/// DI, <c>AddTapPass()</c>, <c>UseTapPass()</c>, then the test's endpoints.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app, FakeTransport transport, FakeAgent agent, CollectingLoggerProvider logs)
    {
        App = app;
        Transport = transport;
        Agent = agent;
        Logs = logs;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public FakeTransport Transport { get; }

    public FakeAgent Agent { get; }

    public CollectingLoggerProvider Logs { get; }

    public HttpClient Client { get; }

    public static async Task<TestHost> StartAsync(
        Action<WebApplication> endpoints,
        Action<TapPassMiddlewareOptions>? middleware = null,
        Action<TapPassOptions>? options = null,
        Action<WebApplicationBuilder>? services = null,
        Action<WebApplication>? beforeTapPass = null,
        bool useTapPass = true,
        IDictionary<string, string?>? configuration = null,
        bool registerTransport = true)
    {
        var builder = CreateBuilder(configuration);
        var transport = new FakeTransport();
        var agent = new FakeAgent();
        var logs = new CollectingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        if (registerTransport)
        {
            builder.Services.AddSingleton<ITapPassTransport>(transport);
        }

        builder.Services.AddScoped<ITapPassAgent>(_ => agent);
        services?.Invoke(builder);
        builder.Services.AddTapPass(options);

        var app = builder.Build();
        beforeTapPass?.Invoke(app);
        if (useTapPass)
        {
            app.UseTapPass(middleware);
        }

        endpoints(app);
        await app.StartAsync();
        return new TestHost(app, transport, agent, logs);
    }

    /// <summary>A builder isolated from the machine: no environment variables, no appsettings files.</summary>
    public static WebApplicationBuilder CreateBuilder(IDictionary<string, string?>? configuration = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(TestHost).Assembly.GetName().Name,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>());
        builder.WebHost.UseTestServer();
        return builder;
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
