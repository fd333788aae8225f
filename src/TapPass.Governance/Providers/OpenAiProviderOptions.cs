namespace TapPass.Governance.Providers;

/// <summary>Settings of <see cref="OpenAiModelProvider"/>: any OpenAI-compatible chat-completions endpoint.</summary>
internal sealed class OpenAiProviderOptions
{
    /// <summary>
    /// Base URL of the API, e.g. <c>https://api.openai.com/v1</c> (default when null), an Azure OpenAI v1 endpoint
    /// (<c>https://{resource}.openai.azure.com/openai/v1/</c>), Ollama (<c>http://localhost:11434/v1</c>) or vLLM
    /// (<c>http://host:8000/v1</c>).
    /// </summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Upstream API key. Never logged. Local servers that need none accept any value; default <c>"none"</c>.</summary>
    public string ApiKey { get; set; } = "none";

    /// <summary>
    /// Client-facing model name → upstream model name (e.g. <c>gpt-4o-mini</c> → <c>llama3.1:8b</c>). Names not in
    /// the map are sent unchanged. The keys are the models this provider lists. Default empty.
    /// </summary>
    public IDictionary<string, string> Models { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Time allowed for a complete answer, and for the first and each following update of a stream. Default 60 s.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries of transient upstream failures (429, 5xx, connect errors) before the first byte. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>
    /// Largest upstream answer read, in bytes: a complete answer, or a whole stream. A larger one is refused with a
    /// <see cref="ProviderException"/>. Default 16 MiB.
    /// </summary>
    public long MaxResponseBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Base delay of the exponential retry backoff (doubled each retry, with jitter). Default 0.8 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Provider name reported in <c>upstream_error.provider</c>. Default <c>openai</c>.</summary>
    public string Name { get; set; } = "openai";
}
