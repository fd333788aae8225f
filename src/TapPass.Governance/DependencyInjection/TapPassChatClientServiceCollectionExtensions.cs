using Microsoft.Extensions.AI;
using TapPass.Governance;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a governed <see cref="IChatClient"/>.</summary>
public static class TapPassChatClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IChatClient"/> (singleton) as a <see cref="TapPassChatClient"/> over the client
    /// <paramref name="innerClientFactory"/> creates, governed by the engine of <c>AddTapPassEmbeddedGateway</c> or
    /// <c>AddTapPassEngine</c> (which must also be called; resolving the client without it throws
    /// <see cref="InvalidOperationException"/>). Like any registration, the last <see cref="IChatClient"/> registered wins;
    /// the inner client should therefore not be resolved as <see cref="IChatClient"/> from the same container.
    /// </summary>
    /// <param name="services">Services.</param>
    /// <param name="innerClientFactory">Creates the client that answers (the model).</param>
    /// <param name="configure">Default flags and exception options.</param>
    public static IServiceCollection AddTapPassChatClient(this IServiceCollection services, Func<IServiceProvider, IChatClient> innerClientFactory, Action<TapPassChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(innerClientFactory);
        services.AddSingleton<IChatClient>(sp => innerClientFactory(sp).WithTapPass(sp, configure));
        return services;
    }
}
