using System.Collections;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TapPass.Governance.Audit;
using TapPass.Governance.Providers;

namespace TapPass.Server;

/// <summary>What <see cref="ServerComposition.Configure"/> decided that the caller must act on.</summary>
/// <param name="DevelopmentKey">A generated development key to print once, when no keys are configured.</param>
internal sealed record ServerStartup(string? DevelopmentKey);

/// <summary>
/// Composes the gateway host: configuration, options, audit log, model provider and the gateway endpoints. The
/// governance engine (<c>ITapPassTransport</c> + <c>IGatewayAdmin</c>) is registered here too once it exists.
/// </summary>
internal static class ServerComposition
{
    private const string EnvironmentPrefix = "TAPPASS_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Registers every service of the host.</summary>
    public static ServerStartup Configure(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddTapPassEnvironment(builder.Configuration, Environment.GetEnvironmentVariables());

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(ServerOptions.DefaultUrl);
        }

        var section = builder.Configuration.GetSection(ServerOptions.SectionName);
        var services = builder.Services;
        services.AddOptions<ServerOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();

        string? developmentKey = null;
        var configured = section.Get<ServerOptions>() ?? new ServerOptions();
        if (configured.Keys.Count == 0)
        {
            developmentKey = GenerateKey();
            var key = developmentKey;
            services.PostConfigure<ServerOptions>(o =>
            {
                if (o.Keys.Count == 0)
                {
                    o.Keys.Add(new ApiKeyOptions { Key = key, AgentId = "dev", Org = "dev", TrustTier = "full", Roles = ["agent", "approver", "admin"] });
                }
            });
        }

        services.AddTapPassGateway();
        services.AddHttpClient("tappass.openai");

        services.AddSingleton(sp =>
        {
            var audit = sp.GetRequiredService<IOptions<ServerOptions>>().Value.Audit;
            return SqliteAuditLog.Open(
                new AuditLogOptions { DatabasePath = audit.Path, SigningKeyPath = audit.SigningKeyPath },
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<SqliteAuditLog>>());
        });
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<SqliteAuditLog>());

        if (string.Equals(configured.Provider.Kind, "openai", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IModelProvider>(sp =>
            {
                var p = sp.GetRequiredService<IOptions<ServerOptions>>().Value.Provider;
                return new OpenAiModelProvider(
                    new OpenAiProviderOptions
                    {
                        BaseUrl = string.IsNullOrEmpty(p.BaseUrl) ? null : new Uri(p.BaseUrl, UriKind.Absolute),
                        ApiKey = p.ApiKey ?? "none",
                        Models = new Dictionary<string, string>(p.Models, StringComparer.Ordinal),
                        Timeout = TimeSpan.FromSeconds(p.TimeoutSeconds),
                        MaxRetries = p.MaxRetries,
                    },
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<IHttpClientFactory>().CreateClient("tappass.openai"));
            });
        }

        // The governance engine plugs in here (lead): services.AddTapPassEngine(...) registering ITapPassTransport,
        // IGatewayAdmin and the local model provider, fed from ServerOptions.
        return new ServerStartup(developmentKey);
    }

    /// <summary>Maps the endpoints. Throws with an actionable message when the engine is missing.</summary>
    public static void MapEndpoints(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapTapPassGateway();
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

    /// <summary>A <c>tp_</c> key: 43 base62 characters (≥ 256 bits) and a 6-character checksum suffix.</summary>
    internal static string GenerateKey()
    {
        var body = RandomNumberGenerator.GetString(Base62, 43);
        return "tp_" + body + Checksum(body);
    }

    /// <summary>True when <paramref name="key"/> has the shape and checksum of <see cref="GenerateKey"/>.</summary>
    internal static bool HasValidChecksum(string key) =>
        key.Length == 3 + 43 + 6 && key.StartsWith("tp_", StringComparison.Ordinal)
        && string.Equals(Checksum(key.Substring(3, 43)), key[^6..], StringComparison.Ordinal);

    private static string Checksum(string body)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes(body));
        var value = BitConverter.ToUInt64(hash, 0);
        var chars = new char[6];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Base62[(int)(value % 62)];
            value /= 62;
        }

        return new string(chars);
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

        for (var i = 0; i < o.Keys.Count; i++)
        {
            var k = o.Keys[i];
            if (string.IsNullOrEmpty(k.Key) == string.IsNullOrEmpty(k.KeySha256) || string.IsNullOrWhiteSpace(k.AgentId))
            {
                return $"TapPass:Keys:{i} needs an AgentId and exactly one of Key or KeySha256.";
            }
        }

        return null;
    }

    private sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
    {
        public ValidateOptionsResult Validate(string? name, ServerOptions options) =>
            ServerComposition.Validate(options) is { } failure ? ValidateOptionsResult.Fail(failure) : ValidateOptionsResult.Success;
    }
}
