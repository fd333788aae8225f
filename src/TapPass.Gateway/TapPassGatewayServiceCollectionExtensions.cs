using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TapPass.Gateway;
using TapPass.Gateway.Diagnostics;
using TapPass.Gateway.Endpoints;

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
}
