using System.Collections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Governance.Providers;

namespace TapPass.Server;

/// <summary>
/// Composes the gateway host: configuration (<c>TapPass</c> section, <c>TAPPASS_*</c> environment variables), the
/// SQLite audit log, the model backend, the governance engine (options from <c>TapPass:Gateway</c>) and the gateway
/// endpoints over it.
/// </summary>
/// <remarks>
/// Every setting is read lazily (through options), never while composing, so configuration added by a test host
/// (<c>WebApplicationFactory</c>) applies too. The engine registers its stores, audit log and model routing with
/// <c>TryAdd</c>; the host registers the SQLite audit log and the model router first, so they win.
/// </remarks>
internal static class ServerComposition
{
    private const string EnvironmentPrefix = "TAPPASS_";
    private const string OpenAiClientName = "tappass.openai";

    /// <summary>Registers every service of the host.</summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddTapPassEnvironment(builder.Configuration, Environment.GetEnvironmentVariables());

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(ServerOptions.DefaultUrl);
        }

        var services = builder.Services;
        services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection(ServerOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();

        // The upstream hop is on every request's path: no per-request logging handlers (the gateway logs decisions
        // itself, never request content), and one long-lived SocketsHttpHandler whose pooled connections are recycled
        // every few minutes (DNS changes) instead of the factory rotating the whole handler (and its connections) every
        // two minutes.
        services.AddHttpClient(OpenAiClientName)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                UseCookies = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

        // The audit log and the model router come before the engine, whose in-memory defaults are only TryAdds.
        services.AddSingleton(sp =>
        {
            var audit = sp.GetRequiredService<IOptions<ServerOptions>>().Value.Audit;
            return SqliteAuditLog.Open(
                new AuditLogOptions
                {
                    DatabasePath = audit.Path,
                    SigningKeyPath = audit.SigningKeyPath,
                    Durability = audit.Durability == "normal" ? AuditDurability.Normal : AuditDurability.Full,
                },
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<SqliteAuditLog>>());
        });
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<SqliteAuditLog>());
        services.AddSingleton(CreateRouter);

        services.AddTapPassGatewayEngine(builder.Configuration);
        services.AddOptions<TapPassEngineOptions>().Configure<IConfiguration>(ApplyDefaultPublicBaseUrl);
    }

    /// <summary>Maps the endpoints; resolves the engine, so a missing detection layer or invalid configuration fails here.</summary>
    public static void MapEndpoints(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTapPassGateway();
    }

    /// <summary>
    /// When <c>TapPass:Gateway:Keys</c> is empty, registers a development key (agent <c>dev-agent</c> in org <c>dev</c>,
    /// tier full, roles agent, approver and admin) with the engine and returns it for the caller to show once; it lives
    /// only as long as the process. Returns null when keys are configured.
    /// </summary>
    public static string? AddDevelopmentKeyIfNoneConfigured(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<IOptions<TapPassEngineOptions>>().Value.Keys.Count > 0
            ? null
            : services.GetRequiredService<ApiKeyStore>().GenerateDevelopmentKey();
    }

    /// <summary>
    /// Maps <c>TAPPASS_A__B=value</c> environment variables to <c>TapPass:A:B</c> (added last, so they win over
    /// appsettings.json).
    /// </summary>
    internal static void AddTapPassEnvironment(IConfigurationBuilder configuration, IDictionary environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && name.Length > EnvironmentPrefix.Length)
            {
                var path = name[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
                values[ServerOptions.SectionName + ConfigurationPath.KeyDelimiter + path] = entry.Value as string;
            }
        }

        if (values.Count > 0)
        {
            configuration.AddInMemoryCollection(values);
        }
    }

    /// <summary>
    /// Unless <c>TapPass:Gateway:PublicBaseUrl</c> is set, <c>audit_url</c> and <c>approval_url</c> point at the first
    /// listen address, with a wildcard host (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) shown as <c>localhost</c>.
    /// </summary>
    internal static void ApplyDefaultPublicBaseUrl(TapPassEngineOptions options, IConfiguration configuration)
    {
        if (string.IsNullOrEmpty(configuration[TapPassEngineOptions.SectionName + ConfigurationPath.KeyDelimiter + nameof(TapPassEngineOptions.PublicBaseUrl)])
            && PublicUrlFromListenUrls(configuration[WebHostDefaults.ServerUrlsKey]) is { } url)
        {
            options.PublicBaseUrl = url;
        }
    }

    /// <summary>The public base URL for the first of <paramref name="urls"/> (<c>;</c>-separated), or null.</summary>
    internal static string? PublicUrlFromListenUrls(string? urls)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var scheme = first?.IndexOf("://", StringComparison.Ordinal) ?? -1;
        if (first is null || scheme <= 0)
        {
            return null;
        }

        var hostStart = scheme + 3;
        var hostEnd = first.Length > hostStart && first[hostStart] == '['
            ? first.IndexOf(']', hostStart) + 1
            : first.IndexOfAny([':', '/'], hostStart);
        if (hostEnd <= 0)
        {
            hostEnd = first.Length;
        }

        var host = first[hostStart..hostEnd];
        if (host is "*" or "+" or "0.0.0.0" or "[::]")
        {
            first = first[..hostStart] + "localhost" + first[hostEnd..];
        }

        return Uri.TryCreate(first, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
    }

    internal static string? Validate(ServerOptions o)
    {
        if (o.Provider.Kind is not ("local" or "openai"))
        {
            return "TapPass:Provider:Kind must be 'local' or 'openai'.";
        }

        if (o.Provider.Kind == "openai")
        {
            if (!string.IsNullOrEmpty(o.Provider.BaseUrl)
                && (!Uri.TryCreate(o.Provider.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                return "TapPass:Provider:BaseUrl must be an absolute http(s) URL.";
            }

            if (string.IsNullOrEmpty(o.Provider.BaseUrl) && string.IsNullOrEmpty(o.Provider.ApiKey))
            {
                return "TapPass:Provider:ApiKey is required for api.openai.com.";
            }
        }

        if (o.Provider.TimeoutSeconds is <= 0 or > 3600 || o.Provider.MaxRetries is < 0 or > 10)
        {
            return "TapPass:Provider:TimeoutSeconds must be in (0, 3600] and MaxRetries in [0, 10].";
        }

        if (string.IsNullOrWhiteSpace(o.Audit.Path))
        {
            return "TapPass:Audit:Path must be set.";
        }

        if (o.Audit.Durability is not ("full" or "normal"))
        {
            return "TapPass:Audit:Durability must be 'full' (default) or 'normal'.";
        }

        return null;
    }

    /// <summary>
    /// <c>TapPass:Provider:Kind</c> <c>openai</c>: the OpenAI-compatible upstream serves every model. <c>local</c>: the
    /// engine's own routing (the registered providers, <c>TapPass:Gateway:DefaultProvider</c>; the offline model by default).
    /// </summary>
    private static ProviderRouter CreateRouter(IServiceProvider services)
    {
        var p = services.GetRequiredService<IOptions<ServerOptions>>().Value.Provider;
        if (p.Kind != "openai")
        {
            return new ProviderRouter(services.GetServices<IModelProvider>(), services.GetRequiredService<EngineSettings>().DefaultProvider);
        }

        var openai = new OpenAiModelProvider(
            new OpenAiProviderOptions
            {
                BaseUrl = string.IsNullOrEmpty(p.BaseUrl) ? null : new Uri(p.BaseUrl, UriKind.Absolute),
                ApiKey = string.IsNullOrEmpty(p.ApiKey) ? "none" : p.ApiKey,
                Models = new Dictionary<string, string>(p.Models, StringComparer.Ordinal),
                Timeout = TimeSpan.FromSeconds(p.TimeoutSeconds),
                MaxRetries = p.MaxRetries,
            },
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<IHttpClientFactory>().CreateClient(OpenAiClientName));
        return new ProviderRouter([openai], openai.Name);
    }

    private sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
    {
        public ValidateOptionsResult Validate(string? name, ServerOptions options) =>
            ServerComposition.Validate(options) is { } failure ? ValidateOptionsResult.Fail(failure) : ValidateOptionsResult.Success;
    }
}
