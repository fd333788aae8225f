using TapPass.Governance;

namespace Microsoft.Extensions.AI;

/// <summary>Puts an <see cref="IChatClient"/> under TapPass governance (<see cref="TapPassChatClient"/>).</summary>
public static class TapPassGovernedChatClientExtensions
{
    /// <summary>
    /// Wraps <paramref name="innerClient"/> in a <see cref="TapPassChatClient"/> that governs every call with the engine
    /// registered in <paramref name="services"/> (<c>AddTapPassEmbeddedGateway</c> or <c>AddTapPassEngine</c>).
    /// </summary>
    /// <param name="innerClient">The client that answers.</param>
    /// <param name="services">Services holding the engine.</param>
    /// <param name="configure">Default flags and exception options.</param>
    /// <exception cref="InvalidOperationException">The engine is not registered.</exception>
    public static TapPassChatClient WithTapPass(this IChatClient innerClient, IServiceProvider services, Action<TapPassChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(innerClient);
        ArgumentNullException.ThrowIfNull(services);
        var options = new TapPassChatClientOptions();
        configure?.Invoke(options);
        return new TapPassChatClient(innerClient, services, options);
    }
}
