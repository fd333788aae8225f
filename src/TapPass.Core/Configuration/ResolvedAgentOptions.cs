namespace TapPass.Configuration;

/// <summary>
/// <see cref="TapPassAgentOptions"/> after resolution (explicit value &gt; <c>TAPPASS_*</c> environment variable &gt;
/// default) and validation. Every problem is a <see cref="TapPassConfigException"/> naming the setting it came from:
/// the option name for explicit values, the variable name for environment values.
/// </summary>
internal sealed class ResolvedAgentOptions
{
    public const string UrlVariable = "TAPPASS_URL";
    public const string ApiKeyVariable = "TAPPASS_API_KEY";
    public const string FlagsVariable = "TAPPASS_FLAGS";
    public const string ModelVariable = "TAPPASS_MODEL";

    public const int MaxRetriesLimit = 10;
    public const int MaxHistoryLimit = 10_000;
    public const int MaxApiKeyLength = 512;
    public const int MaxModelLength = 256;
    public const int MaxUrlLength = 2048;
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    private ResolvedAgentOptions()
    {
    }

    /// <summary>Gateway base URL, with a trailing slash; null only in embedded mode.</summary>
    public Uri? BaseUrl { get; private init; }

    public string? ApiKey { get; private init; }

    public string Model { get; private init; } = TapPassAgentOptions.DefaultModel;

    public GovernanceFlags Flags { get; private init; } = GovernanceFlags.Empty;

    public TimeSpan Timeout { get; private init; }

    public TimeSpan? AttemptTimeout { get; private init; }

    public int MaxRetries { get; private init; }

    public bool RespectBreakGlass { get; private init; }

    public bool RaiseOnRedaction { get; private init; }

    public string? AgentUuid { get; private init; }

    public int MaxHistoryMessages { get; private init; }

    public bool VerifyGatewayVersion { get; private init; }

    /// <summary>Resolves and validates <paramref name="options"/>.</summary>
    /// <param name="options">Explicit options.</param>
    /// <param name="environment">Reads an environment variable (injectable for tests).</param>
    /// <param name="urlRequired">False in embedded mode (a transport was supplied).</param>
    /// <param name="fallbackBaseUrl">A base address already configured on a supplied <see cref="HttpClient"/>.</param>
    public static ResolvedAgentOptions Resolve(TapPassAgentOptions options, Func<string, string?> environment, bool urlRequired, Uri? fallbackBaseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);

        var baseUrl = ResolveUrl(options, environment, urlRequired, fallbackBaseUrl);
        var apiKey = ResolveApiKey(options, environment);
        var model = ResolveModel(options, environment);
        var flags = ResolveFlags(options, environment);

        if (options.Timeout < MinTimeout || options.Timeout > MaxTimeout)
        {
            throw new TapPassConfigException(
                $"TapPassAgentOptions.Timeout must be between {MinTimeout.TotalMilliseconds:0} ms and {MaxTimeout.TotalHours:0} h (got {options.Timeout}).",
                nameof(TapPassAgentOptions.Timeout));
        }

        if (options.AttemptTimeout is { } attempt && (attempt < MinTimeout || attempt > options.Timeout))
        {
            throw new TapPassConfigException(
                $"TapPassAgentOptions.AttemptTimeout must be between {MinTimeout.TotalMilliseconds:0} ms and Timeout ({options.Timeout}) (got {attempt}).",
                nameof(TapPassAgentOptions.AttemptTimeout));
        }

        if (options.MaxRetries is < 0 or > MaxRetriesLimit)
        {
            throw new TapPassConfigException(
                $"TapPassAgentOptions.MaxRetries must be between 0 and {MaxRetriesLimit} (got {options.MaxRetries}).",
                nameof(TapPassAgentOptions.MaxRetries));
        }

        if (options.MaxHistoryMessages is < 0 or > MaxHistoryLimit)
        {
            throw new TapPassConfigException(
                $"TapPassAgentOptions.MaxHistoryMessages must be between 0 and {MaxHistoryLimit} (got {options.MaxHistoryMessages}).",
                nameof(TapPassAgentOptions.MaxHistoryMessages));
        }

        var agentUuid = string.IsNullOrWhiteSpace(options.AgentUuid) ? null : options.AgentUuid.Trim();
        if (agentUuid is not null && !TapPassSession.IsWellFormedAgentUuid(agentUuid))
        {
            throw new TapPassConfigException("TapPassAgentOptions.AgentUuid must be a UUID (36 characters, hyphenated).", nameof(TapPassAgentOptions.AgentUuid));
        }

