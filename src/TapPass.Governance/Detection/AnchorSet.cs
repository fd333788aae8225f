using System.Buffers;

namespace TapPass.Governance.Detection;

/// <summary>
/// A set of literal anchors (prefixes, keywords) found with one vectorised pass over a text
/// (<see cref="SearchValues{T}"/> of strings). Detectors use it as a prefilter: rules whose anchors do not
/// occur never run, so clean text costs one scan.
/// </summary>
internal sealed class AnchorSet
{
    private readonly SearchValues<string> _values;

    /// <summary>
    /// When every anchor starts with a punctuation character ("&lt;|", "![", "/.ssh/", ".env"), a vectorised search for
    /// those characters followed by a check is much cheaper than a multi-string search (whose candidates in prose are
    /// every ". " when some anchors start with a dot).
    /// </summary>
    private readonly SearchValues<char>? _firstChars;

    /// <summary>
    /// Per first character (ASCII): the ASCII second characters (upper case when ignoring case) of its anchors, one bit
    /// each; null when an anchor of that bucket is a single character or has a non-ASCII second character (no filter).
    /// </summary>
    private readonly UInt128?[] _secondChars = new UInt128?[128];
    private readonly Entry[][] _byFirstChar = new Entry[128][];
    private readonly Dictionary<char, Entry[]> _byOtherFirstChar = [];
    private readonly StringComparison _comparison;
    private readonly bool _ignoreCase;

    /// <summary>One anchor and the caller's id for it.</summary>
    public readonly record struct Entry(string Text, int Id);

    public AnchorSet(IEnumerable<Entry> anchors, bool ignoreCase)
    {
        _ignoreCase = ignoreCase;
        _comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var all = anchors.ToArray();
        if (all.Length == 0) throw new ArgumentException("At least one anchor is required.", nameof(anchors));
        foreach (var a in all)
        {
            if (a.Text.Length == 0) throw new ArgumentException("Anchors must be non-empty.", nameof(anchors));
        }

        _values = SearchValues.Create(all.Select(a => a.Text).Distinct(StringComparer.Ordinal).ToArray(), _comparison);
        var firsts = all.Select(a => a.Text[0]).Distinct().ToArray();
        if (firsts.All(c => !char.IsLetterOrDigit(c))) _firstChars = SearchValues.Create(firsts);
        foreach (var group in all.GroupBy(a => Key(a.Text[0])))
        {
            var entries = group.OrderByDescending(a => a.Text.Length).ToArray();
            if (group.Key < 128)
            {
                _byFirstChar[group.Key] = entries;
                if (entries.All(e => e.Text.Length >= 2 && char.IsAscii(e.Text[1])))
                {
                    UInt128 mask = 0;
                    foreach (var e in entries) mask |= UInt128.One << SecondKey(e.Text[1]);
                    _secondChars[group.Key] = mask;
                }
            }
            else
            {
                _byOtherFirstChar[group.Key] = entries;
            }
        }
    }

    private char Key(char c) => _ignoreCase ? char.ToLowerInvariant(c) : c;

    /// <summary>An ASCII second character as compared by <see cref="MatchesAt"/> (ordinal, or ordinal ignoring case).</summary>
    private int SecondKey(char c) => _ignoreCase ? char.ToUpperInvariant(c) : c;

    /// <summary>Position of the next anchor at or after <paramref name="start"/>, or -1.</summary>
    public int Next(ReadOnlySpan<char> text, int start)
    {
        if ((uint)start >= (uint)text.Length) return -1;
        if (_firstChars is null)
        {
            var i = text[start..].IndexOfAny(_values);
            return i < 0 ? -1 : start + i;
        }

        Span<int> ids = stackalloc int[1];
        for (var p = start; p < text.Length;)
        {
            var k = text[p..].IndexOfAny(_firstChars);
            if (k < 0) return -1;
            p += k;
            if (SecondCharMayMatch(text, p) && MatchesAt(text, p, ids) > 0) return p;
            p++;
        }

        return -1;
    }

    /// <summary>
    /// False only when no anchor can start at <paramref name="position"/> because of the next character: the anchors of
    /// its bucket are all two or more characters long and none has that (ASCII) second character. A non-ASCII second
    /// character is never ruled out (ignoring case, U+017F equals 's').
    /// </summary>
    private bool SecondCharMayMatch(ReadOnlySpan<char> text, int position)
    {
        var c = text[position];
        if (c >= 128 || _secondChars[Key(c)] is not { } mask) return true;
        if (position + 1 >= text.Length) return false;
        var next = text[position + 1];
        return next >= 128 || ((mask >> SecondKey(next)) & UInt128.One) != 0;
    }

    /// <summary>
    /// The ids of the anchors that start at <paramref name="position"/>, longest first. Returns the number
    /// written to <paramref name="ids"/>.
    /// </summary>
    public int MatchesAt(ReadOnlySpan<char> text, int position, Span<int> ids)
    {
        var c = Key(text[position]);
        var bucket = c < 128 ? _byFirstChar[c] : _byOtherFirstChar.GetValueOrDefault(c);
        if (bucket is null) return 0;
        var n = 0;
        var rest = text[position..];
        foreach (var e in bucket)
        {
            if (n == ids.Length) break;
            if (rest.StartsWith(e.Text, _comparison)) ids[n++] = e.Id;
        }

        return n;
    }
}
