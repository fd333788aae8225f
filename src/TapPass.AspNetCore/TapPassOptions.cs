using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace TapPass.AspNetCore;

/// <summary>
/// Options of the TapPass ASP.NET Core integration, registered by <c>AddTapPass()</c>. Bound from the <c>TapPass</c>
/// configuration section; a value the section leaves unset falls back to the matching <c>TAPPASS_*</c> variable
/// (<c>TAPPASS_URL</c>, <c>TAPPASS_API_KEY</c>, <c>TAPPASS_FLAGS</c>, <c>TAPPASS_MODEL</c>, <c>TAPPASS_AGENT_UUID</c>);
/// the <c>configure</c> callback of <c>AddTapPass</c> runs last and wins. Validated at start-up.
/// </summary>
public sealed class TapPassOptions
{
    /// <summary>The configuration section bound to these options: <c>TapPass</c>.</summary>
    public const string SectionName = "TapPass";

    /// <summary>Name of the <see cref="System.Net.Http.HttpClient"/> used to reach a remote gateway: <c>TapPass</c>.
    /// Add handlers with <c>services.AddHttpClient(TapPassOptions.HttpClientName).AddHttpMessageHandler(...)</c>.</summary>
    public const string HttpClientName = "TapPass";

    private readonly Dictionary<Type, DecisionMapping> _mappings = [];

    /// <summary>
    /// Base URL of a remote TapPass gateway, e.g. <c>http://localhost:9620</c>. Default none. Required unless an
    /// <see cref="Transport.ITapPassTransport"/> is registered (embedded gateway), which then takes precedence.
    /// Config <c>TapPass:Url</c>, env <c>TAPPASS_URL</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>
    /// Agent API key (<c>tp_…</c>) sent to a remote gateway. Default none; required with <see cref="Url"/>. Never logged.
    /// Config <c>TapPass:ApiKey</c>, env <c>TAPPASS_API_KEY</c>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Default model of the injected agent. Default none (the agent's default, <c>gpt-4o-mini</c>).
    /// Config <c>TapPass:Model</c>, env <c>TAPPASS_MODEL</c>.</summary>
    public string? Model { get; set; }

    /// <summary>Default governance flags in header syntax, e.g. <c>pii=mask, mode=enforce</c>. Default none
    /// (gateway defaults). Validated at start-up. Config <c>TapPass:Flags</c>, env <c>TAPPASS_FLAGS</c>.</summary>
    public string? Flags { get; set; }

    /// <summary>Agent uuid claimed when a request names none. Default none. Config <c>TapPass:AgentUuid</c>,
    /// env <c>TAPPASS_AGENT_UUID</c>.</summary>
    public string? AgentUuid { get; set; }

    /// <summary>Total time allowed for one gateway call, retries included (1 s to 10 min). Default 30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries for transient gateway failures (0 to 10). Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Raise <see cref="BreakGlassActiveException"/> when an answer reports break-glass <c>observe</c>. Default false.</summary>
    public bool RespectBreakGlass { get; set; }

    /// <summary>Raise <see cref="RedactionAppliedException"/> when an answer was masked. Default false.</summary>
    public bool RaiseOnRedaction { get; set; }

    /// <summary>Most messages the injected agent keeps in its history (1 to 10 000). Default 200.</summary>
    public int MaxHistoryMessages { get; set; } = 200;

    /// <summary>Check on the first call that the gateway implements API 0.6.0 or later. Default true.</summary>
    public bool VerifyGatewayVersion { get; set; } = true;

    /// <summary>
    /// Default of <see cref="TapPassMiddlewareOptions.AutoOpenSession"/>: open a fresh session for each request that
    /// names none, and close it when the response has completed. Default false (join the caller's session, or let the
    /// gateway open one on the first call and echo it). Config <c>TapPass:AutoOpenSession</c>.
    /// </summary>
    public bool AutoOpenSession { get; set; }

    /// <summary>
    /// <c>Retry-After</c> sent with a break-glass 503 when the gateway gave neither a <c>Retry-After</c> nor an end
    /// time (1 s to 1 day). Default 30 s.
    /// </summary>
    public TimeSpan BreakGlassRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    internal IReadOnlyDictionary<Type, DecisionMapping> Mappings => _mappings;

    /// <summary>
    /// Customises how <typeparamref name="TException"/> (and its subclasses, unless they have a mapping of their own)
    /// is written as ProblemDetails: <paramref name="statusCode"/> replaces the default status, and
    /// <paramref name="customize"/> runs after the default body is built (it may change any field, the status
    /// included). Mappings of base types run first. Calling it again for the same type replaces what it sets.
    /// </summary>
    /// <typeparam name="TException">A governance decision or another <see cref="TapPassException"/>.</typeparam>
    /// <param name="statusCode">HTTP status to answer with, or null to keep the default.</param>
    /// <param name="customize">Edits the problem; receives the request, the problem and the exception.</param>
    /// <returns>These options, for chaining.</returns>
    /// <example><code>o.MapDecision&lt;PolicyBlockException&gt;(451, (ctx, problem, ex) =&gt; problem.Title = "Not allowed");</code></example>
    public TapPassOptions MapDecision<TException>(int? statusCode = null, Action<HttpContext, ProblemDetails, TException>? customize = null)
        where TException : TapPassException
    {
        if (statusCode is { } s && (s < 400 || s > 599))
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), s, "A TapPass problem status must be 4xx or 5xx.");
        }

        _mappings.TryGetValue(typeof(TException), out var existing);
        Action<HttpContext, ProblemDetails, TapPassException>? untyped = customize is null
            ? existing?.Customize
            : (context, problem, exception) => customize(context, problem, (TException)exception);
        _mappings[typeof(TException)] = new DecisionMapping(statusCode ?? existing?.StatusCode, untyped);
        return this;
    }

    /// <summary>The options of the SDK agent built from these options.</summary>
    internal TapPassAgentOptions CreateAgentOptions()
    {
        var flags = GovernanceFlags.Parse(Flags);
        var agentFlags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in flags)
        {
            agentFlags[key] = value;
        }

        return new TapPassAgentOptions
        {
            Url = Url,
            ApiKey = ApiKey,
            Model = Model,
            Flags = agentFlags,
            Timeout = Timeout,
            MaxRetries = MaxRetries,
            RespectBreakGlass = RespectBreakGlass,
            RaiseOnRedaction = RaiseOnRedaction,
            AgentUuid = AgentUuid,
            MaxHistoryMessages = MaxHistoryMessages,
            VerifyGatewayVersion = VerifyGatewayVersion,
        };
    }
}

/// <summary>A custom mapping registered with <see cref="TapPassOptions.MapDecision{TException}"/>.</summary>
internal sealed record DecisionMapping(int? StatusCode, Action<HttpContext, ProblemDetails, TapPassException>? Customize);
