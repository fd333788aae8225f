using Microsoft.Extensions.DependencyInjection;
using TapPass.Core.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.Core.Tests.DependencyInjection;

public sealed class TapPassServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddTapPassAgent_ResolvesAgentOverNamedHttpClient()
    {
        var gateway = new FakeGateway();
        var services = new ServiceCollection();
        services.AddTapPassAgent(o =>
        {
            o.Url = FakeGateway.Url;
            o.ApiKey = FakeGateway.ApiKey;
            o.Model = "gpt-4o";
        }).ConfigurePrimaryHttpMessageHandler(() => gateway);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await using var scope = provider.CreateAsyncScope();

        var agent = scope.ServiceProvider.GetRequiredService<ITapPassAgent>();
        var response = await agent.ChatAsync("hi");

        agent.Should().BeOfType<TapPassAgent>();
        agent.Model.Should().Be("gpt-4o");
        response.Content.Should().Be("echo: hi");
        gateway.ChatRequests.Single().Header("Authorization").Should().Be("Bearer " + FakeGateway.ApiKey);
    }

    [Fact]
    public async Task AddTapPassAgent_IsScopedByDefault_OneHistoryPerScope()
    {
        var gateway = new FakeGateway();
        var services = new ServiceCollection();
        services.AddTapPassAgent(o =>
        {
            o.Url = FakeGateway.Url;
            o.VerifyGatewayVersion = false;
        }).ConfigurePrimaryHttpMessageHandler(() => gateway);
        await using var provider = services.BuildServiceProvider();

        ITapPassAgent first;
        await using (var scope = provider.CreateAsyncScope())
        {
            first = scope.ServiceProvider.GetRequiredService<ITapPassAgent>();
            scope.ServiceProvider.GetRequiredService<ITapPassAgent>().Should().BeSameAs(first);
            await first.ChatAsync("in scope one");
        }

        await using var other = provider.CreateAsyncScope();
        var second = other.ServiceProvider.GetRequiredService<ITapPassAgent>();
        second.Should().NotBeSameAs(first);
        second.History.Should().BeEmpty();
    }

    [Fact]
    public void AddTapPassAgent_SingletonLifetime_IsHonoured()
    {
        var services = new ServiceCollection();
        services.AddTapPassAgent(o => o.Url = FakeGateway.Url, ServiceLifetime.Singleton);
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ITapPassAgent>().Should().BeSameAs(provider.GetRequiredService<ITapPassAgent>());
        services.Single(d => d.ServiceType == typeof(ITapPassAgent)).Lifetime.Should().Be(ServiceLifetime.Singleton);
    }

    [Fact]
    public async Task AddTapPassAgent_WithRegisteredTransport_UsesEmbeddedMode()
    {
        var transport = new FakeTransport();
        var services = new ServiceCollection();
        services.AddSingleton<ITapPassTransport>(transport);
        services.AddTapPassAgent();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        var response = await scope.ServiceProvider.GetRequiredService<ITapPassAgent>().ChatAsync("x");

        response.Content.Should().Be("embedded: x");
        transport.Calls.Should().ContainSingle();
    }

    [Fact]
    public void AddTapPassAgent_CalledTwice_RegistersOneAgent()
    {
        var services = new ServiceCollection();
        services.AddTapPassAgent(o => o.Url = FakeGateway.Url);
        services.AddTapPassAgent(o => o.Model = "gpt-4o");
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();

        services.Count(d => d.ServiceType == typeof(ITapPassAgent)).Should().Be(1);
        scope.ServiceProvider.GetRequiredService<ITapPassAgent>().Model.Should().Be("gpt-4o");
    }

    [Fact]
    public void AddTapPassAgent_NullServices_Throws()
    {
        FluentActions.Invoking(() => TapPassServiceCollectionExtensions.AddTapPassAgent(null!)).Should().Throw<ArgumentNullException>();
        TapPassServiceCollectionExtensions.HttpClientName.Should().Be("TapPass");
    }
}
