using System.Collections.Frozen;

namespace TapPass.Governance.Detection.Pii;

/// <summary>What a context keyword says about the candidate that follows it.</summary>
internal enum ContextVerdict : byte
{
    /// <summary>No keyword in reach.</summary>
    None = 0,

    /// <summary>The text presents the candidate as the entity (e.g. "phone", "IP").</summary>
    Supports = 1,

    /// <summary>The text presents the candidate as something else (e.g. "SKU", "version").</summary>
    Refutes = 2,
}

/// <summary>
/// A keyword list read backwards from a candidate: the nearest keyword on the same line, within a
/// bounded distance, decides. Words are runs of letters, compared lower-case; a keyword may also be
/// given as a suffix (<c>*version</c> matches <c>AssemblyFileVersion</c>).
/// </summary>
internal sealed class ContextKeywords
{
    private const int MaxWord = 32;
    private const int MaxSqlScan = 512;

    private readonly FrozenDictionary<string, ContextVerdict>.AlternateLookup<ReadOnlySpan<char>> _words;
    private readonly (string Suffix, ContextVerdict Verdict)[] _suffixes;

    public ContextKeywords(IEnumerable<string> supporting, IEnumerable<string> refuting)
    {
        var words = new Dictionary<string, ContextVerdict>(StringComparer.Ordinal);
        var suffixes = new List<(string, ContextVerdict)>();
        void Add(string w, ContextVerdict v)
        {
            if (w.StartsWith('*'))
            {
                suffixes.Add((w[1..], v));
            }
            else
            {
                words[w] = v;
            }
        }

        foreach (string w in supporting)
        {
            Add(w, ContextVerdict.Supports);
        }

        foreach (string w in refuting)
        {
            Add(w, ContextVerdict.Refutes);
        }

        _words = words.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _suffixes = [.. suffixes];
    }

    /// <summary>
    /// The verdict of the nearest keyword before <paramref name="end"/> (exclusive), looking back at
    /// most <paramref name="maxDistance"/> characters and never across a line break.
    /// </summary>
    public ContextVerdict Nearest(string text, int end, int maxDistance) => Nearest(text, end, maxDistance, int.MaxValue, stopAtValue: false);

