namespace TapPass.Server;

/// <summary>
/// Settings of the gateway host, bound from the <c>TapPass</c> configuration section (appsettings.json) and from
/// <c>TAPPASS_*</c> environment variables, where <c>__</c> separates levels: <c>TAPPASS_AUDIT__PATH</c> is
/// <c>TapPass:Audit:Path</c>, <c>TAPPASS_PROVIDER__MODELS__gpt-4o-mini</c> is one entry of the model map.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "TapPass";

    /// <summary>Default listen address when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:9620";

    /// <summary>Agent, approver and admin keys. Default none (a development key is generated and printed at start-up).</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Gateway-wide flag locks that no call can loosen, e.g. <c>{"pii": "mask"}</c>. Default none.</summary>
    public Dictionary<string, string> FlagLocks { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gateway default flags (header syntax, e.g. <c>"pii=mask"</c>). Default none (protocol defaults).</summary>
    public string? DefaultFlags { get; set; }

    /// <summary>Public base URL used in <c>audit_url</c> and <c>approval_url</c>. Default: the request's own scheme and host.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>Model backend.</summary>
    public ProviderOptions Provider { get; set; } = new();

    /// <summary>Audit log.</summary>
    public AuditOptions Audit { get; set; } = new();
}

/// <summary>One API key and the identity it maps to (PROTOCOL.md §1).</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The key itself (<c>tp_…</c>). Prefer <see cref="KeySha256"/> in files; only the hash is kept in memory either way.</summary>
    public string? Key { get; set; }

    /// <summary>Lower-case hex SHA-256 of the key.</summary>
    public string? KeySha256 { get; set; }

    /// <summary>Agent slug. Required.</summary>
    public string AgentId { get; set; } = "";

    /// <summary>Agent uuid. Default: derived from the org and agent id.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Organisation. Default <c>default</c>.</summary>
    public string Org { get; set; } = "default";

    /// <summary><c>observer</c>, <c>worker</c>, <c>standard</c> (default) or <c>full</c>.</summary>
    public string TrustTier { get; set; } = "standard";

    /// <summary>Roles: <c>agent</c> (default), <c>approver</c>, <c>admin</c>.</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Flag locks for this key's agent.</summary>
    public Dictionary<string, string> FlagLocks { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Model backend settings.</summary>
public sealed class ProviderOptions
{
    /// <summary><c>local</c> (built-in offline model, default) or <c>openai</c> (any OpenAI-compatible endpoint).</summary>
    public string Kind { get; set; } = "local";

    /// <summary>OpenAI-compatible base URL (e.g. <c>http://localhost:11434/v1</c>). Default: api.openai.com.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Upstream API key. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Client-facing model name → upstream model name. Default empty.</summary>
    public Dictionary<string, string> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Upstream timeout in seconds. Default 60.</summary>
    public double TimeoutSeconds { get; set; } = 60;

    /// <summary>Retries of transient upstream failures. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;
}

/// <summary>Audit log settings.</summary>
public sealed class AuditOptions
{
    /// <summary>SQLite database file. Default <c>./tappass-audit.db</c>.</summary>
    public string Path { get; set; } = "./tappass-audit.db";

    /// <summary>PEM file of the ES256 signing key. Default: next to the database, generated with owner-only permissions.</summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>Store prompt and answer text in audit events. Default false (metadata only).</summary>
    public bool CaptureContent { get; set; }
}
