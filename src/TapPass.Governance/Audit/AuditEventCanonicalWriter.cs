using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using TapPass.Protocol;

namespace TapPass.Governance.Audit;

/// <summary>
/// Writes an <see cref="AuditEvent"/> straight into its canonical JSON (<see cref="AuditCanonicalJson"/>): the bytes
/// <c>Canonicalize(Parse(Serialize(event)))</c> gives (snake_case names, nulls omitted, keys in ordinal order at every
/// depth, strings escaped by the default encoder, numbers as the serializer writes them), without serialising, parsing
/// and re-sorting. With a sequence and previous hash it writes the hash input (<see cref="AuditCanonicalJson.HashInput"/>)
/// instead. Property names are listed here in ordinal order; a test checks the output against the generic path.
/// </summary>
internal static class AuditEventCanonicalWriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.Default,
        SkipValidation = true,
    };

    /// <summary>Writes the canonical event (and, when <paramref name="prevHash"/> is given, <c>prev_hash</c> and
    /// <c>seq</c> in their sorted places) into <paramref name="buffer"/>.</summary>
    public static void Write(IBufferWriter<byte> buffer, AuditEvent e, long sequence = 0, string? prevHash = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        Write(writer, e, sequence, prevHash);
    }

    /// <summary>
    /// Writes the hash input of <paramref name="e"/> (reusing <paramref name="w"/>, reset by the caller) and returns where
    /// its <c>prev_hash</c> and <c>seq</c> members are (each with its leading comma), so that the canonical event is the
    /// hash input without them (<see cref="WithoutFields"/>): one write per event instead of two.
    /// </summary>
    public static (Range PrevHash, Range Seq) WriteHashInput(Utf8JsonWriter w, AuditEvent e, long sequence, string prevHash)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        var spans = new Range[2];
        Write(w, e, sequence, prevHash, spans);
        return (spans[0], spans[1]);
    }

    /// <summary>The UTF-8 <paramref name="hashInput"/> without the two members <see cref="WriteHashInput"/> located, as a string.</summary>
    public static string WithoutFields(ReadOnlySpan<byte> hashInput, Range first, Range second)
    {
        var (a, b) = (first.Start.Value, first.End.Value);
        var (c, d) = (second.Start.Value, second.End.Value);
        var length = hashInput.Length - (b - a) - (d - c);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var target = rented.AsSpan();
            hashInput[..a].CopyTo(target);
            hashInput[b..c].CopyTo(target[a..]);
            hashInput[d..].CopyTo(target[(a + c - b)..]);
            return System.Text.Encoding.UTF8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>As <see cref="Write(IBufferWriter{byte}, AuditEvent, long, string?)"/>, reusing a writer (reset by the caller).</summary>
    public static void Write(Utf8JsonWriter w, AuditEvent e, long sequence, string? prevHash) => Write(w, e, sequence, prevHash, null);

    private static void Write(Utf8JsonWriter w, AuditEvent e, long sequence, string? prevHash, Range[]? spans)
    {
        // Ordinal order of every name the serializer writes for AuditEvent (snake_case), with prev_hash and seq.
        w.WriteStartObject();
        String(w, "agent_id", e.AgentId);
        String(w, "agent_uuid", e.AgentUuid);
        String(w, "blocked_by", e.BlockedBy);
        String(w, "classification", e.Classification);
        String(w, "content", e.Content);
        if (e.Cost is { } cost)
        {
            w.WritePropertyName("cost");
            w.WriteStartObject();
            w.WriteNumber("completion_tokens", cost.CompletionTokens);
            w.WriteNumber("prompt_tokens", cost.PromptTokens);
            w.WriteNumber("usd", cost.Usd);
            w.WriteEndObject();
        }

        String(w, "decision", e.Decision);
        if (e.Details is { } details)
        {
            w.WritePropertyName("details");
            WriteSorted(w, details, static (writer, value) => AuditCanonicalJson.WriteCanonical(writer, value));
        }

        if (e.Detections is { } detections)
        {
            w.WritePropertyName("detections");
            w.WriteStartArray();
            foreach (var d in detections)
            {
                if (d is null)
                {
                    w.WriteNullValue();
                    continue;
                }

                w.WriteStartObject();
                w.WriteString("action", d.Action);
                w.WriteNumber("length", d.Length);
                if (d.MessageIndex is { } index)
                {
                    w.WriteNumber("message_index", index);
                }

                w.WriteString("phase", d.Phase);
                w.WriteNumber("score", d.Score);
                w.WriteNumber("start", d.Start);
                w.WriteString("step", d.Step);
                w.WriteString("type", d.Type);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteString("event_id", e.EventId);
        w.WriteString("event_type", e.EventType);
        if (e.Flags is { } flags)
        {
            w.WritePropertyName("flags");
            WriteSorted(w, flags, static (writer, value) => writer.WriteStringValue(value));
        }

        String(w, "model", e.Model);
        String(w, "org", e.Org);
        String(w, "pipeline_uuid", e.PipelineUuid);
        if (prevHash is not null)
        {
            // event_id always precedes, so the member starts with its comma.
            var start = Position(w);
            w.WriteString("prev_hash", prevHash);
            if (spans is not null)
            {
                spans[0] = start..Position(w);
            }
        }

        String(w, "reason", e.Reason);
        if (prevHash is not null)
        {
            var start = Position(w);
            w.WriteNumber("seq", sequence);
            if (spans is not null)
            {
                spans[1] = start..Position(w);
            }
        }

        String(w, "session_id", e.SessionId);
        if (e.Steps is { } steps)
        {
            w.WritePropertyName("steps");
            w.WriteStartArray();
            foreach (var s in steps)
            {
                if (s is null)
                {
                    w.WriteNullValue();
                    continue;
                }

                w.WriteStartObject();
                w.WriteNumber("duration_us", s.DurationUs);
                w.WriteString("name", s.Name);
                w.WriteString("outcome", s.Outcome);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        String(w, "task_id", e.TaskId);
        WriteTimestamp(w, e.Timestamp);
        String(w, "tool", e.Tool);
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>
    /// The serializer's form of a DateTimeOffset (round-trip "O" with trailing zeros of the fraction trimmed), written as a
    /// string through the encoder, as the canonicaliser re-writes it (which escapes <c>+</c>).
    /// </summary>
    private static void WriteTimestamp(Utf8JsonWriter w, DateTimeOffset value)
    {
        Span<char> text = stackalloc char[40];
        if (!value.TryFormat(text, out var length, "O", System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new FormatException("Timestamp could not be formatted.");
        }

        // yyyy-MM-ddTHH:mm:ss.fffffff+hh:mm: the fraction is the 7 digits after the '.' at index 19.
        var formatted = text[..length];
        if (formatted.Length > 20 && formatted[19] == '.')
        {
            var end = 27;
            while (end > 20 && formatted[end - 1] == '0')
            {
                end--;
            }

            if (end == 20)
            {
                end = 19; // no fraction left: drop the '.'
            }

            var offset = formatted[27..];
            offset.CopyTo(text[end..]);
            formatted = text[..(end + offset.Length)];
        }

        w.WriteString("timestamp", formatted);
    }

    private static int Position(Utf8JsonWriter w) => checked((int)(w.BytesCommitted + w.BytesPending));

    private static void String(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteSorted<T>(Utf8JsonWriter w, IReadOnlyDictionary<string, T> values, Action<Utf8JsonWriter, T> write)
    {
        w.WriteStartObject();
        var count = values.Count;
        if (count > 0)
        {
            var keys = ArrayPool<string>.Shared.Rent(count);
            try
            {
                var n = 0;
                foreach (var key in values.Keys)
                {
                    keys[n++] = key;
                }

                Array.Sort(keys, 0, n, StringComparer.Ordinal);
                for (var i = 0; i < n; i++)
                {
                    w.WritePropertyName(keys[i]);
                    write(w, values[keys[i]]);
                }
            }
            finally
            {
                ArrayPool<string>.Shared.Return(keys, clearArray: true);
            }
        }

        w.WriteEndObject();
    }
}
