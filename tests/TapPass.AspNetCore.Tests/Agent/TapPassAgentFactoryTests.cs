using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.Agent;

/// <summary>
/// The agent AddTapPass() registers. (Excluded from compilation until TapPassAgent is merged into TapPass.Core,
/// together with src/TapPass.AspNetCore/Agent/TapPassAgentFactory.cs.)
/// </summary>
public sealed class TapPassAgentFactoryTests
{
    private const string Key = "tp_0123456789abcdefghijABCDEFGHIJ";

    private static ServiceProvider Build(bool embedded)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        if (embedded)
        {
            services.AddSingleton<ITapPassTransport>(new FakeTransport());
        }

        services.AddTapPass(o =>
        {
            o.Url = embedded ? null : "http://gateway.test:9620";
            o.ApiKey = Key;
            o.Model = "gpt-4o";
        });
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddTapPass_RegistersTheAgentScoped()
    {
        var services = new ServiceCollection().AddTapPass();

        services.Single(d => d.ServiceType == typeof(ITapPassAgent)).Lifetime.Should().Be(ServiceLifetime.Scoped);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Create_BuildsATapPassAgentWithTheConfiguredModel(bool embedded)
    {
        using var provider = Build(embedded);
        using var scope = provider.CreateScope();

        var agent = scope.ServiceProvider.GetRequiredService<ITapPassAgent>();

        agent.Should().BeOfType<TapPassAgent>();
        agent.Model.Should().Be("gpt-4o");
    }

    [Fact]
    public void EachRequestScope_GetsItsOwnAgentAndHistory()
    {
        using var provider = Build(embedded: true);
        using var first = provider.CreateScope();
        using var second = provider.CreateScope();

        first.ServiceProvider.GetRequiredService<ITapPassAgent>().Should()
            .NotBeSameAs(second.ServiceProvider.GetRequiredService<ITapPassAgent>());
        first.ServiceProvider.GetRequiredService<ITapPassAgent>().Should()
            .BeSameAs(first.ServiceProvider.GetRequiredService<ITapPassAgent>());
    }
}
