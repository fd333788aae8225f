using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TapPass.Protocol;

namespace TapPass;

/// <summary>
/// Conversions between Microsoft.Extensions.AI chat types and the wire protocol, shared by the <see cref="IChatClient"/>
/// view of an agent and the engine's <c>TapPassChatClient</c>: messages and options to a <see cref="ChatCompletionRequest"/>,
/// <c>tappass.*</c> additional properties to per-call headers, answers back to contents, usage and metadata.
/// </summary>
internal static class ChatClientMapping
{
    /// <summary>Most messages one request may carry.</summary>
    public const int MaxMessages = 10_000;

    // ---- request ---------------------------------------------------------------------------------------------------

    public static (ChatCompletionRequest Request, StatelessCall Call) Build(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var call = Headers(options?.AdditionalProperties);
        var request = new ChatCompletionRequest { Messages = [] };
        if (!string.IsNullOrWhiteSpace(options?.Instructions))
        {
            request.Messages.Add(ChatCompletionMessage.Create("system", options.Instructions));
        }

        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            AddMessage(request.Messages, message);
            if (request.Messages.Count > MaxMessages)
            {
                throw new ArgumentException($"At most {MaxMessages} messages per request.", nameof(messages));
            }
        }

        if (options is null)
        {
            return (request, call);
        }

        if (options.ModelId is { } model && !string.IsNullOrWhiteSpace(model))
        {
            if (!TapPassAgent.IsValidModel(model.Trim()))
            {
                throw new ArgumentException("ModelId must be 1-256 printable characters.", nameof(options));
            }

            request.Model = model.Trim();
        }

        if (options.Temperature is { } temperature)
        {
            if (!float.IsFinite(temperature) || temperature < 0)
            {
                throw new ArgumentException("Temperature must be a finite, non-negative number.", nameof(options));
            }

            request.Temperature = temperature;
        }

        if (options.MaxOutputTokens is { } maxTokens)
        {
            request.MaxTokens = maxTokens > 0 ? maxTokens : throw new ArgumentException("MaxOutputTokens must be positive.", nameof(options));
        }

        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (options.TopP is { } topP)
        {
            extra["top_p"] = Element(w => w.WriteNumberValue(Finite(topP, nameof(ChatOptions.TopP))));
        }

        if (options.FrequencyPenalty is { } frequency)
        {
            extra["frequency_penalty"] = Element(w => w.WriteNumberValue(Finite(frequency, nameof(ChatOptions.FrequencyPenalty))));
        }

        if (options.PresencePenalty is { } presence)
        {
            extra["presence_penalty"] = Element(w => w.WriteNumberValue(Finite(presence, nameof(ChatOptions.PresencePenalty))));
        }

        if (options.Seed is { } seed)
        {
            extra["seed"] = Element(w => w.WriteNumberValue(seed));
        }

        if (options.StopSequences is { Count: > 0 } stops)
        {
            extra["stop"] = Element(w =>
            {
                w.WriteStartArray();
                foreach (var stop in stops)
                {
                    w.WriteStringValue(stop);
                }

                w.WriteEndArray();
            });
        }

        if (options.AllowMultipleToolCalls is { } parallel)
        {
            extra["parallel_tool_calls"] = Element(w => w.WriteBooleanValue(parallel));
        }

