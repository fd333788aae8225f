using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TapPass.Governance.Identity;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Policy;
using TapPass.Governance.Policy.Tools;
using TapPass.Governance.State;

namespace TapPass.Governance.Engine;

/// <summary>A parsed approval rule.</summary>
internal sealed record ApprovalRule(string Name, string? Tool, Classification? MinClassification, string? Argument, string Operator, string? Value);

/// <summary>The validated, parsed form of <see cref="TapPassEngineOptions"/>.</summary>
internal sealed class EngineSettings
{
    public const string ApiVersion = "0.6.0";

    private static readonly Dictionary<string, ModelPrice> DefaultPrices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-4o-mini"] = new(0.15m, 0.60m),
        ["gpt-4o"] = new(2.50m, 10.00m),
        ["gpt-4.1-mini"] = new(0.40m, 1.60m),
        ["gpt-4.1"] = new(2.00m, 8.00m),
        ["local"] = new(0m, 0m),
    };

    private EngineSettings()
    {
    }

    public required string PublicBaseUrl { get; init; }
    public required string DefaultModel { get; init; }
    public required string DefaultProvider { get; init; }
    public required IReadOnlyList<string> LocalModels { get; init; }
    public required FlagResolver Flags { get; init; }
    public required PriceTable Prices { get; init; }
    public required ToolRuleEvaluator Tools { get; init; }
    public required AgentIdentity EmbeddedIdentity { get; init; }
    public required IReadOnlyList<(AgentIdentity Identity, string? Key, string? Hash)> Keys { get; init; }
    public double InjectionThreshold { get; init; }
    public int CompletionEstimateTokens { get; init; }
    public RateLimitRule? RateLimit { get; init; }
    public TimeSpan SessionLifetime { get; init; }
    public TimeSpan IdempotencyRetention { get; init; }
    public bool CaptureContent { get; init; }
    public int MaxMessages { get; init; }
    public int MaxInputCharacters { get; init; }
    public int MaxTools { get; init; }
    public IReadOnlyList<ApprovalRule> ApprovalRules { get; init; } = [];
    public TimeSpan ApprovalLifetime { get; init; }
    public IReadOnlyList<(string Glob, TrustTier Tier)> ToolMinimumTiers { get; init; } = [];
    public IReadOnlyDictionary<Classification, TrustTier> ClassificationMinimumTiers { get; init; } = new Dictionary<Classification, TrustTier>();
    public bool RequireToolRegistration { get; init; }
    public IReadOnlyDictionary<string, string> RegisteredTools { get; init; } = new Dictionary<string, string>();
    public TimeSpan CapabilityTokenLifetime { get; init; }
    public string? SigningKeyPem { get; init; }
    public TimeSpan MaxBreakGlassDuration { get; init; }

    /// <summary>Parses and validates; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public static EngineSettings Create(TapPassEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options, out var settings);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid TapPass:Gateway configuration: " + string.Join(" ", errors));
        }

        return settings!;
    }

    /// <summary>Returns the problems in <paramref name="options"/> (empty when valid).</summary>
    public static List<string> Validate(TapPassEngineOptions options, out EngineSettings? settings)
    {
        var errors = new List<string>();
        settings = null;

        if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("PublicBaseUrl must be an absolute http(s) URL.");
        }

        if (string.IsNullOrWhiteSpace(options.DefaultModel) || options.DefaultModel.Length > 128)
        {
            errors.Add("DefaultModel must be 1-128 characters.");
        }

        var gatewayDefaults = ParseFlags(options.DefaultFlags, "DefaultFlags", errors);
        var orgLocks = new Dictionary<string, GovernanceFlags>(StringComparer.Ordinal);
        foreach (var (org, flags) in options.OrgLocks)
        {
            orgLocks[org] = ParseFlags(flags, $"OrgLocks:{org}", errors);
        }

        if (options.InjectionThreshold is < 0 or > 1 || double.IsNaN(options.InjectionThreshold))
        {
            errors.Add("InjectionThreshold must be between 0 and 1.");
        }

        if (options.CompletionEstimateTokens is < 0 or > 1_000_000)
        {
            errors.Add("CompletionEstimateTokens must be between 0 and 1,000,000.");
        }

        if (options.RateLimitPerMinute < 0 || options.RateLimitBurst < 1)
        {
            errors.Add("RateLimitPerMinute must be >= 0 and RateLimitBurst >= 1.");
        }

        foreach (var (name, value) in new[] { ("SessionLifetime", options.SessionLifetime), ("IdempotencyRetention", options.IdempotencyRetention), ("ApprovalLifetime", options.ApprovalLifetime), ("CapabilityTokenLifetime", options.CapabilityTokenLifetime), ("MaxBreakGlassDuration", options.MaxBreakGlassDuration) })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive.");
            }
        }

        if (options.MaxMessages < 1 || options.MaxInputCharacters < 1 || options.MaxTools < 0)
        {
            errors.Add("MaxMessages and MaxInputCharacters must be positive, MaxTools non-negative.");
        }

        var prices = new Dictionary<string, ModelPrice>(DefaultPrices, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in options.Prices)
        {
            if (price is null || price.InputPerMillion < 0 || price.OutputPerMillion < 0)
            {
                errors.Add($"Prices:{model} must be non-negative.");
                continue;
            }

            prices[model] = new ModelPrice(price.InputPerMillion, price.OutputPerMillion);
        }

        var defaultPrice = options.DefaultPrice is { InputPerMillion: >= 0, OutputPerMillion: >= 0 } dp
            ? new ModelPrice(dp.InputPerMillion, dp.OutputPerMillion)
            : new ModelPrice(0.15m, 0.60m);

        var keys = new List<(AgentIdentity, string?, string?)>();
        var index = 0;
        foreach (var key in options.Keys)
        {
            var identity = ParseIdentity(key, $"Keys:{index}", errors, embedded: false);
            if (string.IsNullOrEmpty(key.KeySha256) == string.IsNullOrEmpty(key.Key))
            {
                errors.Add($"Keys:{index} must set exactly one of KeySha256 and Key.");
            }
            else if (key.KeySha256 is { Length: > 0 } h && (h.Length != 64 || !h.All(char.IsAsciiHexDigit)))
            {
                errors.Add($"Keys:{index}:KeySha256 must be 64 hexadecimal characters.");
            }
            else if (key.Key is { Length: > 0 } k && !ApiKeyFormat.IsWellFormed(k))
            {
                errors.Add($"Keys:{index}:Key is not a well-formed tp_ key (see ApiKeyFormat).");
            }

            if (identity is not null)
            {
                keys.Add((identity, string.IsNullOrEmpty(key.Key) ? null : key.Key, string.IsNullOrEmpty(key.KeySha256) ? null : key.KeySha256.ToLowerInvariant()));
            }

            index++;
        }

        var embeddedIdentity = ParseIdentity(options.EmbeddedIdentity ?? new TapPassApiKeyOptions { AgentId = "embedded", Org = "local" }, "EmbeddedIdentity", errors, embedded: true);

        var approvalRules = new List<ApprovalRule>();
        foreach (var rule in options.ApprovalRules)
        {
            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                errors.Add("ApprovalRules: every rule needs a Name.");
                continue;
            }

            Classification? min = null;
            if (rule.MinClassification is not null)
            {
                if (ClassificationNames.TryParse(rule.MinClassification, out var c))
                {
                    min = c;
                }
                else
                {
                    errors.Add($"ApprovalRules:{rule.Name}:MinClassification must be PUBLIC, INTERNAL, CONFIDENTIAL or RESTRICTED.");
                }
            }

            var op = (rule.Operator ?? "exists").Trim().ToLowerInvariant();
            if (op is not ("gt" or "gte" or "lt" or "lte" or "eq" or "ne" or "contains" or "exists"))
            {
                errors.Add($"ApprovalRules:{rule.Name}:Operator must be gt, gte, lt, lte, eq, ne, contains or exists.");
            }
            else if (op is "gt" or "gte" or "lt" or "lte" && !decimal.TryParse(rule.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                errors.Add($"ApprovalRules:{rule.Name}:Value must be a number for {op}.");
            }

            if (rule.Tool is null && min is null && rule.Argument is null)
            {
                errors.Add($"ApprovalRules:{rule.Name} sets no condition.");
            }

            approvalRules.Add(new ApprovalRule(rule.Name, rule.Tool, min, rule.Argument, op, rule.Value));
        }

        var toolTiers = new List<(string, TrustTier)>();
        foreach (var (glob, tier) in options.ToolMinimumTiers)
        {
            if (TrustTiers.TryParse(tier, out var t))
            {
                toolTiers.Add((glob, t));
            }
            else
            {
                errors.Add($"ToolMinimumTiers:{glob} must be observer, worker, standard or full.");
            }
        }

        var classificationTiers = new Dictionary<Classification, TrustTier>();
        foreach (var (name, tier) in options.ClassificationMinimumTiers)
        {
            if (!ClassificationNames.TryParse(name, out var c) || !TrustTiers.TryParse(tier, out var t))
            {
                errors.Add($"ClassificationMinimumTiers:{name} must map a classification to a tier.");
                continue;
            }

            classificationTiers[c] = t;
        }

        foreach (var (tool, hash) in options.RegisteredTools)
        {
            if (!string.IsNullOrEmpty(hash) && (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit)))
            {
                errors.Add($"RegisteredTools:{tool} must be empty or a SHA-256 hex digest.");
            }
        }

        if (errors.Count > 0 || embeddedIdentity is null)
        {
            return errors;
        }

        var recognition = options.ToolRecognition ?? new TapPassToolRecognitionOptions();
        var defaults = new ToolRecognition();
        var toolRecognition = new ToolRecognition
        {
            EmailToolNames = Or(recognition.EmailToolNames, defaults.EmailToolNames),
            FileToolNames = Or(recognition.FileToolNames, defaults.FileToolNames),
            SqlToolNames = Or(recognition.SqlToolNames, defaults.SqlToolNames),
            RecipientArguments = Or(recognition.RecipientArguments, defaults.RecipientArguments),
            PathArguments = Or(recognition.PathArguments, defaults.PathArguments),
            SqlArguments = Or(recognition.SqlArguments, defaults.SqlArguments),
        };

        settings = new EngineSettings
        {
            PublicBaseUrl = options.PublicBaseUrl.TrimEnd('/'),
            DefaultModel = options.DefaultModel,
            DefaultProvider = options.DefaultProvider,
            LocalModels = options.LocalModels is { Count: > 0 } lm ? [.. lm] : ["gpt-4o-mini", "gpt-4o", "local"],
            Flags = new FlagResolver(gatewayDefaults, orgLocks),
            Prices = new PriceTable(prices, defaultPrice),
            Tools = new ToolRuleEvaluator(toolRecognition, new WorkspacePathGuard(options.Workspace)),
            EmbeddedIdentity = embeddedIdentity,
            Keys = keys,
            InjectionThreshold = options.InjectionThreshold,
            CompletionEstimateTokens = options.CompletionEstimateTokens,
            RateLimit = options.RateLimitPerMinute == 0 ? null : new RateLimitRule(options.RateLimitBurst, options.RateLimitPerMinute / 60.0),
            SessionLifetime = options.SessionLifetime,
            IdempotencyRetention = options.IdempotencyRetention,
            CaptureContent = options.CaptureContent,
            MaxMessages = options.MaxMessages,
            MaxInputCharacters = options.MaxInputCharacters,
            MaxTools = options.MaxTools,
            ApprovalRules = approvalRules,
            ApprovalLifetime = options.ApprovalLifetime,
            ToolMinimumTiers = toolTiers,
            ClassificationMinimumTiers = classificationTiers,
            RequireToolRegistration = options.RequireToolRegistration,
            RegisteredTools = new Dictionary<string, string>(options.RegisteredTools, StringComparer.Ordinal),
            CapabilityTokenLifetime = options.CapabilityTokenLifetime,
            SigningKeyPem = options.SigningKeyPem,
            MaxBreakGlassDuration = options.MaxBreakGlassDuration,
        };
        return errors;
    }

    /// <summary>A stable uuid for an agent without a configured one: SHA-256 of org and agent id, version 8 layout.</summary>
    public static string DeriveAgentUuid(string org, string agentId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"tappass-agent:{org}:{agentId}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    private static IReadOnlyList<string> Or(IList<string>? configured, IReadOnlyList<string> defaults) =>
        configured is { Count: > 0 } ? [.. configured] : defaults;

    private static GovernanceFlags ParseFlags(string? value, string setting, List<string> errors)
    {
        if (GovernanceFlags.TryParse(value, out var flags, out var error))
        {
            return flags;
        }

        errors.Add($"{setting}: {error!.Message}");
        return GovernanceFlags.Empty;
    }

    private static AgentIdentity? ParseIdentity(TapPassApiKeyOptions key, string setting, List<string> errors, bool embedded)
    {
        var ok = true;
        if (string.IsNullOrWhiteSpace(key.AgentId) || key.AgentId.Length > 64 || !key.AgentId.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add($"{setting}:AgentId must be 1-64 characters of [a-z0-9-_.].");
            ok = false;
        }

        if (string.IsNullOrWhiteSpace(key.Org) || key.Org.Length > 64)
        {
            errors.Add($"{setting}:Org must be 1-64 characters.");
            ok = false;
        }

        if (!TrustTiers.TryParse(key.TrustTier, out var tier))
        {
            errors.Add($"{setting}:TrustTier must be observer, worker, standard or full.");
            ok = false;
        }

        string uuid;
        if (key.AgentUuid is { Length: > 0 } configured)
        {
            if (!Guid.TryParseExact(configured, "D", out var g))
            {
                errors.Add($"{setting}:AgentUuid must be a hyphenated UUID.");
                ok = false;
            }

            uuid = g.ToString("D");
        }
        else
        {
            uuid = DeriveAgentUuid(key.Org ?? "", key.AgentId ?? "");
        }

        var roles = AgentRoles.None;
        foreach (var role in key.Roles ?? [])
        {
            switch (role?.Trim().ToLowerInvariant())
            {
                case "agent": roles |= AgentRoles.Agent; break;
                case "approver": roles |= AgentRoles.Approver; break;
                case "admin": roles |= AgentRoles.Admin; break;
                default:
                    errors.Add($"{setting}:Roles: unknown role '{role}' (agent, approver, admin).");
                    ok = false;
                    break;
            }
        }

        if (roles == AgentRoles.None)
        {
            roles = embedded ? AgentRoles.Agent | AgentRoles.Approver | AgentRoles.Admin : AgentRoles.Agent;
        }

        var flags = ParseFlags(key.Flags, $"{setting}:Flags", errors);
        var locks = ParseFlags(key.Locks, $"{setting}:Locks", errors);
        return ok
            ? new AgentIdentity
            {
                AgentId = key.AgentId!,
                AgentUuid = uuid,
                Org = key.Org!,
                TrustTier = tier,
                DefaultFlags = flags,
                Locks = locks,
                Roles = roles,
                IsEmbedded = embedded,
            }
            : null;
    }
}
