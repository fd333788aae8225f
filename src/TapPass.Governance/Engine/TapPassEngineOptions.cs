namespace TapPass.Governance;

/// <summary>
/// Configuration of the TapPass governance engine, bound from the <c>TapPass:Gateway</c> configuration section
/// (environment: <c>TapPass__Gateway__…</c>). Every property documents its default; the defaults run a complete
/// offline gateway with the local model.
/// </summary>
public sealed class TapPassEngineOptions
{
    /// <summary>The configuration section: <c>TapPass:Gateway</c>.</summary>
    public const string SectionName = "TapPass:Gateway";

    /// <summary>Base URL used in <c>audit_url</c> and <c>approval_url</c>. Default <c>http://localhost:9620</c>.</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:9620";

    /// <summary>Model used when a request names none. Default <c>gpt-4o-mini</c>.</summary>
    public string DefaultModel { get; set; } = "gpt-4o-mini";

    /// <summary>Provider that serves every model no other provider lists. Default <c>local</c> (the offline model).</summary>
    public string DefaultProvider { get; set; } = "local";

    /// <summary>Model names the local model lists in <c>/v1/models</c> (it answers any name). Default
    /// <c>gpt-4o-mini</c>, <c>gpt-4o</c>, <c>local</c>.</summary>
    public IList<string> LocalModels { get; set; } = [];

    /// <summary>Gateway default flags in header syntax (below agent defaults and per-call flags), e.g.
    /// <c>"pii=mask"</c>. Default none (the protocol defaults apply).</summary>
    public string? DefaultFlags { get; set; }

