using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass;
using TapPass.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the TapPass SDK in a service collection (any host; ASP.NET Core adds <c>AddTapPass</c> on top).</summary>
public static class TapPassServiceCollectionExtensions
{
    /// <summary>Name of the <see cref="HttpClient"/> the agent sends with (configure it through the returned builder).</summary>
    public const string HttpClientName = "TapPass";

    /// <summary>
    /// Registers <see cref="ITapPassAgent"/>: a <see cref="TapPassAgent"/> configured from
    /// <see cref="TapPassAgentOptions"/> (and the <c>TAPPASS_*</c> environment variables for unset values). When an
    /// <see cref="ITapPassTransport"/> is registered (embedded mode), the agent uses it; otherwise it sends over the
    /// named <see cref="HttpClient"/> <see cref="HttpClientName"/> from <c>IHttpClientFactory</c>.
    /// </summary>
    /// <remarks>
    /// An agent keeps a conversation history, so it is registered <see cref="ServiceLifetime.Scoped"/> by default: one
    /// agent per scope (per HTTP request in ASP.NET Core; create scopes with <c>IServiceScopeFactory</c> in workers).
    /// Pass <see cref="ServiceLifetime.Singleton"/> only for an agent whose history every caller may share.
    /// Calling this twice keeps the first registration of the agent and applies both configurations.
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options; may be null when configuration comes from elsewhere.</param>
    /// <param name="lifetime">Lifetime of the agent. Default scoped.</param>
    /// <returns>The builder of the named HTTP client, to add handlers or configure it.</returns>
    public static IHttpClientBuilder AddTapPassAgent(
        this IServiceCollection services,
        Action<TapPassAgentOptions>? configure = null,
        ServiceLifetime lifetime = ServiceLifetime.Scoped)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<TapPassAgentOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        services.TryAdd(new ServiceDescriptor(typeof(ITapPassAgent), CreateAgent, lifetime));

        // The agent enforces its own total and per-attempt timeouts.
        return services.AddHttpClient(HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan);
    }

    private static TapPassAgent CreateAgent(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TapPassAgentOptions>>().Value;
        var loggerFactory = services.GetService<ILoggerFactory>();
        var timeProvider = services.GetService<TimeProvider>();
        if (services.GetService<ITapPassTransport>() is { } transport)
        {
            return new TapPassAgent(options, transport, loggerFactory, timeProvider);
        }

        var httpClient = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        return new TapPassAgent(options, httpClient, loggerFactory, timeProvider);
    }
}