        return new ResolvedAgentOptions
        {
            BaseUrl = baseUrl,
            ApiKey = apiKey,
            Model = model,
            Flags = flags,
            Timeout = options.Timeout,
            AttemptTimeout = options.AttemptTimeout,
            MaxRetries = options.MaxRetries,
            RespectBreakGlass = options.RespectBreakGlass,
            RaiseOnRedaction = options.RaiseOnRedaction,
            AgentUuid = agentUuid,
            MaxHistoryMessages = options.MaxHistoryMessages,
            VerifyGatewayVersion = options.VerifyGatewayVersion,
        };
    }

    /// <summary>Reads the process environment.</summary>
    public static string? ProcessEnvironment(string name) => Environment.GetEnvironmentVariable(name);

    /// <summary>
    /// Parses a gateway base URL: absolute http(s), no credentials, no query or fragment. Returns it with a trailing
    /// slash so relative paths (<c>v1/chat/completions</c>) append to any base path.
    /// </summary>
    public static bool TryParseBaseUrl(string value, out Uri? url, out string? problem)
    {
        url = null;
        problem = null;
        if (value.Length > MaxUrlLength)
        {
            problem = $"is longer than {MaxUrlLength} characters";
            return false;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var parsed))
        {
            problem = "is not an absolute URL";
            return false;
        }

        if (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
        {
            problem = $"must use http or https, not '{parsed.Scheme}'";
            return false;
        }

        if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            // Never echo the value: it holds credentials.
            problem = "must not contain credentials (user:password@); pass the key as ApiKey";
            return false;
        }

        if (!string.IsNullOrEmpty(parsed.Query) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            problem = "must not have a query or fragment";
            return false;
        }

        var text = parsed.GetLeftPart(UriPartial.Path);
        url = new Uri(text.EndsWith('/') ? text : text + "/", UriKind.Absolute);
        return true;
    }

    private static Uri? ResolveUrl(TapPassAgentOptions options, Func<string, string?> environment, bool urlRequired, Uri? fallbackBaseUrl)
    {
        string? raw;
        string setting;
        if (!string.IsNullOrWhiteSpace(options.Url))
        {
            raw = options.Url.Trim();
            setting = nameof(TapPassAgentOptions.Url);
        }
        else if (Env(environment, UrlVariable) is { } fromEnv)
        {
            raw = fromEnv;
            setting = UrlVariable;
        }
        else if (fallbackBaseUrl is not null)
        {
            raw = fallbackBaseUrl.ToString();
            setting = "HttpClient.BaseAddress";
        }
        else if (urlRequired)
        {
            throw new TapPassConfigException(
                $"No TapPass gateway URL: set TapPassAgentOptions.Url or the {UrlVariable} environment variable (e.g. http://localhost:9620).",
                nameof(TapPassAgentOptions.Url));
        }
        else
        {
            return null;
        }

        if (!TryParseBaseUrl(raw, out var url, out var problem))
        {
            // A value with '@' may carry credentials: never echo it.
            var shown = raw.Contains('@', StringComparison.Ordinal) ? "(value hidden)" : $"'{Truncate(raw)}'";
            throw new TapPassConfigException($"The TapPass gateway URL from {setting} {shown} {problem}.", setting);
        }

        return url;
    }

    private static string? ResolveApiKey(TapPassAgentOptions options, Func<string, string?> environment)
    {
        string? key;
        string setting;
        if (!string.IsNullOrWhiteSpace(options.ApiKey))
        {
            key = options.ApiKey.Trim();
            setting = nameof(TapPassAgentOptions.ApiKey);
        }
        else
        {
            key = Env(environment, ApiKeyVariable);
            setting = ApiKeyVariable;
        }

        if (key is null)
        {
            return null;
        }

        // Never put the key itself in a message.
        if (key.Length > MaxApiKeyLength)
        {
            throw new TapPassConfigException($"The API key from {setting} is longer than {MaxApiKeyLength} characters.", setting);
        }

        foreach (var c in key)
        {
            if (c is < '!' or > '~')
            {
                throw new TapPassConfigException($"The API key from {setting} contains whitespace, control or non-ASCII characters.", setting);
            }
        }

        return key;
    }

    private static string ResolveModel(TapPassAgentOptions options, Func<string, string?> environment)
    {
        string model;
        string setting;
        if (!string.IsNullOrWhiteSpace(options.Model))
        {
            model = options.Model.Trim();
            setting = nameof(TapPassAgentOptions.Model);
        }
        else if (Env(environment, ModelVariable) is { } fromEnv)
        {
            model = fromEnv;
            setting = ModelVariable;
        }
        else
        {
            return TapPassAgentOptions.DefaultModel;
        }

        if (!IsValidModel(model))
        {
            throw new TapPassConfigException($"The model from {setting} must be 1-{MaxModelLength} printable characters.", setting);
        }

        return model;
    }

    /// <summary>A model name: 1-256 characters, no control characters.</summary>
    public static bool IsValidModel(string? model) =>
        !string.IsNullOrWhiteSpace(model) && model.Length <= MaxModelLength && !model.Any(char.IsControl);

    private static GovernanceFlags ResolveFlags(TapPassAgentOptions options, Func<string, string?> environment)
    {
        // Explicit flags replace TAPPASS_FLAGS as a whole (one setting, one source).
        if (options.Flags is { Count: > 0 })
        {
            return GovernanceFlags.From(options.Flags);
        }

        var fromEnv = Env(environment, FlagsVariable);
        if (fromEnv is null)
        {
            return GovernanceFlags.Empty;
        }

        if (GovernanceFlags.TryParse(fromEnv, out var flags, out var error))
        {
            return flags;
        }

        throw new TapPassConfigException($"{FlagsVariable}: {error!.Message}", FlagsVariable)
        {
            Flag = error.Flag,
            Value = error.Value,
            Allowed = error.Allowed,
        };
    }

    private static string? Env(Func<string, string?> environment, string name)
    {
        var value = environment(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
