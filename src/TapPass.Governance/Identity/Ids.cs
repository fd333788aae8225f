using System.Security.Cryptography;

namespace TapPass.Governance.Identity;

/// <summary>
/// Random identifiers with a type prefix (PROTOCOL.md §1): <c>ses_</c>, <c>pl_</c>, <c>apr_</c>, <c>ae_</c>, <c>tsk_</c>,
/// <c>rt_</c>. The body is 24 base62 characters from a CSPRNG (about 143 bits), so ids are unguessable.
/// </summary>
internal static class Ids
{
    public const int BodyLength = 24;

    public const string Session = "ses_";
    public const string Pipeline = "pl_";
    public const string Approval = "apr_";
    public const string AuditEvent = "ae_";
    public const string Task = "tsk_";
    public const string Completion = "chatcmpl-";
    public const string ToolCall = "call_";
    public const string ResumeToken = "rt_";

    /// <summary>A new id: <paramref name="prefix"/> + 24 random base62 characters.</summary>
    public static string New(string prefix) => prefix + Base62.Random(BodyLength);

    /// <summary>True when <paramref name="id"/> is exactly <paramref name="prefix"/> + 24 base62 characters.</summary>
    public static bool IsWellFormed(string? id, string prefix)
    {
        if (id is null || id.Length != prefix.Length + BodyLength || !id.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = prefix.Length; i < id.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(id[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Base62 (<c>0-9A-Za-z</c>) encoding.</summary>
internal static class Base62
{
    public const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary><paramref name="length"/> characters drawn uniformly from the alphabet (rejection sampling).</summary>
    public static string Random(int length)
    {
        return string.Create(length, 0, static (span, _) =>
        {
            var filled = 0;
            while (filled < span.Length)
            {
                var b = NextRandomByte();

                // 248 = 4 * 62: values at or above it would bias the distribution.
                if (b < 248)
                {
                    span[filled++] = Alphabet[b % 62];
                }
            }
        });
    }

    // Random bytes are drawn from the OS CSPRNG a block at a time (one call per ~20 ids instead of one per id) and
    // each byte is used once; the block is per thread, so no locking.
    private const int RandomBlockSize = 512;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_randomNext;

    private static byte NextRandomByte()
    {
        var block = t_random;
        if (block is null || t_randomNext == block.Length)
        {
            block = t_random ??= new byte[RandomBlockSize];
            RandomNumberGenerator.Fill(block);
            t_randomNext = 0;
        }

        var b = block[t_randomNext];
        block[t_randomNext++] = 0;
        return b;
    }

    public static string Encode(ReadOnlySpan<byte> data, int width)
    {
        // Repeated division of a big-endian byte array by 62.
        var digits = new byte[data.Length];
        data.CopyTo(digits);
        var chars = new List<char>(width);
        var start = 0;
        while (start < digits.Length)
        {
            var remainder = 0;
            for (var i = start; i < digits.Length; i++)
            {
                var acc = (remainder << 8) | digits[i];
                digits[i] = (byte)(acc / 62);
                remainder = acc % 62;
            }

            chars.Add(Alphabet[remainder]);
            while (start < digits.Length && digits[start] == 0)
            {
                start++;
            }
        }

        while (chars.Count < width)
        {
            chars.Add('0');
        }

        chars.Reverse();
        return new string(chars.ToArray());
    }

    /// <summary>Width needed to encode <paramref name="byteCount"/> bytes: ceil(8n / log2 62).</summary>
    public static int WidthFor(int byteCount) => (int)Math.Ceiling(byteCount * 8 / Math.Log2(62));
}
