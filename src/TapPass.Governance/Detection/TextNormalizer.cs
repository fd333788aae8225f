using System.Globalization;
using System.Text;

namespace TapPass.Governance.Detection;

/// <summary>
/// Builds the detection view of a text, so that Unicode tricks do not hide entities:
/// <list type="bullet">
/// <item>NFKC (full-width and mathematical digits and letters, full-width <c>＠</c>/<c>．</c>, ligatures);</item>
/// <item>format and other invisible characters removed: Unicode category Cf (zero-width space/joiners
/// U+200B–U+200D, word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, bidi controls, tag characters
/// U+E0000–U+E007F), variation selectors, the combining grapheme joiner and Hangul fillers;</item>
/// <item>non-ASCII spaces (no-break, thin, ideographic…) to <c>' '</c>, line/paragraph separators to
/// <c>'\n'</c>, hyphens and minus signs (non-breaking hyphen, en dash, minus…) to <c>'-'</c>;</item>
/// <item>decimal digits of other scripts to ASCII digits;</item>
/// <item>Cyrillic, Greek and Armenian look-alikes of Latin letters to those letters, inside
/// whitespace-delimited tokens that also contain an ASCII letter or digit (so mixed-script words
/// such as an e-mail address with a Cyrillic <c>а</c> fold back, while ordinary Cyrillic or Greek
/// words stay as written).</item>
/// </list>
/// Pure ASCII text takes a fast path: the view is the same string instance with an identity map.
/// </summary>
internal static class TextNormalizer
{
    private const int MixedTokenScanLimit = 128;

    private static readonly Lazy<string?> s_nfkcProblem = new(() => CheckNfkc(static s => s.Normalize(NormalizationForm.FormKC)));

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> with an actionable message when Unicode NFKC
    /// normalisation does not work in this process (globalization-invariant mode or ICU missing):
    /// without it, full-width and mathematical digits would hide entities from every detector.
    /// Call at startup; the result is computed once.
    /// </summary>
    public static void EnsureNfkcAvailable()
    {
        string? problem = s_nfkcProblem.Value;
        if (problem is not null)
        {
            throw new InvalidOperationException(problem);
        }
    }

    /// <summary>Returns null when <paramref name="normalize"/> behaves as NFKC, else the message to report.</summary>
    internal static string? CheckNfkc(Func<string, string> normalize)
    {
        string detail;
        try
        {
            if (normalize("\uFF11") == "1" && normalize("\U0001D7D2") == "4" && normalize("\uFF20") == "@")
            {
                return null;
            }

            detail = "NFKC normalisation returned its input unchanged (\"１\" did not become \"1\")";
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or NotSupportedException or ArgumentException or DllNotFoundException or TypeInitializationException)
        {
            detail = "NFKC normalisation threw " + ex.GetType().Name;
        }

        return "TapPass detection needs Unicode NFKC normalisation, but " + detail + ". "
            + "The process probably runs in globalization-invariant mode or without ICU. "
            + "Set <InvariantGlobalization>false</InvariantGlobalization> in the host project (and do not set "
            + "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1), and install ICU (e.g. the libicu package; in Alpine "
            + "containers the icu-libs package).";
    }

