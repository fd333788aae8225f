using System.Text.Json;
using TapPass.Protocol;

namespace TapPass.Governance.Providers;

/// <summary>What the pipeline sends to a model (after input governance: masked messages).</summary>
internal sealed record ProviderRequest
{
    /// <summary>Upstream model name (after the provider's model map).</summary>
    public required string Model { get; init; }

    /// <summary>Messages, already governed.</summary>
    public required IReadOnlyList<ChatCompletionMessage> Messages { get; init; }

    public double? Temperature { get; init; }
    public int? MaxTokens { get; init; }
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    public JsonElement? ToolChoice { get; init; }
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Unmodelled request fields, passed through.</summary>
    public IReadOnlyDictionary<string, JsonElement>? AdditionalProperties { get; init; }
}

/// <summary>A complete model answer.</summary>
internal sealed record ProviderResult
{
    public required string Model { get; init; }
    public string Content { get; init; } = "";
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];
    public string FinishReason { get; init; } = "stop";
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
}

/// <summary>One streamed update: a text delta, tool-call fragments, and on the last update finish reason and usage.</summary>
internal sealed record ProviderStreamUpdate
{
    public string? ContentDelta { get; init; }
    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
    public string? FinishReason { get; init; }
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
}

/// <summary>A model backend: the built-in offline model or an OpenAI-compatible endpoint.</summary>
internal interface IModelProvider
{
    /// <summary>Provider name, e.g. <c>local</c> or <c>openai</c>; reported in <c>upstream_error.provider</c>.</summary>
    string Name { get; }

    /// <summary>Models this provider serves (client-facing names).</summary>
    IReadOnlyList<string> Models { get; }

    /// <summary>Completes a chat. Throws <see cref="ProviderException"/> on upstream failure.</summary>
    Task<ProviderResult> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>Streams a chat. Throws <see cref="ProviderException"/> on upstream failure.</summary>
    IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, CancellationToken cancellationToken);
}

/// <summary>An upstream failure; mapped to <c>upstream_error</c> (502, or 504 for <see cref="IsTimeout"/>).</summary>
internal sealed class ProviderException : Exception
{
    public ProviderException() : this("Upstream failure.") { }

    public ProviderException(string message) : this("unknown", message, false) { }

    public ProviderException(string message, Exception? innerException) : base(message, innerException) => Provider = "unknown";

    public ProviderException(string provider, string message, bool isTimeout, Exception? innerException = null)
        : base(message, innerException)
    {
        Provider = provider;
        IsTimeout = isTimeout;
    }

    public string Provider { get; }

    public bool IsTimeout { get; }
}
