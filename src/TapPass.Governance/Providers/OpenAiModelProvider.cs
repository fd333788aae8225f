using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using ProtocolToolCall = TapPass.Protocol.ToolCall;
using ProtocolToolCallDelta = TapPass.Protocol.ToolCallDelta;
using ProtocolFunctionCall = TapPass.Protocol.FunctionCall;
using ProtocolFunctionCallDelta = TapPass.Protocol.FunctionCallDelta;
using ProtocolMessage = TapPass.Protocol.ChatCompletionMessage;

namespace TapPass.Governance.Providers;

/// <summary>
/// A model provider over any OpenAI-compatible chat-completions endpoint, using the official <c>OpenAI</c> client
/// (<see cref="ChatClient"/>). Upstream failures surface as <see cref="ProviderException"/>; a timeout sets
/// <see cref="ProviderException.IsTimeout"/>. Error messages carry the HTTP status only, never the upstream body (which
/// may echo the prompt).
/// </summary>
internal sealed class OpenAiModelProvider : IModelProvider
{
    private static readonly HashSet<string> ReservedFields = new(StringComparer.Ordinal)
    {
        "model", "messages", "stream", "stream_options", "n",
    };

    private readonly OpenAiProviderOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly OpenAIClientOptions _clientOptions;
    private readonly ApiKeyCredential _credential;
    private readonly ConcurrentDictionary<string, ChatClient> _clients = new(StringComparer.Ordinal);