    /// <summary>Builds the detection view of <paramref name="text"/>.</summary>
    public static NormalizedText Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Ascii.IsValid(text))
        {
            return new NormalizedText(text);
        }

        EnsureNfkcAvailable();
        return NormalizeNonAscii(text);
    }

    private static NormalizedText NormalizeNonAscii(string text)
    {
        var b = new ViewBuilder(text.Length + 16);
        var tokens = new MixedTokenCache();
        int n = text.Length;
        Span<char> nfkc = stackalloc char[64];
        int i = 0;
        while (i < n)
        {
            char c = text[i];
            if (c < 0x80 && (i + 1 == n || text[i + 1] < 0x300))
            {
                b.Append(c, i, i + 1);
                i++;
                continue;
            }

            int cp = c;
            int cpLen = 1;
            if (char.IsHighSurrogate(c) && i + 1 < n && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(c, text[i + 1]);
                cpLen = 2;
            }
            else if (char.IsSurrogate(c))
            {
                // A lone surrogate: keep it as written (normalisation would reject the string).
                b.Append(c, i, i + 1);
                i++;
                continue;
            }

            // The segment: this code point and the combining marks that follow it.
            int segEnd = i + cpLen;
            while (segEnd < n && IsCombiningMarkAt(text, segEnd, out int markLen))
            {
                segEnd += markLen;
            }

            if (segEnd == i + cpLen)
            {
                if (IsInvisible(cp))
                {
                    i = segEnd;
                    continue;
                }

                int mapped = MapCodePoint(cp, text, i, ref tokens);
                if (mapped >= 0)
                {
                    b.Append((char)mapped, i, segEnd);
                    i = segEnd;
                    continue;
                }

                if (IsKnownNfkcStable(cp))
                {
                    b.Append(text.AsSpan(i, cpLen), i, segEnd);
                    i = segEnd;
                    continue;
                }
            }

            ReadOnlySpan<char> segment = text.AsSpan(i, segEnd - i);
            scoped ReadOnlySpan<char> normalized;
            if (segment.IsNormalized(NormalizationForm.FormKC))
            {
                normalized = segment;
            }
            else if (segment.TryNormalize(nfkc, out int written, NormalizationForm.FormKC))
            {
                normalized = nfkc[..written];
            }
            else
            {
                normalized = segment.ToString().Normalize(NormalizationForm.FormKC);
            }

            AppendMapped(ref b, normalized, text, i, segEnd, ref tokens);
            i = segEnd;
        }

        return b.Build(text);
    }

    private static void AppendMapped(ref ViewBuilder b, ReadOnlySpan<char> normalized, string text, int srcStart, int srcEnd, ref MixedTokenCache tokens)
    {
        int k = 0;
        while (k < normalized.Length)
        {
            char c = normalized[k];
            if (c < 0x80)
            {
                b.Append(c, srcStart, srcEnd);
                k++;
                continue;
            }

            int cp = c;
            int len = 1;
            if (char.IsHighSurrogate(c) && k + 1 < normalized.Length && char.IsLowSurrogate(normalized[k + 1]))
            {
                cp = char.ConvertToUtf32(c, normalized[k + 1]);
                len = 2;
            }

            if (!IsInvisible(cp))
            {
                int mapped = MapCodePoint(cp, text, srcStart, ref tokens);
                if (mapped >= 0)
                {
                    b.Append((char)mapped, srcStart, srcEnd);
                }
                else
                {
                    b.Append(normalized.Slice(k, len), srcStart, srcEnd);
                }
            }

            k += len;
        }
    }

    private static bool IsCombiningMarkAt(string text, int index, out int length)
    {
        char c = text[index];
        length = 1;
        if (c < 0x300)
        {
            return false;
        }

        int cp = c;
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            cp = char.ConvertToUtf32(c, text[index + 1]);
            length = 2;
        }

        var category = CharUnicodeInfo.GetUnicodeCategory(cp);
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
    }

    /// <summary>Characters removed from the view: format characters and other invisible code points.</summary>
    internal static bool IsInvisible(int cp)
    {
        if (cp < 0xAD)
        {
            return false;
        }

        if (cp is 0x034F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or 0x3164 or 0xFFA0
            or (>= 0x180B and <= 0x180F) or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF))
        {
            return true;
        }

        return CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.Format;
    }

    /// <summary>
    /// The ASCII replacement of a separator, dash, digit or look-alike letter, or -1 to keep the code point.
    /// </summary>
    private static int MapCodePoint(int cp, string text, int index, ref MixedTokenCache tokens)
    {
        switch (cp)
        {
            case 0x00A0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x202F or 0x205F or 0x3000:
                return ' ';
            case 0x0085 or 0x2028 or 0x2029:
                return '\n';
            case 0x02D7 or 0x058A or 0x2010 or 0x2011 or 0x2012 or 0x2013 or 0x2043 or 0x2212 or 0xFE63 or 0xFF0D:
                return '-';
        }

        int latin = Confusables.ToLatin(cp);
        if (latin >= 0)
        {
            return tokens.IsMixed(text, index) ? latin : -1;
        }

        if (cp >= 0x660 && Rune.IsValid(cp))
        {
            var rune = new Rune(cp);
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.DecimalDigitNumber)
            {
                int value = (int)Rune.GetNumericValue(rune);
                if (value is >= 0 and <= 9)
                {
                    return '0' + value;
                }
            }
        }

        return -1;
    }

    /// <summary>
    /// Code points known to be unchanged by NFKC (and not remapped above), so the common non-ASCII
    /// letters, CJK and emoji skip the normalisation call. Anything else is normalised.
    /// </summary>
    internal static bool IsKnownNfkcStable(int cp) => cp switch
    {
        < 0x80 => true,
        >= 0x00C0 and <= 0x00FF => true,
        >= 0x0100 and <= 0x0131 => true,
        >= 0x0134 and <= 0x013E => true,
        >= 0x0141 and <= 0x0148 => true,
        >= 0x014A and <= 0x017E => true,
        0x00A1 or 0x00A2 or 0x00A3 or 0x00A5 or 0x00A7 or 0x00A9 or 0x00AB or 0x00AE or 0x00B0 or 0x00B1 or 0x00B6 or 0x00B7 or 0x00BB or 0x00BF => true,
        >= 0x0391 and <= 0x03A1 => true,
        >= 0x03A3 and <= 0x03CE => true,
        >= 0x0400 and <= 0x04FF => true,
        >= 0x05D0 and <= 0x05EA => true,
        >= 0x0620 and <= 0x064A => true,
        0x2014 or 0x2018 or 0x2019 or 0x201C or 0x201D or 0x2022 or 0x20AC => true,
        >= 0x2190 and <= 0x21FF => true,
        >= 0x2500 and <= 0x25FF => true,
        >= 0x2600 and <= 0x27BF => true,
        >= 0x3041 and <= 0x3096 => true,
        >= 0x30A1 and <= 0x30FA => true,
        >= 0x4E00 and <= 0x9FFF => true,
        >= 0xAC00 and <= 0xD7A3 => true,
        >= 0x1F300 and <= 0x1FAFF => true,
        _ => false,
    };

    /// <summary>Caches, per whitespace-delimited token, whether it also contains an ASCII letter or digit.</summary>
    private struct MixedTokenCache
    {
        private int _from;
        private int _to;
        private bool _mixed;

        public bool IsMixed(string text, int index)
        {
            if (_to > _from && index >= _from && index < _to)
            {
                return _mixed;
            }

            int lo = index;
            int limit = Math.Max(0, index - MixedTokenScanLimit);
            while (lo > limit && !char.IsWhiteSpace(text[lo - 1]))
            {
                lo--;
            }

            int hi = index + 1;
            int hiLimit = Math.Min(text.Length, index + MixedTokenScanLimit);
            while (hi < hiLimit && !char.IsWhiteSpace(text[hi]))
            {
                hi++;
            }

            bool mixed = text.AsSpan(lo, hi - lo).IndexOfAny(AsciiAlphanumerics) >= 0;
            _from = lo;
            _to = hi;
            _mixed = mixed;
            return mixed;
        }
    }

    private static readonly System.Buffers.SearchValues<char> AsciiAlphanumerics =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private struct ViewBuilder
    {
        private char[] _chars;
        private int[] _starts;
        private int[] _ends;
        private int _count;

        public ViewBuilder(int capacity)
        {
            _chars = new char[capacity];
            _starts = new int[capacity];
            _ends = new int[capacity];
            _count = 0;
        }

        public void Append(char c, int srcStart, int srcEnd)
        {
            if (_count == _chars.Length)
            {
                Grow(1);
            }

            _chars[_count] = c;
            _starts[_count] = srcStart;
            _ends[_count] = srcEnd;
            _count++;
        }

        public void Append(ReadOnlySpan<char> chars, int srcStart, int srcEnd)
        {
            if (_count + chars.Length > _chars.Length)
            {
                Grow(chars.Length);
            }

            for (int k = 0; k < chars.Length; k++)
            {
                _chars[_count] = chars[k];
                _starts[_count] = srcStart;
                _ends[_count] = srcEnd;
                _count++;
            }
        }

        private void Grow(int extra)
        {
            int size = Math.Max(_chars.Length * 2, _count + extra);
            Array.Resize(ref _chars, size);
            Array.Resize(ref _starts, size);
            Array.Resize(ref _ends, size);
        }

        public readonly NormalizedText Build(string original)
        {
            var view = new string(_chars, 0, _count);
            return new NormalizedText(original, view, _starts[.._count], _ends[.._count]);
        }
    }
}