    /// <summary>Flags locked per organisation, header syntax, e.g. <c>{"acme": "pii=mask, mode=enforce"}</c>. A lock
    /// cannot be loosened by any request; tightening is allowed. Default none.</summary>
    public IDictionary<string, string> OrgLocks { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>API keys and the identities they map to. Default none: the server then generates a development key.</summary>
    public IList<TapPassApiKeyOptions> Keys { get; set; } = [];

    /// <summary>The identity of in-process calls without a key (<c>AddTapPassEmbeddedGateway</c>). Default agent
    /// <c>embedded</c>, org <c>local</c>, tier <c>full</c>.</summary>
    public TapPassApiKeyOptions EmbeddedIdentity { get; set; } = new() { AgentId = "embedded", Org = "local", AgentUuid = "00000000-0000-4000-8000-00000000e001", TrustTier = "full" };

    /// <summary>Injection score at or above which <c>detect_injection</c> acts (the score is always reported). Default 0.5.</summary>
    public double InjectionThreshold { get; set; } = 0.5;

    /// <summary>USD per million tokens by model name (prefix match, longest first). Default: <c>gpt-4o-mini</c>
    /// 0.15/0.60, <c>gpt-4o</c> 2.50/10.00, <c>gpt-4.1-mini</c> 0.40/1.60, <c>gpt-4.1</c> 2.00/8.00,
    /// <c>local</c> 0/0. Entries configured here are added to (or replace) the defaults.</summary>
    public IDictionary<string, TapPassModelPrice> Prices { get; set; } = new Dictionary<string, TapPassModelPrice>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Price of models not in <see cref="Prices"/>. Default 0.15/0.60 (gpt-4o-mini).</summary>
    public TapPassModelPrice DefaultPrice { get; set; } = new() { InputPerMillion = 0.15m, OutputPerMillion = 0.60m };

    /// <summary>Completion tokens assumed by the budget check before a call when the request sets no
    /// <c>max_tokens</c>. Default 256.</summary>
    public int CompletionEstimateTokens { get; set; } = 256;

    /// <summary>Calls per minute per agent (token bucket refill); 0 disables rate limiting. Default 600.</summary>
    public int RateLimitPerMinute { get; set; } = 600;

    /// <summary>Bucket size (burst) per agent. Default 100.</summary>
    public int RateLimitBurst { get; set; } = 100;

    /// <summary>Idle lifetime of a session (sliding). Default 24 hours.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long an <c>Idempotency-Key</c> outcome is kept. Default 24 hours.</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Workspace directory for <c>files=project</c> (writes allowed only below it). Default none: every
    /// write is refused under <c>files=project</c>.</summary>
    public string? Workspace { get; set; }

    /// <summary>Domains treated as internal when classifying (passed to the detection layer). Default none.</summary>
    public IList<string> InternalDomains { get; set; } = [];

    /// <summary>How e-mail, file and SQL tools are recognised. Defaults documented on each property.</summary>
    public TapPassToolRecognitionOptions ToolRecognition { get; set; } = new();

    /// <summary>Store the governed (masked) prompt and answer in audit events. Default false: metadata only.</summary>
    public bool CaptureContent { get; set; }

    /// <summary>Most messages in one request. Default 1024.</summary>
    public int MaxMessages { get; set; } = 1024;

    /// <summary>Most characters (UTF-16) of message content in one request; more is 413. Default 1,000,000.</summary>
    public int MaxInputCharacters { get; set; } = 1_000_000;

    /// <summary>Most tools offered in one request. Default 128.</summary>
    public int MaxTools { get; set; } = 128;

    /// <summary>Approval rules (first match applies). Default none.</summary>
    public IList<TapPassApprovalRuleOptions> ApprovalRules { get; set; } = [];

    /// <summary>How long an approval request stays open, and an approved resume token valid. Default 1 hour.</summary>
    public TimeSpan ApprovalLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Minimum trust tier per tool glob, e.g. <c>{"delete_*": "full"}</c>. Default none.</summary>
    public IDictionary<string, string> ToolMinimumTiers { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Minimum trust tier per classification, e.g. <c>{"RESTRICTED": "standard"}</c>. Default none.</summary>
    public IDictionary<string, string> ClassificationMinimumTiers { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Refuse tools that are not in <see cref="RegisteredTools"/> (<c>unregistered_tool</c>). Default false.</summary>
    public bool RequireToolRegistration { get; set; }

    /// <summary>Registered tools: name → SHA-256 (hex) of the definition; an empty hash accepts any definition.
    /// Default none.</summary>
    public IDictionary<string, string> RegisteredTools { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Lifetime of capability tokens. Default 60 seconds.</summary>
    public TimeSpan CapabilityTokenLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>PEM (PKCS#8 or SEC1) of the P-256 key that signs capability tokens. Default none: a key is generated
    /// at start-up (tokens do not survive a restart).</summary>
    public string? SigningKeyPem { get; set; }

    /// <summary>Longest break-glass period an operator may declare. Default 24 hours.</summary>
    public TimeSpan MaxBreakGlassDuration { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>One API key and the agent identity it maps to.</summary>
public sealed class TapPassApiKeyOptions
{
    /// <summary>SHA-256 (hex) of the key. Preferred: the key itself never appears in configuration.</summary>
    public string? KeySha256 { get; set; }

    /// <summary>The key in plaintext (development only); it is hashed at start-up and not kept.</summary>
    public string? Key { get; set; }

    /// <summary>Agent slug (<c>[a-z0-9-_.]</c>, 1–64). Required.</summary>
    public string AgentId { get; set; } = "";

    /// <summary>Agent uuid. Default: derived deterministically from org and agent id.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Organisation. Default <c>default</c>.</summary>
    public string Org { get; set; } = "default";

    /// <summary><c>observer</c>, <c>worker</c>, <c>standard</c> or <c>full</c>. Default <c>standard</c>.</summary>
    public string TrustTier { get; set; } = "standard";

    /// <summary>Default flags of the agent, header syntax. Default none.</summary>
    public string? Flags { get; set; }

    /// <summary>Flags locked for the agent, header syntax. Default none.</summary>
    public string? Locks { get; set; }

    /// <summary>Roles: <c>agent</c>, <c>approver</c>, <c>admin</c>. Default <c>agent</c>.</summary>
    public IList<string> Roles { get; set; } = [];
}

/// <summary>A model's price in USD per million tokens.</summary>
public sealed class TapPassModelPrice
{
    /// <summary>Prompt tokens. Default 0.</summary>
    public decimal InputPerMillion { get; set; }

    /// <summary>Completion tokens. Default 0.</summary>
    public decimal OutputPerMillion { get; set; }
}

/// <summary>How the engine recognises e-mail, file and SQL tools (globs over tool names, argument names).</summary>
public sealed class TapPassToolRecognitionOptions
{
    /// <summary>E-mail tool names. Default <c>*email*</c>, <c>*mail*</c>.</summary>
    public IList<string> EmailToolNames { get; set; } = [];

    /// <summary>File tool names. Default <c>*file*</c>, <c>*dir*</c>, <c>*folder*</c>, <c>fs_*</c>, <c>*_fs</c>, <c>*path*</c>.</summary>
    public IList<string> FileToolNames { get; set; } = [];

    /// <summary>SQL tool names. Default <c>*sql*</c>, <c>*query*</c>, <c>*db*</c>, <c>*database*</c>.</summary>
    public IList<string> SqlToolNames { get; set; } = [];

    /// <summary>Recipient argument names. Default <c>to</c>, <c>cc</c>, <c>bcc</c>, <c>recipient</c>, <c>recipients</c>.</summary>
    public IList<string> RecipientArguments { get; set; } = [];

    /// <summary>Path argument names. Default <c>path</c>, <c>file_path</c>, <c>filepath</c>, <c>filename</c>,
    /// <c>file</c>, <c>file_name</c>, <c>target</c>, <c>destination</c>, <c>dest</c>, <c>source</c>, <c>src</c>,
    /// <c>directory</c>, <c>dir</c>, <c>paths</c>.</summary>
    public IList<string> PathArguments { get; set; } = [];

    /// <summary>SQL argument names. Default <c>sql</c>, <c>query</c>, <c>statement</c>, <c>statements</c>, <c>command</c>.</summary>
    public IList<string> SqlArguments { get; set; } = [];
}

/// <summary>
/// A rule that holds a call for human approval (PROTOCOL.md §7). A rule matches when every condition it sets holds.
/// </summary>
public sealed class TapPassApprovalRuleOptions
{
    /// <summary>Rule name, reported as the approval's rule. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary>Tool glob, e.g. <c>delete_*</c> (govern calls and the model's tool calls). Default none.</summary>
    public string? Tool { get; set; }

    /// <summary>Minimum classification of the call, e.g. <c>RESTRICTED</c> (chat and govern). Default none.</summary>
    public string? MinClassification { get; set; }

    /// <summary>Argument (top-level name) compared by <see cref="Operator"/> with <see cref="Value"/>. Default none.</summary>
    public string? Argument { get; set; }

    /// <summary><c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c> (numbers), <c>eq</c>, <c>ne</c>, <c>contains</c>
    /// (strings), <c>exists</c>. Default <c>exists</c>.</summary>
    public string Operator { get; set; } = "exists";

    /// <summary>Comparison value. Default none.</summary>
    public string? Value { get; set; }
}
