using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using TapPass.Protocol;

namespace TapPass;

/// <summary>
/// What the gateway pins for a tool (PROTOCOL.md §6): its name, description and parameter JSON schema, and the SHA-256
/// of their canonical JSON, sent as <c>definition_sha256</c>. A different definition under the same name in the same
/// session is refused with <see cref="ToolIntegrityViolationException"/> (<c>definition_changed</c>).
/// </summary>
public sealed class TapPassToolDefinition
{
    /// <summary>Longest tool name the gateway accepts.</summary>
    public const int MaxNameLength = 128;

    private const int MaxDepth = 64;

    internal TapPassToolDefinition(string name, string? description, JsonElement parametersSchema)
    {
        Name = name;
        Description = description;
        ParametersSchema = parametersSchema;
        DefinitionSha256 = ComputeSha256(name, description, parametersSchema);
    }

    /// <summary>Tool name.</summary>
    public string Name { get; }

    /// <summary>Description, or null.</summary>
    public string? Description { get; }

    /// <summary>JSON schema of the parameters (an object schema; the same form <c>AIFunctionFactory</c> produces).</summary>
    public JsonElement ParametersSchema { get; }

    /// <summary>Lower-case hex SHA-256 of the canonical definition.</summary>
    public string DefinitionSha256 { get; }

    /// <summary>
    /// The definition hash: SHA-256 (lower-case hex) of the canonical JSON of
    /// <c>{"description": …, "name": …, "parameters": …}</c>, a null description or schema omitted, object keys sorted
    /// by ordinal at every depth, no white space, strings escaped by the default <see cref="Utf8JsonWriter"/> encoder,
    /// numbers as written. The gateway computes the same hash for the tools a chat request offers, so a tool offered
    /// to the model and governed through <c>/v1/govern</c> pins one definition.
    /// </summary>
    /// <param name="name">Tool name.</param>
    /// <param name="description">Description, or null.</param>
    /// <param name="parameters">Parameter schema, or null.</param>
    /// <exception cref="JsonException">The schema is nested deeper than 64 levels.</exception>
    public static string ComputeSha256(string name, string? description, JsonElement? parameters)
    {
        ArgumentNullException.ThrowIfNull(name);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            // Keys in ordinal order: description < name < parameters.
            writer.WriteStartObject();
            if (description is not null)
            {
                writer.WriteString("description", description);
            }

            writer.WriteString("name", name);
            if (parameters is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } schema)
            {
                writer.WritePropertyName("parameters");
                WriteCanonical(writer, schema, 0);
            }

            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>The definition as a chat-request tool (<c>tools[]</c> of PROTOCOL.md §3).</summary>
    public ToolDefinition ToToolDefinition() => new()
    {
        Function = new FunctionDefinition { Name = Name, Description = Description, Parameters = ParametersSchema.Clone() },
    };

    /// <summary>True for 1-128 characters of <c>[A-Za-z0-9_.:/-]</c>, the tool names the gateway accepts.</summary>
    /// <param name="name">Candidate name.</param>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or ':' or '/' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new JsonException("The tool's JSON schema is nested too deeply.");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
