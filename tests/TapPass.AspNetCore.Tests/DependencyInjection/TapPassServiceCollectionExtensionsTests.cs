using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.DependencyInjection;

public sealed class TapPassServiceCollectionExtensionsTests
{
    private const string Key = "tp_0123456789abcdefghijABCDEFGHIJ";

    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        configure(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddTapPass_CalledTwice_RegistersOneExceptionHandlerAndRunsBothCallbacks()
    {
        using var provider = Build(s => s
            .AddSingleton<ITapPassTransport>(new FakeTransport())
            .AddTapPass(o => o.Model = "first")
            .AddTapPass(o => o.MaxRetries = 5));

        provider.GetServices<IExceptionHandler>().Should().ContainSingle();
        provider.GetServices<IValidateOptions<TapPassOptions>>().Should().ContainSingle();
        var options = provider.GetRequiredService<IOptions<TapPassOptions>>().Value;
        options.Model.Should().Be("first");
        options.MaxRetries.Should().Be(5);
    }

    [Fact]
    public void AddTapPass_RegistersProblemDetails()
    {
        using var provider = Build(s => s.AddSingleton<ITapPassTransport>(new FakeTransport()).AddTapPass());

        provider.GetService<IProblemDetailsService>().Should().NotBeNull();
    }

    [Fact]
    public void AddTapPass_KeepsAnAgentRegisteredBefore()
    {
        var agent = new FakeAgent();
        using var provider = Build(s => s
            .AddSingleton<ITapPassTransport>(new FakeTransport())
            .AddScoped<ITapPassAgent>(_ => agent)
            .AddTapPass());
        using var scope = provider.CreateScope();

        scope.ServiceProvider.GetRequiredService<ITapPassAgent>().Should().BeSameAs(agent);
    }

    [Fact]
    public void AddTapPass_PointsTheNamedHttpClientAtTheGateway()
    {
        using var provider = Build(s => s.AddTapPass(o =>
        {
            o.Url = "http://gateway.test:9620/base";
            o.ApiKey = Key;
            o.Timeout = TimeSpan.FromSeconds(7);
        }));

        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(TapPassOptions.HttpClientName);

        client.BaseAddress.Should().Be(new Uri("http://gateway.test:9620/base/"));
        client.Timeout.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task InvalidOptions_FailTheHostAtStartup()
    {
        var builder = TestHost.CreateBuilder(new Dictionary<string, string?> { ["TapPass:Flags"] = "pii=sometimes" });
        builder.Services.AddSingleton<ITapPassTransport>(new FakeTransport());
        builder.Services.AddTapPass();
        await using var app = builder.Build();

        var act = () => app.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("TAPPASS_FLAGS");
    }

    [Fact]
    public async Task AddTapPassHeaderPropagation_AddsTheHandlerToTheClient()
    {
        var inner = new FakeHttpMessageHandler();
        using var provider = Build(s => s.AddHttpClient("downstream")
            .ConfigurePrimaryHttpMessageHandler(() => inner)
            .AddTapPassHeaderPropagation());
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("downstream");

        using (TapPassSession.Begin("ses_prop"))
        {
            (await client.GetAsync("http://downstream.test/")).Dispose();
        }

        inner.Requests.Should().ContainSingle().Which.Request.Headers.GetValues("X-TapPass-Session-Id").Should().Equal("ses_prop");
    }
}
