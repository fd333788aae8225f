using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TapPass;
using TapPass.AspNetCore;
using TapPass.AspNetCore.Errors;
using TapPass.AspNetCore.Http;
using TapPass.AspNetCore.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TapPass in an ASP.NET Core application.</summary>
public static partial class TapPassServiceCollectionExtensions
{
    /// <summary>
    /// Registers TapPass: <see cref="TapPassOptions"/> (bound from the <c>TapPass</c> section and <c>TAPPASS_*</c>
    /// variables, validated at start-up), a scoped <see cref="ITapPassAgent"/>, the exception handler that maps
    /// governance decisions to ProblemDetails, <c>AddProblemDetails()</c>, and what <c>app.UseTapPass()</c> needs.
    /// Safe to call more than once; each <paramref name="configure"/> runs, in order, after configuration binding.
    /// </summary>
    /// <remarks>
    /// The agent is <b>scoped</b>: each request gets its own agent and therefore its own conversation history, so
    /// one user's messages never reach another user's model call. Conversation state that must outlive a request
    /// lives in the TapPass session (join it with <c>X-TapPass-Session-Id</c>), not in the agent. The agent talks
    /// to the gateway through an <c>ITapPassTransport</c> registered in the container when there is one (the
    /// embedded gateway, <c>AddTapPassEmbeddedGateway()</c>), otherwise over the <c>TapPass</c> named
    /// <see cref="HttpClient"/> pointed at <see cref="TapPassOptions.Url"/>. An <see cref="ITapPassAgent"/>
    /// registered before this call is kept.
    /// </remarks>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets options in code; runs after configuration binding and wins over it.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddTapPass(this IServiceCollection services, Action<TapPassOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(static d => d.ServiceType == typeof(TapPassMarkerService)))
        {
            services.AddSingleton<TapPassMarkerService>();
            services.AddOptions<TapPassOptions>().ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<TapPassOptions>, TapPassOptionsSetup>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TapPassOptions>, TapPassOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);

            services.AddProblemDetails();
            services.TryAddSingleton<TapPassExceptionHandler>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IExceptionHandler, TapPassExceptionHandler>(
                static sp => sp.GetRequiredService<TapPassExceptionHandler>()));
            services.TryAddSingleton<ITapPassSessionLifecycle, TapPassSessionLifecycle>();

            services.AddHttpClient(TapPassOptions.HttpClientName, static (sp, client) =>
            {
                var options = sp.GetRequiredService<IOptions<TapPassOptions>>().Value;
                if (!string.IsNullOrEmpty(options.Url))
                {
                    client.BaseAddress = new Uri(options.Url.TrimEnd('/') + "/", UriKind.Absolute);
                }

                client.Timeout = options.Timeout;
            });

            AddAgent(services);
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Adds a handler to this <see cref="HttpClient"/> that stamps the current TapPass session's
    /// <c>X-TapPass-Session-Id</c>, <c>X-TapPass-Agent-Uuid</c> and <c>X-TapPass-Task-Id</c> on every request, so
    /// downstream services join the same session. A header the caller set is never overwritten.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHttpClientBuilder AddTapPassHeaderPropagation(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHttpMessageHandler(static () => new TapPassHeaderPropagationHandler());
    }

    /// <summary>Registers the scoped <see cref="ITapPassAgent"/> (Agent/TapPassAgentFactory.cs).</summary>
    static partial void AddAgent(IServiceCollection services);
}
