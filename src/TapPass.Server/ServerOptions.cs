namespace TapPass.Server;

/// <summary>
/// Settings of the gateway host itself (model backend and audit database), bound from the <c>TapPass</c>
/// configuration section. Everything about governance — API keys, flags, locks, approval rules, public URL — is
/// <see cref="Governance.TapPassEngineOptions"/> in <c>TapPass:Gateway</c>. Environment variables <c>TAPPASS_*</c>
/// map onto <c>TapPass:*</c>, with <c>__</c> separating levels: <c>TAPPASS_AUDIT__PATH</c> is
/// <c>TapPass:Audit:Path</c>, <c>TAPPASS_GATEWAY__KEYS__0__KEY</c> is <c>TapPass:Gateway:Keys:0:Key</c>.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "TapPass";

    /// <summary>Default listen address when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:9620";

    /// <summary>Model backend.</summary>
    public ProviderOptions Provider { get; set; } = new();

    /// <summary>Audit log.</summary>
    public AuditOptions Audit { get; set; } = new();
}

/// <summary>Model backend settings (<c>TapPass:Provider</c>).</summary>
public sealed class ProviderOptions
{
    /// <summary>
    /// <c>local</c> (the built-in offline model, default) or <c>openai</c> (any OpenAI-compatible endpoint, which then
    /// serves every model name; the local model is not used).
    /// </summary>
    public string Kind { get; set; } = "local";

    /// <summary>OpenAI-compatible base URL (e.g. <c>http://localhost:11434/v1</c>). Default: api.openai.com.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Upstream API key. Never logged. Default none (required for api.openai.com).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Client-facing model name → upstream model name; the names listed by <c>GET /v1/models</c>. Default empty.</summary>
    public Dictionary<string, string> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Upstream timeout in seconds. Default 60.</summary>
    public double TimeoutSeconds { get; set; } = 60;

    /// <summary>Retries of transient upstream failures. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;
}

/// <summary>Audit log settings (<c>TapPass:Audit</c>).</summary>
public sealed class AuditOptions
{
    /// <summary>SQLite database file. Default <c>./tappass-audit.db</c>.</summary>
    public string Path { get; set; } = "./tappass-audit.db";

    /// <summary>PEM file of the ES256 signing key. Default: next to the database (<c>{Path}.signing-key.pem</c>),
    /// generated with owner-only permissions.</summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>
    /// <c>full</c> (default): every audit commit is fsync'd before the answer it records is sent, so an answered call's
    /// event survives a power failure. <c>normal</c> (opt-in): no fsync per commit; the event survives a crash of the
    /// gateway process but the newest events may be lost if the machine fails. Lower latency, weaker guarantee.
    /// </summary>
    public string Durability { get; set; } = "full";
}
