using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Gateway.Diagnostics;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Transport;

namespace TapPass.Gateway.Endpoints;

/// <summary>Everything the endpoint handlers use, resolved once.</summary>
internal sealed class GatewayServices
{
    public GatewayServices(IServiceProvider services)
    {
        Transport = services.GetService<ITapPassTransport>()
            ?? throw new InvalidOperationException(
                "MapTapPassGateway() needs an ITapPassTransport (the governance engine). Register it before building the app, e.g. services.AddTapPassEngine(...).");
        Admin = services.GetService<IGatewayAdmin>();
        AuditLog = services.GetService<IAuditLog>();
        Options = services.GetRequiredService<IOptions<TapPassGatewayOptions>>().Value;
        Diagnostics = services.GetRequiredService<GatewayDiagnostics>();
        TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("TapPass.Gateway");
    }

    /// <summary>Product version (semver, without build metadata).</summary>
    public static string ProductVersion { get; } = ReadVersion();

    public ITapPassTransport Transport { get; }

    public IGatewayAdmin? Admin { get; }

    public IAuditLog? AuditLog { get; }

    public TapPassGatewayOptions Options { get; }

    public GatewayDiagnostics Diagnostics { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    private static string ReadVersion()
    {
        var informational = typeof(GatewayServices).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return typeof(GatewayServices).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        }

        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? informational[..plus] : informational;
    }
}
