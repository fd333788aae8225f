using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using TapPass.Protocol;
using TapPass.Transport;
using ProtocolMessage = TapPass.Protocol.ChatCompletionMessage;

namespace TapPass.Governance.Providers;

/// <summary>
/// A model provider over any OpenAI-compatible chat-completions endpoint: one <see cref="HttpClient"/> POST of
/// <c>{BaseUrl}/chat/completions</c>, serialised and read with the source-generated <see cref="TapPassJsonContext"/>,
/// streams parsed with <see cref="SseParser"/>. Upstream failures surface as <see cref="ProviderException"/>; a timeout
/// sets <see cref="ProviderException.IsTimeout"/>. Error messages carry the HTTP status only, never the upstream body
/// (which may echo the prompt). The answer is bounded by <see cref="OpenAiProviderOptions.MaxResponseBytes"/>.
/// Transient failures (connect errors, 408, 429, 5xx) are retried <see cref="OpenAiProviderOptions.MaxRetries"/> times,
/// only before any byte of the answer has been read.
/// </summary>
internal sealed class OpenAiModelProvider : IModelProvider
{
    private static readonly Uri DefaultBaseUrl = new("https://api.openai.com/v1");

    /// <summary>Fields the provider writes itself; a passthrough field of the same name is dropped.</summary>
    private static readonly HashSet<string> ReservedFields = new(StringComparer.Ordinal)
    {
        "model", "messages", "stream", "stream_options", "n", "temperature", "max_tokens", "max_completion_tokens",
        "tools", "tool_choice", "response_format", "user", "metadata",
    };

    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptEventStream = new("text/event-stream");
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly OpenAiProviderOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly AuthenticationHeaderValue _authorization;

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

