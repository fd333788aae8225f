using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;

namespace TapPass.Governance.Providers;

/// <summary>
/// An <see cref="IChatClient"/> as the model of one governed call (the <c>TapPassChatClient</c>'s inner client). The
/// engine hands it the governed (masked) messages; everything else the inner client sees comes from the caller's own
/// <see cref="ChatOptions"/> (model, tools as the caller's <see cref="AITool"/> objects, temperature, provider-specific
/// properties, <see cref="ChatOptions.ConversationId"/> untouched), minus the <c>tappass.*</c> keys and
/// <see cref="ChatOptions.Instructions"/>, which the engine governed as the first system message. One instance serves
/// one call. Failures of the inner client become <see cref="ProviderException"/> (the engine answers
/// <c>upstream_error</c>); the original exception is kept in <see cref="Failure"/>.
/// </summary>
internal sealed class ChatClientModelProvider : IModelProvider
{
    /// <summary>Provider name when the inner client does not report one.</summary>
    public const string DefaultName = "chat_client";

    private const int MaxNameLength = 64;
    private readonly IChatClient _inner;
    private readonly ChatOptions? _options;

    public ChatClientModelProvider(IChatClient inner, ChatOptions? callerOptions)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _options = InnerOptions(callerOptions);
        var reported = inner.GetService<ChatClientMetadata>()?.ProviderName;
        Name = reported is { Length: > 0 and <= MaxNameLength } && reported.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') ? reported : DefaultName;
    }

    public string Name { get; }

    public IReadOnlyList<string> Models => [];

    /// <summary>The exception the inner client threw, when it failed.</summary>
    public Exception? Failure { get; private set; }

    public async Task<ProviderResult> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        Microsoft.Extensions.AI.ChatResponse response;
        try
        {
            response = await _inner.GetResponseAsync(Messages(request.Messages), _options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Wrap(ex, cancellationToken) is { } wrapped)
        {
            throw wrapped;
        }

        var calls = new List<ToolCall>();
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is FunctionCallContent call)
                {
                    calls.Add(ToolCallOf(call, calls.Count));
                }
            }
        }

        var text = response.Text;
        var usage = response.Usage;
        return new ProviderResult
        {
            Model = string.IsNullOrEmpty(response.ModelId) ? request.Model : response.ModelId,
            Content = text,
            ToolCalls = calls,
            FinishReason = response.FinishReason?.Value ?? (calls.Count > 0 ? "tool_calls" : "stop"),
            PromptTokens = Tokens(usage?.InputTokenCount) ?? TokenEstimator.CountMessages(request.Messages, request.Tools),
            CompletionTokens = Tokens(usage?.OutputTokenCount) ?? (text.Length + 3) / 4,
        };
    }

    public async IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = _inner.GetStreamingResponseAsync(Messages(request.Messages), _options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception ex) when (Wrap(ex, cancellationToken) is { } wrapped)
        {
            throw wrapped;
        }

        await using (updates.ConfigureAwait(false))
        {
            var index = 0;
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception ex) when (Wrap(ex, cancellationToken) is { } wrapped)
                {
                    throw wrapped;
                }

                var update = updates.Current;
                List<ToolCallDelta>? calls = null;
                int? prompt = null, completion = null;
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case FunctionCallContent call:
                            var toolCall = ToolCallOf(call, index);
                            (calls ??= []).Add(new ToolCallDelta
                            {
                                Index = index++,
                                Id = toolCall.Id,
                                Type = "function",
                                Function = new FunctionCallDelta { Name = toolCall.Function.Name, Arguments = toolCall.Function.Arguments },
                            });
                            break;
                        case UsageContent usage:
                            prompt = Tokens(usage.Details.InputTokenCount) ?? prompt;
                            completion = Tokens(usage.Details.OutputTokenCount) ?? completion;
                            break;
                    }
                }

                var text = update.Text;
                if (text.Length == 0 && calls is null && prompt is null && completion is null && update.FinishReason is null)
                {
                    continue;
                }

                yield return new ProviderStreamUpdate
                {
                    ContentDelta = text.Length > 0 ? text : null,
                    ToolCalls = calls,
                    FinishReason = update.FinishReason?.Value,
                    PromptTokens = prompt,
                    CompletionTokens = completion,
                };
            }
        }
    }

    /// <summary>The caller's options for the inner client: TapPass keys and instructions removed, the rest as given.</summary>
    private static ChatOptions? InnerOptions(ChatOptions? caller)
    {
        if (caller is null)
        {
            return null;
        }

        var options = caller.Clone();
        options.Instructions = null;
        if (options.AdditionalProperties is { Count: > 0 } properties)
        {
            var kept = new AdditionalPropertiesDictionary();
            foreach (var (key, value) in properties)
            {
                if (!key.StartsWith("tappass.", StringComparison.Ordinal))
                {
                    kept[key] = value;
                }
            }

            options.AdditionalProperties = kept.Count > 0 ? kept : null;
        }

        return options;
    }

    /// <summary>The governed wire messages as <see cref="ChatMessage"/>s: text, tool calls and tool results.</summary>
    internal static List<ChatMessage> Messages(IReadOnlyList<ChatCompletionMessage> messages)
    {
        var result = new List<ChatMessage>(messages.Count);
        foreach (var m in messages)
        {
            if (m.Role == "tool")
            {
                result.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(m.ToolCallId ?? "", m.Content ?? "")]));
                continue;
            }

            var contents = new List<AIContent>();
            if (!string.IsNullOrEmpty(m.Content))
            {
                contents.Add(new TextContent(m.Content));
            }

            foreach (var call in m.ToolCalls ?? [])
            {
                contents.Add(new FunctionCallContent(call.Id ?? "", call.Function?.Name ?? "", Arguments(call.Function?.Arguments)));
            }

            result.Add(new ChatMessage(new ChatRole(m.Role), contents) { AuthorName = string.IsNullOrEmpty(m.Name) ? null : m.Name });
        }

        return result;
    }

    private static Dictionary<string, object?>? Arguments(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, object?>>(json, ToolSettings.DefaultSerializerOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ToolCall ToolCallOf(FunctionCallContent call, int index) => new()
    {
        Id = string.IsNullOrEmpty(call.CallId) ? $"call_{index}" : call.CallId,
        Type = "function",
        Function = new FunctionCall
        {
            Name = call.Name ?? "",
            Arguments = call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, ToolSettings.DefaultSerializerOptions),
        },
    };

    private static int? Tokens(long? count) => count is { } n ? (int)Math.Clamp(n, 0, int.MaxValue) : null;

    /// <summary>Cancellation by the caller passes through; anything else becomes a <see cref="ProviderException"/>.</summary>
    private ProviderException? Wrap(Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (ex is OutOfMemoryException)
        {
            return null;
        }

        Failure = ex;
        var timeout = ex is TimeoutException or OperationCanceledException;
        return new ProviderException(Name, timeout ? "The inner chat client timed out." : "The inner chat client failed.", timeout, ex);
    }
}