        request.AdditionalProperties = extra.Count > 0 ? extra : null;
        request.Tools = Tools(options.Tools);
        request.ToolChoice = ToolChoice(options.ToolMode);
        request.ResponseFormat = ResponseFormat(options.ResponseFormat);
        return (request, call);
    }

    private static float Finite(float value, string name) =>
        float.IsFinite(value) ? value : throw new ArgumentException($"{name} must be a finite number.", "options");

    /// <summary>Ids, flags and resume token from <c>tappass.*</c> additional properties, validated.</summary>
    public static StatelessCall Headers(AdditionalPropertiesDictionary? properties)
    {
        if (properties is null)
        {
            return new StatelessCall(GovernanceFlags.Empty, null, null, null, null);
        }

        var sessionId = Text(properties, TapPassChatKeys.SessionId);
        if (sessionId is not null && !TapPassSession.IsWellFormedId(sessionId))
        {
            throw new ArgumentException($"{TapPassChatKeys.SessionId} must be 1-128 characters of [A-Za-z0-9_-].", "options");
        }

        var agentUuid = properties.TryGetValue(TapPassChatKeys.AgentUuid, out var uuid) && uuid is Guid guid ? guid.ToString("D") : Text(properties, TapPassChatKeys.AgentUuid);
        if (agentUuid is not null && !TapPassSession.IsWellFormedAgentUuid(agentUuid))
        {
            throw new ArgumentException($"{TapPassChatKeys.AgentUuid} must be a UUID (36 characters, hyphenated).", "options");
        }

        var taskId = Text(properties, TapPassChatKeys.TaskId);
        if (taskId is not null && !TapPassSession.IsWellFormedId(taskId))
        {
            throw new ArgumentException($"{TapPassChatKeys.TaskId} must be 1-128 characters of [A-Za-z0-9_-].", "options");
        }

        var resumeToken = Text(properties, TapPassChatKeys.ResumeToken);
        ToolSettings.CheckResumeToken(resumeToken, "options");

        var flags = properties.TryGetValue(TapPassChatKeys.Flags, out var raw) ? raw switch
        {
            null => GovernanceFlags.Empty,
            GovernanceFlags f => f,
            string header => GovernanceFlags.Parse(header),
            IEnumerable<KeyValuePair<string, string>> pairs => GovernanceFlags.From(pairs),
            _ => throw new ArgumentException($"{TapPassChatKeys.Flags} must be a string (header syntax), a GovernanceFlags or a dictionary of strings.", "options"),
        } : GovernanceFlags.Empty;

        return new StatelessCall(flags, sessionId, agentUuid, taskId, resumeToken);

        static string? Text(AdditionalPropertiesDictionary properties, string key) =>
            !properties.TryGetValue(key, out var value) || value is null ? null
            : value as string ?? throw new ArgumentException($"{key} must be a string.", "options");
    }

    private static void AddMessage(List<ChatCompletionMessage> target, ChatMessage message)
    {
        var role = message.Role.Value;
        List<ToolCall>? toolCalls = null;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent:
                    break; // collected below through message.Text
                case FunctionCallContent call:
                    (toolCalls ??= []).Add(new ToolCall
                    {
                        Id = call.CallId,
                        Function = new FunctionCall
                        {
                            Name = call.Name,
                            Arguments = call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, ToolSettings.DefaultSerializerOptions),
                        },
                    });
                    break;
                case FunctionResultContent result:
                    target.Add(new ChatCompletionMessage { Role = "tool", ToolCallId = result.CallId, Content = ResultText(result.Result) });
                    break;
                case DataContent or UriContent or HostedFileContent:
                    throw new NotSupportedException($"The TapPass chat client sends text, tool calls and tool results; {content.GetType().Name} is not supported.");
                default:
                    break; // reasoning, usage and other metadata are not sent back to the model
            }
        }

        var text = message.Text;
        if (toolCalls is null && text.Length == 0 && message.Contents.Any(c => c is FunctionResultContent))
        {
            return; // a tool message: its results were added one by one
        }

        target.Add(new ChatCompletionMessage
        {
            Role = role,
            Content = text.Length == 0 && toolCalls is not null ? null : text,
            Name = string.IsNullOrEmpty(message.AuthorName) ? null : message.AuthorName,
            ToolCalls = toolCalls,
        });
    }

    private static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
        JsonElement e => e.GetRawText(),
        _ => JsonSerializer.Serialize(result, result.GetType(), ToolSettings.DefaultSerializerOptions),
    };

    private static List<ToolDefinition>? Tools(IList<AITool>? tools)
    {
        if (tools is not { Count: > 0 })
        {
            return null;
        }

        if (tools.Count > TapPassAgent.MaxToolsPerCall)
        {
            throw new ArgumentException($"At most {TapPassAgent.MaxToolsPerCall} tools per call.", "options");
        }

        return tools.Select(tool => tool is AIFunctionDeclaration function
            ? new ToolDefinition
            {
                Function = new FunctionDefinition
                {
                    Name = function.Name,
                    Description = string.IsNullOrEmpty(function.Description) ? null : function.Description,
                    Parameters = function.JsonSchema.Clone(),
                },
            }
            : throw new NotSupportedException($"The TapPass chat client offers function tools only; {tool.GetType().Name} is not supported.")).ToList();
    }

    private static JsonElement? ToolChoice(ChatToolMode? mode) => mode switch
    {
        null => null,
        NoneChatToolMode => Element(w => w.WriteStringValue("none")),
        AutoChatToolMode => Element(w => w.WriteStringValue("auto")),
        RequiredChatToolMode { RequiredFunctionName: null } => Element(w => w.WriteStringValue("required")),
        RequiredChatToolMode required => Element(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", required.RequiredFunctionName);
            w.WriteEndObject();
            w.WriteEndObject();
        }),
        _ => null,
    };

    private static JsonElement? ResponseFormat(ChatResponseFormat? format) => format switch
    {
        null => null,
        ChatResponseFormatText => Element(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteEndObject();
        }),
        ChatResponseFormatJson { Schema: { } schema } json => Element(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "json_schema");
            w.WriteStartObject("json_schema");
            w.WriteString("name", string.IsNullOrEmpty(json.SchemaName) ? "response" : json.SchemaName);
            if (!string.IsNullOrEmpty(json.SchemaDescription))
            {
                w.WriteString("description", json.SchemaDescription);
            }

            w.WritePropertyName("schema");
            schema.WriteTo(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }),
        ChatResponseFormatJson => Element(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "json_object");
            w.WriteEndObject();
        }),
        _ => null,
    };

    private static JsonElement Element(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    // ---- response --------------------------------------------------------------------------------------------------

    /// <summary>The <c>Microsoft.Extensions.AI</c> answer for a governed response (content, finish reason, usage, TapPass metadata).</summary>
    public static Microsoft.Extensions.AI.ChatResponse ToChatResponse(ChatResponse response)
    {
        var message = new ChatMessage(ChatRole.Assistant, Contents(response)) { RawRepresentation = response };
        return new Microsoft.Extensions.AI.ChatResponse(message)
        {
            ModelId = response.Model,
            FinishReason = FinishReason(response.FinishReason),
            Usage = Usage(response.Usage),
            AdditionalProperties = Metadata(response),
            RawRepresentation = response,
        };
    }

    public static List<AIContent> Contents(ChatResponse response)
    {
        var contents = new List<AIContent>();
        if (response.Content.Length > 0)
        {
            contents.Add(new TextContent(response.Content));
        }

        foreach (var call in response.ToolCalls)
        {
            contents.Add(FunctionCall(call));
        }

        return contents;
    }

    /// <summary>
    /// The last update of a streamed answer, after its text: the runnable tool calls, usage, finish reason and the
    /// TapPass metadata of the final response.
    /// </summary>
    public static ChatResponseUpdate FinalUpdate(ChatResponse response)
    {
        var contents = new List<AIContent>(response.ToolCalls.Count + 1);
        foreach (var call in response.ToolCalls)
        {
            contents.Add(FunctionCall(call));
        }

        contents.Add(new UsageContent(Usage(response.Usage)));
        return new ChatResponseUpdate(ChatRole.Assistant, contents)
        {
            ModelId = response.Model,
            FinishReason = FinishReason(response.FinishReason),
            AdditionalProperties = Metadata(response),
            RawRepresentation = response,
        };
    }

    /// <summary>
    /// A runnable tool call of an answer. Calls held for approval never get here (<see cref="ChatResponse.ToolCalls"/>
    /// excludes them), so no function-invoking client can run one; they travel in <see cref="TapPassChatKeys.ToolApprovals"/>.
    /// </summary>
    public static FunctionCallContent FunctionCall(ToolCall call) => FunctionCallContent.CreateFromParsedArguments(
        string.IsNullOrWhiteSpace(call.Function.Arguments) ? "{}" : call.Function.Arguments,
        call.Id,
        call.Function.Name,
        static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, ToolSettings.DefaultSerializerOptions));

    public static UsageDetails Usage(TokenUsage usage) => new()
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.TotalTokens,
    };

    public static ChatFinishReason? FinishReason(string? reason) => reason switch
    {
        null or "" => null,
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };

    /// <summary>The TapPass metadata of an answer, under <see cref="TapPassChatKeys"/> (absent values omitted).</summary>
    public static AdditionalPropertiesDictionary Metadata(ChatResponse response)
    {
        var properties = new AdditionalPropertiesDictionary
        {
            [TapPassChatKeys.Classification] = response.Pipeline.Classification.ToWire(),
            [TapPassChatKeys.Blocked] = response.Pipeline.Blocked,
            [TapPassChatKeys.Pipeline] = response.Pipeline,
        };
        Add(TapPassChatKeys.SessionId, response.SessionId);
        Add(TapPassChatKeys.TaskId, response.TaskId);
        Add(TapPassChatKeys.AgentUuid, response.AgentUuid);
        Add(TapPassChatKeys.PipelineUuid, response.PipelineUuid);
        Add(TapPassChatKeys.AuditUrl, response.AuditUrl);
        if (response.Pipeline.Cost is { } cost)
        {
            properties[TapPassChatKeys.CostUsd] = cost.Usd;
        }

        if (response.Pipeline.ToolApprovals.Count > 0)
        {
            properties[TapPassChatKeys.ToolApprovals] = response.Pipeline.ToolApprovals;
        }

        return properties;

        void Add(string key, string? value)
        {
            if (value is not null)
            {
                properties[key] = value;
            }
        }
    }
}
