using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TapPass.Governance.Audit;

namespace TapPass.Governance.Engine;

/// <summary>Source-generated JSON metadata for the engine's own types (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
internal sealed partial class EngineJsonContext : JsonSerializerContext;

/// <summary>
/// Canonical JSON (PROTOCOL.md §9): object keys sorted by ordinal, no insignificant white space, strings escaped the
/// same way every time, numbers as written. Used for hash chains and for hashing tool arguments and messages.
/// </summary>
internal static class CanonicalJson
{
    private const int MaxDepth = 64;

    public static byte[] Serialize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            Write(writer, element, 0);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new JsonException("JSON nested too deeply.");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var p in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(p.Name);
                    Write(writer, p.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}

/// <summary>Builds small <c>Dictionary&lt;string, JsonElement&gt;</c> bags (step details, audit details) without reflection.</summary>
internal sealed class JsonBag
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly Utf8JsonWriter _writer;
    private int _count;

    public JsonBag()
    {
        _writer = new Utf8JsonWriter(_buffer);
        _writer.WriteStartObject();
    }

    public JsonBag Add(string name, string? value)
    {
        if (value is not null)
        {
            _writer.WriteString(name, value);
            _count++;
        }

        return this;
    }

    public JsonBag Add(string name, double value)
    {
        _writer.WriteNumber(name, Math.Round(value, 4));
        _count++;
        return this;
    }

    public JsonBag Add(string name, decimal value)
    {
        _writer.WriteNumber(name, value);
        _count++;
        return this;
    }

    public JsonBag Add(string name, long value)
    {
        _writer.WriteNumber(name, value);
        _count++;
        return this;
    }

    public JsonBag Add(string name, bool value)
    {
        _writer.WriteBoolean(name, value);
        _count++;
        return this;
    }

    public JsonBag Add(string name, IEnumerable<string> values)
    {
        _writer.WriteStartArray(name);
        foreach (var v in values)
        {
            _writer.WriteStringValue(v);
        }

        _writer.WriteEndArray();
        _count++;
        return this;
    }

    public JsonBag Add(string name, JsonElement value)
    {
        _writer.WritePropertyName(name);
        value.WriteTo(_writer);
        _count++;
        return this;
    }

    public Dictionary<string, JsonElement> Build()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        using var doc = JsonDocument.Parse(_buffer.WrittenMemory);

        // One clone of the whole object: its members share that document (cloning each value made one per member).
        var root = doc.RootElement.Clone();
        var result = new Dictionary<string, JsonElement>(_count, StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            result[p.Name] = p.Value;
        }

        _writer.Dispose();
        return result;
    }

    public static string Usd(decimal value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
