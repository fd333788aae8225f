using System.Text;
using System.Text.Json;

namespace TapPass;

/// <summary>Measures tool results for execution reports: a size in bytes, never the content.</summary>
internal static class ToolResults
{
    /// <summary>
    /// The size of <paramref name="value"/>: 0 for null, the UTF-8 length of a string, the length of a byte array, else
    /// the length of its compact JSON; null for values that are not data (streams, tasks, delegates, async sequences)
    /// or cannot be serialised. Never throws.
    /// </summary>
    public static long? SizeOf(object? value, Type declaredType, JsonSerializerOptions options)
    {
        switch (value)
        {
            case null:
                return 0;
            case string s:
                return Encoding.UTF8.GetByteCount(s);
            case byte[] bytes:
                return bytes.LongLength;
            case Stream or Delegate or Task or ValueTask:
                return null;
        }

        var type = value.GetType();
        if (IsAsyncSequence(type))
        {
            return null;
        }

        var serializeAs = declaredType == typeof(object) || declaredType.IsInterface || declaredType.IsAbstract || !declaredType.IsInstanceOfType(value)
            ? type
            : declaredType;
        try
        {
            using var counter = new CountingStream();
            using (var writer = new Utf8JsonWriter(counter, new JsonWriterOptions { Indented = false, SkipValidation = true, Encoder = options.Encoder }))
            {
                // A writer of our own: compact whatever the serialiser options say about indentation.
                JsonSerializer.Serialize(writer, value, serializeAs, options);
            }

            return counter.Count;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    private static bool IsAsyncSequence(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>));

    /// <summary>A write-only stream that counts and discards.</summary>
    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Count;

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Count += count;

        public override void Write(ReadOnlySpan<byte> buffer) => Count += buffer.Length;
    }
}