    /// <summary>Creates the provider.</summary>
    /// <param name="options">Endpoint, key, model map and timeout.</param>
    /// <param name="timeProvider">Clock for timeouts.</param>
    /// <param name="httpClient">HTTP client to send through (e.g. from <c>IHttpClientFactory</c>); a private one when null.</param>
    public OpenAiModelProvider(OpenAiProviderOptions options, TimeProvider timeProvider, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "OpenAI provider timeout must be positive.");
        }

        _options = options;
        _timeProvider = timeProvider;
        _credential = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "none" : options.ApiKey);
        _clientOptions = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(Math.Max(0, options.MaxRetries)),

            // Our own cancellation enforces the timeout; the pipeline's must not fire first with a different exception.
            NetworkTimeout = options.Timeout + TimeSpan.FromSeconds(5),

            // No per-request message logging in the client pipeline (TapPass logs its own decisions, never upstream
            // traffic); distributed tracing stays on.
            ClientLoggingOptions = new ClientLoggingOptions { EnableLogging = false },
        };
        if (options.BaseUrl is not null)
        {
            _clientOptions.Endpoint = options.BaseUrl;
        }

        if (httpClient is not null)
        {
            _clientOptions.Transport = new HttpClientPipelineTransport(httpClient);
        }

        Models = [.. options.Models.Keys];
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <inheritdoc />
    public IReadOnlyList<string> Models { get; }

    /// <summary>The upstream name of a client-facing model name (unchanged when not mapped).</summary>
    public string MapModel(string model) => _options.Models.TryGetValue(model, out var upstream) ? upstream : model;

    /// <inheritdoc />
    public async Task<ProviderResult> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var client = GetClient(request.Model);
        var messages = MapMessages(request.Messages);
        var options = MapOptions(request);

        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        ChatCompletion completion;
        try
        {
            completion = (await client.CompleteChatAsync(messages, options, linked.Token)).Value;
        }
        catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        var content = new StringBuilder();
        foreach (var part in completion.Content)
        {
            if (part.Kind == ChatMessageContentPartKind.Text)
            {
                content.Append(part.Text);
            }
        }

        return new ProviderResult
        {
            Model = string.IsNullOrEmpty(completion.Model) ? request.Model : completion.Model,
            Content = content.ToString(),
            ToolCalls = [.. completion.ToolCalls.Select(static c => new ProtocolToolCall
            {
                Id = c.Id,
                Type = "function",
                Function = new ProtocolFunctionCall { Name = c.FunctionName, Arguments = c.FunctionArguments?.ToString() ?? "{}" },
            })],
            FinishReason = MapFinishReason(completion.FinishReason),
            PromptTokens = completion.Usage?.InputTokenCount ?? 0,
            CompletionTokens = completion.Usage?.OutputTokenCount ?? 0,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var client = GetClient(request.Model);
        var messages = MapMessages(request.Messages);
        var options = MapOptions(request);

        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        IAsyncEnumerator<StreamingChatCompletionUpdate> updates;
        try
        {
            updates = client.CompleteChatStreamingAsync(messages, options, linked.Token).GetAsyncEnumerator(linked.Token);
        }
        catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        await using (updates)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await updates.MoveNextAsync();
                }
                catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
                {
                    throw mapped;
                }

                if (!more)
                {
                    yield break;
                }

                // The timeout is per update: a long answer that keeps streaming is not cut off.
                timeout.CancelAfter(_options.Timeout);
                if (ToUpdate(updates.Current) is { } update)
                {
                    yield return update;
                }
            }
        }
    }

    private ChatClient GetClient(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var upstream = MapModel(model);
        return _clients.GetOrAdd(upstream, static (name, self) => new ChatClient(name, self._credential, self._clientOptions), this);
    }

    private static ProviderStreamUpdate? ToUpdate(StreamingChatCompletionUpdate update)
    {
        string? text = null;
        foreach (var part in update.ContentUpdate)
        {
            if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
            {
                text = text is null ? part.Text : text + part.Text;
            }
        }

        List<ProtocolToolCallDelta>? toolCalls = null;
        foreach (var call in update.ToolCallUpdates)
        {
            toolCalls ??= [];
            var args = call.FunctionArgumentsUpdate is { } data && !data.IsEmpty ? data.ToString() : null;
            toolCalls.Add(new ProtocolToolCallDelta
            {
                Index = call.Index,
                Id = call.ToolCallId,
                Type = call.ToolCallId is null ? null : "function",
                Function = call.FunctionName is null && args is null ? null : new ProtocolFunctionCallDelta { Name = call.FunctionName, Arguments = args },
            });
        }

        var finish = update.FinishReason is { } reason ? MapFinishReason(reason) : null;
        int? promptTokens = update.Usage?.InputTokenCount;
        int? completionTokens = update.Usage?.OutputTokenCount;
        if (text is null && toolCalls is null && finish is null && promptTokens is null)
        {
            return null;
        }

        return new ProviderStreamUpdate
        {
            ContentDelta = text,
            ToolCalls = toolCalls,
            FinishReason = finish,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
        };
    }

    private ProviderException? MapException(Exception ex, CancellationToken callerToken)
    {
        if (callerToken.IsCancellationRequested)
        {
            return null; // The caller cancelled: let the OperationCanceledException through.
        }

        return ex switch
        {
            ProviderException => null,
            OperationCanceledException or TimeoutException =>
                new ProviderException(Name, $"Upstream model did not answer within {_options.Timeout.TotalSeconds:0.###} s.", isTimeout: true, ex),
            ClientResultException { Status: 0 } when ex.InnerException is TimeoutException or OperationCanceledException =>
                new ProviderException(Name, "Upstream model timed out.", isTimeout: true, ex),
            ClientResultException { Status: 0 } => new ProviderException(Name, "Upstream model is unreachable.", isTimeout: false, ex),
            ClientResultException cre => new ProviderException(Name, $"Upstream model answered HTTP {cre.Status}.", isTimeout: cre.Status is 408 or 504, ex),
            HttpRequestException => new ProviderException(Name, "Upstream model is unreachable.", isTimeout: false, ex),
            JsonException or FormatException or InvalidOperationException or KeyNotFoundException =>
                new ProviderException(Name, "Upstream model sent an answer that could not be read.", isTimeout: false, ex),
            IOException => new ProviderException(Name, "Upstream connection failed.", isTimeout: false, ex),
            _ => null,
        };
    }

    private static List<ChatMessage> MapMessages(IReadOnlyList<ProtocolMessage> messages)
    {
        var result = new List<ChatMessage>(messages.Count);
        foreach (var m in messages)
        {
            var content = m.Content ?? "";
            ChatMessage mapped;
            switch (m.Role)
            {
                case "system":
                    mapped = new SystemChatMessage(content) { ParticipantName = m.Name };
                    break;
                case "developer":
#pragma warning disable OPENAI001 // Developer messages are stable on the wire; the client marks the type as evaluation.
                    mapped = new DeveloperChatMessage(content) { ParticipantName = m.Name };
#pragma warning restore OPENAI001
                    break;
                case "user":
                    mapped = new UserChatMessage(content) { ParticipantName = m.Name };
                    break;
                case "assistant" when m.ToolCalls is { Count: > 0 }:
                    var assistant = new AssistantChatMessage(m.ToolCalls.Select(static c =>
                        ChatToolCall.CreateFunctionToolCall(c.Id, c.Function.Name, BinaryData.FromString(string.IsNullOrEmpty(c.Function.Arguments) ? "{}" : c.Function.Arguments))))
                    {
                        ParticipantName = m.Name,
                    };
                    if (!string.IsNullOrEmpty(m.Content))
                    {
                        assistant.Content.Add(ChatMessageContentPart.CreateTextPart(m.Content));
                    }

                    mapped = assistant;
                    break;
                case "assistant":
                    mapped = new AssistantChatMessage(content) { ParticipantName = m.Name };
                    break;
                case "tool":
                    mapped = new ToolChatMessage(m.ToolCallId ?? "", content);
                    break;
                default:
                    throw new ArgumentException($"Unsupported message role '{m.Role}'.", nameof(messages));
            }

            result.Add(mapped);
        }

        return result;
    }

    private static ChatCompletionOptions MapOptions(ProviderRequest request)
    {
        var options = new ChatCompletionOptions();
        if (request.Temperature is { } temperature)
        {
            options.Temperature = (float)temperature;
        }

        if (request.MaxTokens is { } maxTokens)
        {
            options.MaxOutputTokenCount = maxTokens;
        }

        if (request.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools)
            {
                var parameters = tool.Function.Parameters is { ValueKind: JsonValueKind.Object } p ? BinaryData.FromString(p.GetRawText()) : null;
                options.Tools.Add(ChatTool.CreateFunctionTool(tool.Function.Name, tool.Function.Description, parameters, tool.Function.Strict));
            }
        }

        if (request.ToolChoice is { } choice && MapToolChoice(choice) is { } toolChoice)
        {
            options.ToolChoice = toolChoice;
        }

        if (request.ResponseFormat is { } format && MapResponseFormat(format) is { } responseFormat)
        {
            options.ResponseFormat = responseFormat;
        }

        if (request.AdditionalProperties is { Count: > 0 } extra)
        {
            foreach (var (name, value) in extra)
            {
                if (ReservedFields.Contains(name) || !IsSimpleName(name))
                {
                    continue;
                }

#pragma warning disable SCME0001 // JsonPatch is the client's documented way to send fields it does not model.
                options.Patch.Set(Encoding.UTF8.GetBytes("$." + name), Encoding.UTF8.GetBytes(value.GetRawText()));
#pragma warning restore SCME0001
            }
        }

        return options;
    }

    private static bool IsSimpleName(string name)
    {
        if (name.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static ChatToolChoice? MapToolChoice(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "auto" => ChatToolChoice.CreateAutoChoice(),
                "none" => ChatToolChoice.CreateNoneChoice(),
                "required" => ChatToolChoice.CreateRequiredChoice(),
                _ => null,
            };
        }

        if (choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("function", out var function)
            && function.ValueKind == JsonValueKind.Object
            && function.TryGetProperty("name", out var name)
            && name.ValueKind == JsonValueKind.String)
        {
            return ChatToolChoice.CreateFunctionChoice(name.GetString()!);
        }

        return null;
    }

    private static ChatResponseFormat? MapResponseFormat(JsonElement format)
    {
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        switch (type.GetString())
        {
            case "text":
                return ChatResponseFormat.CreateTextFormat();
            case "json_object":
                return ChatResponseFormat.CreateJsonObjectFormat();
            case "json_schema" when format.TryGetProperty("json_schema", out var schema) && schema.ValueKind == JsonValueKind.Object:
                var name = schema.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "response";
                var body = schema.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.Object ? BinaryData.FromString(s.GetRawText()) : BinaryData.FromString("{}");
                var description = schema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                bool? strict = schema.TryGetProperty("strict", out var st) && st.ValueKind is JsonValueKind.True or JsonValueKind.False ? st.GetBoolean() : null;
                return ChatResponseFormat.CreateJsonSchemaFormat(name, body, description, strict);
            default:
                return null;
        }
    }

    private static string MapFinishReason(ChatFinishReason reason) => reason switch
    {
        ChatFinishReason.Stop => "stop",
        ChatFinishReason.Length => "length",
        ChatFinishReason.ContentFilter => "content_filter",
        ChatFinishReason.ToolCalls => "tool_calls",
        ChatFinishReason.FunctionCall => "function_call",
        _ => "stop",
    };
}
