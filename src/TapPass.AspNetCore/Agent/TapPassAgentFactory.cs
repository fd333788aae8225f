using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TapPass;
using TapPass.AspNetCore;
using TapPass.Transport;

// NOTE: excluded from compilation (TapPass.AspNetCore.csproj, <Compile Remove>) until TapPassAgent lands in
// TapPass.Core; while excluded, AddTapPass() registers no ITapPassAgent (the partial method call is elided).

namespace TapPass.AspNetCore
{
    /// <summary>Builds the scoped <see cref="ITapPassAgent"/> of <c>AddTapPass()</c>.</summary>
    internal static class TapPassAgentFactory
    {
        /// <summary>
        /// Over the registered <see cref="ITapPassTransport"/> (embedded gateway) when there is one, otherwise over the
        /// <c>TapPass</c> named <see cref="HttpClient"/> pointed at <see cref="TapPassOptions.Url"/>.
        /// </summary>
        public static ITapPassAgent Create(IServiceProvider services)
        {
            var options = services.GetRequiredService<IOptions<TapPassOptions>>().Value;
            var agentOptions = options.CreateAgentOptions();
            if (services.GetService<ITapPassTransport>() is { } transport)
            {
                return new TapPassAgent(agentOptions, transport);
            }

            var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(TapPassOptions.HttpClientName);
            return new TapPassAgent(agentOptions, client);
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    public static partial class TapPassServiceCollectionExtensions
    {
        static partial void AddAgent(IServiceCollection services) =>
            services.TryAddScoped<ITapPassAgent>(TapPassAgentFactory.Create);
    }
}
