using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TapPass;

/// <summary>
/// An <see cref="AIFunction"/> whose every invocation is governed (PROTOCOL.md §6): it asks <c>POST /v1/govern</c>
/// first, runs the inner function only when allowed (with the gateway's arguments on <c>modify</c>), then reports the
/// outcome to <c>POST /v1/govern/execution</c>. Name, description and schemas are the inner function's, so the model
/// sees the same tool. Refusals throw the <see cref="GovernanceDecision"/> exceptions. Created by
/// <see cref="TapPassToolExtensions.Govern(ITapPassAgent, AIFunction, TapPassToolOptions?)"/>.
/// </summary>
public sealed class GovernedAIFunction : DelegatingAIFunction
{
    private readonly ToolRuntime _runtime;

    private GovernedAIFunction(AIFunction innerFunction, ToolRuntime runtime)
        : base(innerFunction)
    {
        _runtime = runtime;
    }

    /// <summary>What the gateway pins for this tool.</summary>
    public TapPassToolDefinition Definition => _runtime.Definition;

    /// <summary>The wrapper's mode.</summary>
    public GovernMode Mode => _runtime.Settings.Mode;

    /// <summary>
    /// The same function, resuming a call that was held for approval: the next invocation sends
    /// <paramref name="resumeToken"/> (<see cref="ApprovalRequiredException.ResumeToken"/>) as
    /// <c>X-TapPass-Resume-Token</c>. The token is single-use and valid only for the identical call.
    /// </summary>
    /// <param name="resumeToken">The token.</param>
    /// <exception cref="ArgumentException">The token is malformed.</exception>
    public GovernedAIFunction WithResumeToken(string resumeToken) => new(InnerFunction, _runtime.WithResumeToken(resumeToken, nameof(resumeToken)));

    internal static GovernedAIFunction Create(ITapPassToolGovernor governor, AIFunction function, TapPassToolOptions? options)
    {
        if (function is GovernedAIFunction || function.GetService(typeof(GovernedAIFunction)) is not null)
        {
            throw new ArgumentException("This function is already governed; govern the original function once.", nameof(function));
        }

        if (!TapPassToolDefinition.IsValidName(function.Name))
        {
            throw new ArgumentException($"The function's name must be 1-{TapPassToolDefinition.MaxNameLength} characters of [A-Za-z0-9_.:/-] to be governed.", nameof(function));
        }

        var settings = ToolSettings.From(options) with { SerializerOptions = function.JsonSerializerOptions ?? ToolSettings.DefaultSerializerOptions };
        var definition = new TapPassToolDefinition(function.Name, string.IsNullOrEmpty(function.Description) ? null : function.Description, function.JsonSchema.Clone());
        return new GovernedAIFunction(function, new ToolRuntime(governor, definition, settings));
    }

    /// <inheritdoc />
    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return await _runtime.InvokeAsync(
            Serialize(arguments),
            arguments,
            modified => Bind(modified, arguments),
            args => base.InvokeCoreAsync(args, cancellationToken),
            result => ToolResults.SizeOf(result, typeof(object), _runtime.Settings.SerializerOptions),
            cancellationToken).ConfigureAwait(false);
    }

    private JsonElement Serialize(AIFunctionArguments arguments)
    {
        var options = _runtime.Settings.SerializerOptions;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in arguments)
            {
                writer.WritePropertyName(name);
                try
                {
                    JsonSerializer.Serialize(writer, value, value?.GetType() ?? typeof(object), options);
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
                {
                    throw new ArgumentException($"Argument '{name}' of tool '{Name}' cannot be serialised to JSON for governance; the tool was not run.", nameof(arguments), ex);
                }
            }

            writer.WriteEndObject();
        }

        _runtime.CheckArgumentSize(buffer.WrittenCount);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Replaces the arguments with the gateway's, after checking them against the function's schema: only declared
    /// properties, every required one present, each of a type the schema allows. The inner function binds the values.
    /// </summary>
    private AIFunctionArguments Bind(JsonElement modified, AIFunctionArguments original)
    {
        var schema = JsonSchema;
        JsonElement? properties = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : null;
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in modified.EnumerateObject())
        {
            if (values.ContainsKey(property.Name))
            {
                throw new ToolArgumentBindingException($"parameter '{Printable(property.Name)}' given twice");
            }

            if (properties is { } declared)
            {
                if (!declared.TryGetProperty(property.Name, out var propertySchema))
                {
                    throw new ToolArgumentBindingException($"unknown parameter '{Printable(property.Name)}'");
                }

                if (!SchemaAllows(propertySchema, property.Value))
                {
                    throw new ToolArgumentBindingException($"parameter '{Printable(property.Name)}' does not take the value given");
                }
            }

            values[property.Name] = property.Value.Clone();
        }

        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !values.ContainsKey(name.GetString()!))
                {
                    throw new ToolArgumentBindingException($"parameter '{Printable(name.GetString()!)}' is missing");
                }
            }
        }

        return new AIFunctionArguments(values) { Services = original.Services, Context = original.Context };
    }

    /// <summary>The <c>type</c> and <c>enum</c> keywords of a property schema; other keywords are left to the function.</summary>
    private static bool SchemaAllows(JsonElement schema, JsonElement value)
    {
        if (schema.ValueKind == JsonValueKind.False)
        {
            return false;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return true;
        }

        if (schema.TryGetProperty("enum", out var allowed) && allowed.ValueKind == JsonValueKind.Array &&
            !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, value)))
        {
            return false;
        }

        if (!schema.TryGetProperty("type", out var type))
        {
            return true;
        }

        return type.ValueKind switch
        {
            JsonValueKind.String => IsOfType(type.GetString(), value),
            JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && IsOfType(t.GetString(), value)),
            _ => true,
        };
    }

    private static bool IsOfType(string? type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && decimal.Truncate(d) == d,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Printable(string value)
    {
        var cut = value.Length > 64 ? value[..64] : value;
        return new string(cut.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
    }
}
