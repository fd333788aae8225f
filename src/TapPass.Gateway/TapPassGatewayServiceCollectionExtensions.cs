using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TapPass.Gateway;
using TapPass.Gateway.Diagnostics;
using TapPass.Gateway.Endpoints;
using TapPass.Governance;
using TapPass.Governance.Engine;
using TapPass.Transport;

#pragma warning disable IDE0130 // Extension methods live in the framework's namespace so they are found without a using.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the TapPass gateway's services.</summary>
public static class TapPassGatewayServiceCollectionExtensions
{
    /// <summary>Tag of the health checks <c>/health/ready</c> runs. Add your own checks with this tag to gate readiness on them.</summary>
    public const string ReadyTag = "tappass.ready";

    /// <summary>
    /// Registers what <see cref="Microsoft.AspNetCore.Builder.TapPassGatewayEndpointRouteBuilderExtensions.MapTapPassGateway"/>
    /// needs: options, the <c>TapPass</c> meter instruments, a <see cref="TimeProvider"/> (the system clock unless one is
    /// registered) and the readiness check of the audit log (<c>/health/ready</c> answers 503 while the audit database is
    /// unavailable). The governance engine (<c>ITapPassTransport</c>, and for the control routes <c>IGatewayAdmin</c> and
    /// <c>IAuditLog</c>) is registered separately. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts <see cref="TapPassGatewayOptions"/>.</param>
    /// <returns>The same collection.</returns>
    public static IServiceCollection AddTapPassGateway(this IServiceCollection services, Action<TapPassGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TapPassGatewayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.MaxRequestBodyBytes is > 0 and <= 1L << 30, "TapPassGatewayOptions.MaxRequestBodyBytes must be between 1 byte and 1 GiB.")
            .Validate(o => o.MaxAuditPageEvents is > 0 and <= 100_000, "TapPassGatewayOptions.MaxAuditPageEvents must be between 1 and 100000.")
            .ValidateOnStart();

        if (services.Any(d => d.ServiceType == typeof(GatewayMarker)))
        {
            return services;
        }

        services.AddSingleton<GatewayMarker>();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GatewayDiagnostics>();
        services.AddHealthChecks().AddCheck<AuditLogHealthCheck>("tappass.audit", HealthStatus.Unhealthy, [ReadyTag]);
        return services;
    }

    /// <summary>
    /// Serves the gateway from the TapPass governance engine in this process: registers the gateway services
    /// (<see cref="AddTapPassGateway"/>), the engine (<c>AddTapPassEngine</c>) with its options bound from the
    /// <c>TapPass:Gateway</c> configuration section, and connects them. The endpoints' <see cref="ITapPassTransport"/>
    /// is the engine itself, so every call is authenticated by its API key (a call without one is 401; unlike
    /// <c>AddTapPassEmbeddedGateway</c>, no call acts as an implicit identity), and the engine serves the control
    /// routes (sessions, models, approvals, break-glass, signing keys). <see cref="TapPassGatewayOptions"/> are bound
    /// from the same section (<c>TapPass:Gateway:MaxRequestBodyBytes</c>, <c>TapPass:Gateway:MaxAuditPageEvents</c>).
    /// Register the audit log, state stores, model providers and other engine dependencies you want instead of the
    /// in-memory defaults before calling this; the detection layer (the engine's text inspector) must be registered too.
    /// Replaces any <see cref="ITapPassTransport"/> registered before.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">Configuration root; the <c>TapPass:Gateway</c> section is read.</param>
    /// <param name="configure">Further engine configuration, applied after binding.</param>
    /// <returns>The same collection.</returns>
    public static IServiceCollection AddTapPassGatewayEngine(this IServiceCollection services, IConfiguration configuration, Action<TapPassEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddTapPassGateway();
        services.AddOptions<TapPassGatewayOptions>().Bind(configuration.GetSection(TapPassEngineOptions.SectionName));
        services.AddTapPassEngine(configuration, configure);
        services.Replace(ServiceDescriptor.Singleton<ITapPassTransport>(sp => sp.GetRequiredService<GovernanceEngine>()));
        services.TryAddSingleton<IGatewayAdmin, GatewayAdmin>();
        return services;
    }
}
