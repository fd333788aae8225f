using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TapPass.Governance.Audit;

namespace TapPass.Gateway.Endpoints;

/// <summary>Proves that <c>AddTapPassGateway()</c> ran.</summary>
internal sealed class GatewayMarker;

/// <summary>Readiness of the audit log: unhealthy while its database cannot be read or written.</summary>
internal sealed class AuditLogHealthCheck(IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var log = services.GetService<IAuditLog>();
        if (log is null)
        {
            return HealthCheckResult.Unhealthy("No audit log is registered.");
        }

        if (log is IAuditLogProbe probe && !await probe.ProbeAsync(cancellationToken))
        {
            return HealthCheckResult.Unhealthy("The audit database is unavailable.");
        }

        return HealthCheckResult.Healthy();
    }
}