    /// <summary>
    /// The verdict of the nearest keyword before <paramref name="end"/> (exclusive), looking back at most
    /// <paramref name="maxDistance"/> characters, never across a line break, and past at most
    /// <paramref name="maxWordsBetween"/> other words. With <paramref name="stopAtValue"/>, a run of three or
    /// more digits on the way back ends the search: the keyword before it describes that other value
    /// ("SSN 123-45-6789, reachable at 212-555-0147": "SSN" is not the phone number's label).
    /// </summary>
    public ContextVerdict Nearest(string text, int end, int maxDistance, int maxWordsBetween, bool stopAtValue)
    {
        int lo = Math.Max(0, end - maxDistance);
        int i = end - 1;
        int words = 0;
        int digitRun = 0;
        Span<char> lower = stackalloc char[MaxWord];
        while (i >= lo)
        {
            char c = text[i];
            if (c is '\n' or '\r')
            {
                break;
            }

            if (!char.IsLetter(c))
            {
                digitRun = char.IsAsciiDigit(c) ? digitRun + 1 : 0;
                if (stopAtValue && digitRun >= 3)
                {
                    break;
                }

                i--;
                continue;
            }

            digitRun = 0;
            int wordEnd = i + 1;
            while (i >= 0 && char.IsLetter(text[i]))
            {
                i--;
            }

            ReadOnlySpan<char> word = text.AsSpan(i + 1, wordEnd - (i + 1));
            if (word.Length > MaxWord)
            {
                word = word[^MaxWord..];
            }

            int len = word.ToLowerInvariant(lower);
            ReadOnlySpan<char> w = lower[..len];
            if (_words.TryGetValue(w, out ContextVerdict verdict))
            {
                return verdict;
            }

            foreach (var (suffix, v) in _suffixes)
            {
                if (w.EndsWith(suffix, StringComparison.Ordinal))
                {
                    return v;
                }
            }

            if (++words > maxWordsBetween)
            {
                break;
            }
        }

        return ContextVerdict.None;
    }
    /// <summary>
    /// When the candidate at <paramref name="start"/> is an item of a SQL
    /// <c>INSERT … (col1, col2, …) VALUES (v1, v2, …)</c> tuple on the same line, the verdict of its own
    /// column's name (<see cref="ContextVerdict.None"/> for a name without keyword); otherwise null. In a
    /// VALUES tuple the column list, not the nearest word, says what each value is.
    /// </summary>
    public ContextVerdict? SqlColumnVerdict(string text, int start)
    {
        int lo = Math.Max(0, start - MaxSqlScan);
        int lineStart = text.LastIndexOfAny(['\n', '\r'], Math.Max(0, start - 1)) + 1;
        lo = Math.Max(lo, lineStart);
        if (start <= lo)
        {
            return null;
        }

        int values = text.AsSpan(lo, start - lo).LastIndexOf("VALUES", StringComparison.OrdinalIgnoreCase);
        if (values < 0)
        {
            return null;
        }

        values += lo;
        int p = values + 6;
        while (p < start && text[p] == ' ')
        {
            p++;
        }

        if (p >= start || text[p] != '(')
        {
            return null;
        }

        // Index of the candidate's item in its tuple: commas outside quotes and nested parentheses;
        // after a tuple closes, "(" opens the next one ("VALUES (…), (…)").
        int index = 0;
        int depth = 0;
        bool inTuple = true;
        bool quoted = false;
        for (int k = p + 1; k < start; k++)
        {
            char c = text[k];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (quoted)
            {
                continue;
            }
            else if (c == '(')
            {
                if (inTuple)
                {
                    depth++;
                }
                else
                {
                    inTuple = true;
                    index = 0;
                }
            }
            else if (c == ')')
            {
                if (depth > 0)
                {
                    depth--;
                }
                else
                {
                    inTuple = false;
                }
            }
            else if (c == ',' && inTuple && depth == 0)
            {
                index++;
            }
        }

        if (!inTuple || depth != 0)
        {
            return null;
        }

        // The column list: "( … )" right before VALUES.
        int q = values - 1;
        while (q > lo && text[q] == ' ')
        {
            q--;
        }

        if (q <= lo || text[q] != ')')
        {
            return null;
        }

        int open = text.LastIndexOf('(', q - 1, q - lo);
        if (open < 0)
        {
            return null;
        }

        ReadOnlySpan<char> columns = text.AsSpan(open + 1, q - open - 1);
        if (columns.Contains('(') || columns.Contains('\''))
        {
            return null;
        }

        int column = 0;
        foreach (Range r in columns.Split(','))
        {
            if (column++ == index)
            {
                return VerdictOfName(columns[r]);
            }
        }

        return null;
    }

    /// <summary>The verdict of a column or field name: a supporting word wins over a refuting one.</summary>
    private ContextVerdict VerdictOfName(ReadOnlySpan<char> name)
    {
        Span<char> lower = stackalloc char[MaxWord];
        ContextVerdict result = ContextVerdict.None;
        int i = 0;
        while (i < name.Length)
        {
            if (!char.IsLetter(name[i]))
            {
                i++;
                continue;
            }

            int b = i;
            while (i < name.Length && char.IsLetter(name[i]))
            {
                i++;
            }

            ReadOnlySpan<char> word = name[b..i];
            if (word.Length > MaxWord)
            {
                word = word[^MaxWord..];
            }

            int len = word.ToLowerInvariant(lower);
            if (_words.TryGetValue(lower[..len], out ContextVerdict v))
            {
                if (v == ContextVerdict.Supports)
                {
                    return v;
                }

                result = v;
            }
        }

        return result;
    }
}
