using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TapPass.Governance.Audit;

/// <summary>
/// Canonical JSON for hashing audit records: object keys sorted by ordinal (UTF-16 code unit) order at every depth,
/// no whitespace, numbers as written, strings re-escaped with one fixed encoder. The same bytes come out for the same
/// logical event on every run, which is what the hash chain needs.
/// </summary>
internal static class AuditCanonicalJson
{
    /// <summary>The hash that precedes the first record.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.Default,
        SkipValidation = false,
    };

    /// <summary>Canonical form of <paramref name="element"/>.</summary>
    public static byte[] Canonicalize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, element);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Canonical form of the event object with <c>seq</c> and <c>prev_hash</c> added at top level: the bytes a record's
    /// hash is computed over.
    /// </summary>
    public static byte[] HashInput(JsonElement eventObject, long sequence, string prevHash)
    {
        if (eventObject.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("An audit event must be a JSON object.");
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var properties = new List<KeyValuePair<string, JsonElement?>>();
            foreach (var property in eventObject.EnumerateObject())
            {
                if (property.Name is "seq" or "prev_hash")
                {
                    throw new JsonException("An audit event must not carry seq or prev_hash.");
                }

                properties.Add(new(property.Name, property.Value));
            }

            properties.Add(new("seq", null));
            properties.Add(new("prev_hash", null));
            properties.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));

            writer.WriteStartObject();
            foreach (var (name, value) in properties)
            {
                writer.WritePropertyName(name);
                if (value is { } v)
                {
                    Write(writer, v);
                }
                else if (name == "seq")
                {
                    writer.WriteNumberValue(sequence);
                }
                else
                {
                    writer.WriteStringValue(prevHash);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the canonical form of <paramref name="element"/> to <paramref name="writer"/>.</summary>
    public static void WriteCanonical(Utf8JsonWriter writer, JsonElement element) => Write(writer, element);

    /// <summary>Lower-case hex SHA-256 of <paramref name="data"/>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new List<JsonProperty>();
                foreach (var property in element.EnumerateObject())
                {
                    properties.Add(property);
                }

                properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                writer.WriteStartObject();
                foreach (var property in properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: false);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            case JsonValueKind.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new JsonException($"Unexpected JSON token {element.ValueKind}.");
        }
    }
}
