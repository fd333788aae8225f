using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Governance.Detection;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Governance.Inspection;
using TapPass.Governance.Providers;
using TapPass.Governance.State;
using TapPass.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the TapPass governance engine.</summary>
public static class TapPassEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the governance engine (singleton) and its defaults, each replaceable by registering your own first:
    /// <see cref="TimeProvider"/> (system clock), in-memory state stores, an in-memory hash-chained audit log, and the
    /// offline <c>local</c> model provider. Options come from <paramref name="configure"/> (see
    /// <see cref="TapPassEngineOptions"/> for every default) and are validated at start-up. The detection layer
    /// (the engine's text inspector) must also be registered; resolving the engine without it fails with an
    /// explanatory message.
    /// </summary>
    /// <param name="services">Services.</param>
    /// <param name="configure">Configures the options.</param>
    public static IServiceCollection AddTapPassEngine(this IServiceCollection services, Action<TapPassEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TapPassEngineOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        AddCore(services);
        return services;
    }

    /// <summary>
    /// Like <see cref="AddTapPassEngine(IServiceCollection, Action{TapPassEngineOptions})"/>, binding the options from
    /// the <c>TapPass:Gateway</c> section of <paramref name="configuration"/> first.
    /// </summary>
    /// <param name="services">Services.</param>
    /// <param name="configuration">Configuration root (the section <c>TapPass:Gateway</c> is read).</param>
    /// <param name="configure">Further configuration, applied after binding.</param>
    public static IServiceCollection AddTapPassEngine(this IServiceCollection services, IConfiguration configuration, Action<TapPassEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TapPassEngineOptions>().Bind(configuration.GetSection(TapPassEngineOptions.SectionName));
        return services.AddTapPassEngine(configure);
    }

    /// <summary>
    /// Registers the engine (as <see cref="AddTapPassEngine(IServiceCollection, Action{TapPassEngineOptions})"/>) and
    /// makes it the application's <see cref="ITapPassTransport"/> singleton: an agent built on it governs in-process
    /// with the same semantics as the gateway. Calls without an API key act as
    /// <see cref="TapPassEngineOptions.EmbeddedIdentity"/> — code in the process is trusted by the process, so no key
    /// is needed in-process; a call that carries a key is authenticated as on the gateway. Replaces any transport
    /// registered before. Also registers <see cref="TapPassEmbeddedOperator"/> (approvals, break-glass, audit log and
    /// capability-token keys of the in-process engine).
    /// </summary>
    /// <param name="services">Services.</param>
    /// <param name="configure">Configures the options.</param>
    public static IServiceCollection AddTapPassEmbeddedGateway(this IServiceCollection services, Action<TapPassEngineOptions>? configure = null)
    {
        services.AddTapPassEngine(configure);
        services.Replace(ServiceDescriptor.Singleton<ITapPassTransport>(sp => new EmbeddedTransport(sp.GetRequiredService<GovernanceEngine>())));
        services.TryAddSingleton(sp => new TapPassEmbeddedOperator(sp.GetRequiredService<GovernanceEngine>(), sp.GetRequiredService<IAuditLog>()));
        return services;
    }

    /// <summary>
    /// Like <see cref="AddTapPassEmbeddedGateway(IServiceCollection, Action{TapPassEngineOptions})"/>, binding the
    /// options from the <c>TapPass:Gateway</c> section of <paramref name="configuration"/> first (approval rules,
    /// minimum tiers, the embedded identity, …).
    /// </summary>
    /// <param name="services">Services.</param>
    /// <param name="configuration">Configuration root (the section <c>TapPass:Gateway</c> is read).</param>
    /// <param name="configure">Further configuration, applied after binding.</param>
    public static IServiceCollection AddTapPassEmbeddedGateway(this IServiceCollection services, IConfiguration configuration, Action<TapPassEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TapPassEngineOptions>().Bind(configuration.GetSection(TapPassEngineOptions.SectionName));
        return services.AddTapPassEmbeddedGateway(configure);
    }

    private static void AddCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TapPassEngineOptions>, EngineOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => EngineSettings.Create(sp.GetRequiredService<IOptions<TapPassEngineOptions>>().Value));
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<ISessionStore>(sp => new InMemorySessionStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBudgetStore, InMemoryBudgetStore>();
        services.TryAddSingleton<IRateLimitStore, InMemoryRateLimitStore>();
        services.TryAddSingleton<IIdempotencyStore>(sp => new InMemoryIdempotencyStore(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<EngineSettings>().IdempotencyRetention));
        services.TryAddSingleton<IToolPinStore, InMemoryToolPinStore>();
        services.TryAddSingleton<IApprovalStore>(sp => new InMemoryApprovalStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBreakGlassStore, InMemoryBreakGlassStore>();
        services.TryAddSingleton(sp => new EngineStores(
            sp.GetRequiredService<ISessionStore>(),
            sp.GetRequiredService<IBudgetStore>(),
            sp.GetRequiredService<IRateLimitStore>(),
            sp.GetRequiredService<IIdempotencyStore>(),
            sp.GetRequiredService<IToolPinStore>(),
            sp.GetRequiredService<IApprovalStore>(),
            sp.GetRequiredService<IBreakGlassStore>()));
        services.TryAddSingleton<ITextInspector>(sp => new ScannerTextInspector(CreateScanner(sp.GetRequiredService<IOptions<TapPassEngineOptions>>().Value)));
        services.TryAddSingleton<IAuditLog>(sp => new InMemoryAuditLog(sp.GetRequiredService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelProvider, LocalModelProvider>(sp => new LocalModelProvider(sp.GetRequiredService<EngineSettings>().LocalModels)));
        services.TryAddSingleton(sp => new ProviderRouter(sp.GetServices<IModelProvider>(), sp.GetRequiredService<EngineSettings>().DefaultProvider));
        services.TryAddSingleton(sp => new GovernanceEngine(
            sp.GetRequiredService<EngineSettings>(),
            sp.GetService<ITextInspector>() ?? throw new InvalidOperationException(
                "The TapPass engine needs the detection layer (ITextInspector), which AddTapPassEngine registers; it was removed from the service collection."),
            sp.GetRequiredService<ProviderRouter>(),
            sp.GetRequiredService<IAuditLog>(),
            sp.GetRequiredService<EngineStores>(),
            sp.GetRequiredService<ApiKeyStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<GovernanceEngine>>()));
    }

    // The detection layer, configured from the engine options (injection threshold, internal domains).
    private static ContentScanner CreateScanner(TapPassEngineOptions options)
    {
        var scannerOptions = new ContentScannerOptions { InjectionThreshold = options.InjectionThreshold };
        foreach (var domain in options.InternalDomains)
        {
            scannerOptions.Classification.InternalDomains.Add(domain);
        }

        return DetectionDefaults.CreateScanner(scannerOptions);
    }

    private sealed class EngineOptionsValidator : IValidateOptions<TapPassEngineOptions>
    {
        public ValidateOptionsResult Validate(string? name, TapPassEngineOptions options)
        {
            var errors = EngineSettings.Validate(options, out _);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