        if (options.MaxResponseBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "OpenAI provider response bound must be positive.");
        }

        _options = options;
        _timeProvider = timeProvider;

        // Our own cancellation enforces the timeout; the client's must not fire first with a different exception.
        _http = httpClient ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var baseUrl = (options.BaseUrl ?? DefaultBaseUrl).AbsoluteUri.TrimEnd('/');
        _endpoint = new Uri(baseUrl + "/chat/completions", UriKind.Absolute);
        _authorization = new AuthenticationHeaderValue("Bearer", string.IsNullOrEmpty(options.ApiKey) ? "none" : options.ApiKey);
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
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Model);
        var body = Serialize(request, stream: false);

        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        ChatCompletionResponse? completion;
        try
        {
            using var response = await SendAsync(body, stream: false, linked.Token).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength is { } length && length > _options.MaxResponseBytes)
            {
                throw new StreamTooLargeException(_options.MaxResponseBytes);
            }

            var content = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            await using var bounded = new BoundedReadStream(content, _options.MaxResponseBytes);
            completion = await JsonSerializer.DeserializeAsync(bounded, TapPassJsonContext.Default.ChatCompletionResponse, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        if (completion?.Choices is not { Count: > 0 } choices || choices[0]?.Message is not { } message)
        {
            throw Unreadable(null);
        }

        return new ProviderResult
        {
            Model = string.IsNullOrEmpty(completion.Model) ? request.Model : completion.Model,
            Content = message.Content ?? "",
            ToolCalls = message.ToolCalls is { Count: > 0 } calls
                ? [.. calls.Where(static c => c is not null).Select(static c => new ToolCall
                {
                    Id = c.Id ?? "",
                    Type = "function",
                    Function = new FunctionCall { Name = c.Function?.Name ?? "", Arguments = c.Function?.Arguments ?? "{}" },
                })]
                : [],
            FinishReason = MapFinishReason(choices[0].FinishReason) ?? "stop",
            PromptTokens = completion.Usage?.PromptTokens ?? 0,
            CompletionTokens = completion.Usage?.CompletionTokens ?? 0,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Model);
        var body = Serialize(request, stream: true);

        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        Stream content;
        try
        {
            response = await SendAsync(body, stream: true, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        using (response)
        {
            try
            {
                content = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
            {
                throw mapped;
            }

            // From here on nothing is retried: the answer has started.
            var bounded = new BoundedReadStream(content, _options.MaxResponseBytes);
            await using (bounded.ConfigureAwait(false))
            {
                var parser = SseParser.Create(bounded, static (_, data) => StreamItem.Parse(data));
                var events = parser.EnumerateAsync(linked.Token).GetAsyncEnumerator(linked.Token);
                await using (events.ConfigureAwait(false))
                {
                    while (true)
                    {
                        bool more;
                        try
                        {
                            more = await events.MoveNextAsync().ConfigureAwait(false);
                        }
                        catch (Exception ex) when (MapException(ex, cancellationToken) is { } mapped)
                        {
                            throw mapped;
                        }

                        if (!more)
                        {
                            yield break;
                        }

                        var item = events.Current.Data;
                        if (item.Done)
                        {
                            yield break;
                        }

                        if (item.Chunk?.Error is not null)
                        {
                            throw new ProviderException(Name, "Upstream model reported an error during the stream.", isTimeout: false);
                        }

                        // The timeout is per update: a long answer that keeps streaming is not cut off.
                        timeout.CancelAfter(_options.Timeout);
                        if (item.Chunk is not null && ToUpdate(item.Chunk) is { } update)
                        {
                            yield return update;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Sends the request, retrying transient failures (connect errors, 408, 429, 500, 502, 503, 504) before any byte of
    /// the answer; returns a response with a success status whose body has not been read.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(byte[] body, bool stream, CancellationToken cancellationToken)
    {
        var retries = Math.Max(0, _options.MaxRetries);
        for (var attempt = 0; ; attempt++)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, _endpoint);
            message.Headers.Authorization = _authorization;
            message.Headers.Accept.Add(stream ? AcceptEventStream : AcceptJson);
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonContentType;
            message.Content = content;

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < retries && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt, null), _timeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var status = (int)response.StatusCode;
            var retryAfter = response.Headers.RetryAfter;
            response.Dispose(); // The error body is never read: it may echo the prompt.
            if (attempt < retries && IsTransient(status))
            {
                await Task.Delay(Backoff(attempt, retryAfter), _timeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            throw new ProviderException(Name, $"Upstream model answered HTTP {status.ToString(CultureInfo.InvariantCulture)}.", isTimeout: status is 408 or 504);
        }
    }

    private static bool IsTransient(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>Exponential backoff with jitter; a server's <c>Retry-After</c> wins when it is sooner than a minute.</summary>
    private TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        if (retryAfter?.Delta is { } delta && delta >= TimeSpan.Zero && delta <= TimeSpan.FromMinutes(1))
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - _timeProvider.GetUtcNow();
            if (wait >= TimeSpan.Zero && wait <= TimeSpan.FromMinutes(1))
            {
                return wait;
            }
        }

        var baseDelay = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 10));
        return TimeSpan.FromMilliseconds(baseDelay * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    private byte[] Serialize(ProviderRequest request, bool stream)
    {
        var wire = new ChatCompletionRequest
        {
            Model = MapModel(request.Model),
            Messages = MapMessages(request.Messages),
            Stream = stream ? true : null,
            StreamOptions = stream ? new StreamOptions { IncludeUsage = true } : null,
            Temperature = request.Temperature,
            MaxCompletionTokens = request.MaxTokens,
            Tools = MapTools(request.Tools),
            ToolChoice = request.ToolChoice is { } choice ? MapToolChoice(choice) : null,
            ResponseFormat = request.ResponseFormat is { } format ? MapResponseFormat(format) : null,
        };

        if (request.AdditionalProperties is { Count: > 0 } extra)
        {
            foreach (var (name, value) in extra)
            {
                if (ReservedFields.Contains(name) || !IsSimpleName(name))
                {
                    continue;
                }

                wire.AdditionalProperties ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                wire.AdditionalProperties[name] = value;
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(wire, TapPassJsonContext.Default.ChatCompletionRequest);
    }

    private static ProviderStreamUpdate? ToUpdate(ChatCompletionChunk chunk)
    {
        var choice = chunk.Choices is { Count: > 0 } choices ? choices[0] : null;
        var text = choice?.Delta?.Content is { Length: > 0 } t ? t : null;

        List<ToolCallDelta>? toolCalls = null;
        if (choice?.Delta?.ToolCalls is { Count: > 0 } deltas)
        {
            foreach (var call in deltas)
            {
                if (call is null)
                {
                    continue;
                }

                toolCalls ??= [];
                var args = call.Function?.Arguments is { Length: > 0 } a ? a : null;
                var name = call.Function?.Name;
                toolCalls.Add(new ToolCallDelta
                {
                    Index = call.Index,
                    Id = call.Id,
                    Type = call.Id is null ? null : "function",
                    Function = name is null && args is null ? null : new FunctionCallDelta { Name = name, Arguments = args },
                });
            }
        }

        var finish = MapFinishReason(choice?.FinishReason);
        int? promptTokens = chunk.Usage?.PromptTokens;
        int? completionTokens = chunk.Usage?.CompletionTokens;
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

    private ProviderException Unreadable(Exception? inner) =>
        new(Name, "Upstream model sent an answer that could not be read.", isTimeout: false, inner);

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
            StreamTooLargeException =>
                new ProviderException(Name, $"Upstream model sent an answer larger than {_options.MaxResponseBytes.ToString(CultureInfo.InvariantCulture)} bytes.", isTimeout: false, ex),
            HttpRequestException { InnerException: TimeoutException } =>
                new ProviderException(Name, "Upstream model timed out.", isTimeout: true, ex),
            HttpRequestException => new ProviderException(Name, "Upstream model is unreachable.", isTimeout: false, ex),
            JsonException or FormatException or InvalidOperationException or KeyNotFoundException => Unreadable(ex),
            IOException => new ProviderException(Name, "Upstream connection failed.", isTimeout: false, ex),
            _ => null,
        };
    }

    private static List<ProtocolMessage> MapMessages(IReadOnlyList<ProtocolMessage> messages)
    {
        var result = new List<ProtocolMessage>(messages.Count);
        foreach (var m in messages)
        {
            var content = m.Content ?? "";
            ProtocolMessage mapped = m.Role switch
            {
                "system" or "developer" or "user" => new ProtocolMessage { Role = m.Role, Content = content, Name = m.Name },
                "assistant" when m.ToolCalls is { Count: > 0 } => new ProtocolMessage
                {
                    Role = "assistant",
                    Content = string.IsNullOrEmpty(m.Content) ? null : m.Content,
                    Name = m.Name,
                    ToolCalls = [.. m.ToolCalls.Select(static c => new ToolCall
                    {
                        Id = c.Id,
                        Type = "function",
                        Function = new FunctionCall { Name = c.Function.Name, Arguments = string.IsNullOrEmpty(c.Function.Arguments) ? "{}" : c.Function.Arguments },
                    })],
                },
                "assistant" => new ProtocolMessage { Role = "assistant", Content = content, Name = m.Name },
                "tool" => new ProtocolMessage { Role = "tool", Content = content, ToolCallId = m.ToolCallId ?? "" },
                _ => throw new ArgumentException($"Unsupported message role '{m.Role}'.", nameof(messages)),
            };
            result.Add(mapped);
        }

        return result;
    }

    private static List<ToolDefinition>? MapTools(IReadOnlyList<ToolDefinition>? tools)
    {
        if (tools is not { Count: > 0 })
        {
            return null;
        }

        var result = new List<ToolDefinition>(tools.Count);
        foreach (var tool in tools)
        {
            result.Add(new ToolDefinition
            {
                Type = "function",
                Function = new FunctionDefinition
                {
                    Name = tool.Function.Name,
                    Description = tool.Function.Description,
                    Parameters = tool.Function.Parameters is { ValueKind: JsonValueKind.Object } p ? p : null,
                    Strict = tool.Function.Strict,
                },
            });
        }

        return result;
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

    private static JsonElement? MapToolChoice(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() is "auto" or "none" or "required" ? choice : null;
        }

        if (choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("function", out var function)
            && function.ValueKind == JsonValueKind.Object
            && function.TryGetProperty("name", out var name)
            && name.ValueKind == JsonValueKind.String)
        {
            return Build(w =>
            {
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name.GetString());
                w.WriteEndObject();
            });
        }

        return null;
    }

    private static JsonElement? MapResponseFormat(JsonElement format)
    {
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        switch (type.GetString())
        {
            case "text":
            case "json_object":
                var kind = type.GetString()!;
                return Build(w => w.WriteString("type", kind));
            case "json_schema" when format.TryGetProperty("json_schema", out var schema) && schema.ValueKind == JsonValueKind.Object:
                var name = schema.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "response";
                JsonElement? body = schema.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.Object ? s : null;
                var description = schema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                bool? strict = schema.TryGetProperty("strict", out var st) && st.ValueKind is JsonValueKind.True or JsonValueKind.False ? st.GetBoolean() : null;
                return Build(w =>
                {
                    w.WriteString("type", "json_schema");
                    w.WriteStartObject("json_schema");
                    if (description is not null)
                    {
                        w.WriteString("description", description);
                    }

                    w.WriteString("name", name);
                    w.WritePropertyName("schema");
                    if (body is { } b)
                    {
                        b.WriteTo(w);
                    }
                    else
                    {
                        w.WriteStartObject();
                        w.WriteEndObject();
                    }

                    if (strict is { } isStrict)
                    {
                        w.WriteBoolean("strict", isStrict);
                    }

                    w.WriteEndObject();
                });
            default:
                return null;
        }
    }

    private static JsonElement Build(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static string? MapFinishReason(string? reason) => reason switch
    {
        null => null,
        "stop" or "length" or "content_filter" or "tool_calls" or "function_call" => reason,
        _ => "stop",
    };

    /// <summary>One server-sent event of an upstream stream: a chunk, or the <c>[DONE]</c> marker.</summary>
    private readonly record struct StreamItem(bool Done, ChatCompletionChunk? Chunk)
    {
        public static StreamItem Parse(ReadOnlySpan<byte> data)
        {
            if (data.SequenceEqual("[DONE]"u8))
            {
                return new StreamItem(true, null);
            }

            return new StreamItem(false, JsonSerializer.Deserialize(data, TapPassJsonContext.Default.ChatCompletionChunk));
        }
    }
}
