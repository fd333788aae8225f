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

    /// <summary>
    /// Farthest a table header is looked for before a candidate (characters). The streaming masker keeps more
    /// released text than this as left context.
    /// </summary>
    public const int MaxTableLookBack = 200;

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
    /// more digits or an <c>@</c> (an e-mail address) on the way back ends the search: the keyword before it
    /// describes that other value ("SSN 123-45-6789, reachable at 212-555-0147": "SSN" is not the phone
    /// number's label).
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
                if (stopAtValue && (digitRun >= 3 || c == '@'))
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

    /// <summary>
    /// When the candidate at <paramref name="start"/> sits in a row of a table whose first line is a header
    /// (CSV, TSV, <c>;</c>-separated, Markdown <c>| a | b |</c>), the verdict of its column's header name;
    /// otherwise null. The table is the block of lines up to the previous blank line (or the start of the text);
    /// the header must have no value-like content (digit runs, <c>@</c>), and the row's delimiters before the
    /// candidate give its column.
    /// <para>
    /// Local by construction: only the <see cref="MaxTableLookBack"/> characters before <paramref name="start"/>
    /// are read (a header farther back, or a block start that cannot be seen within that reach, gives null), and
    /// nothing after it. So any text that holds those characters gives the same verdict — which is what lets the
    /// streaming masker, which keeps at least that much released text as context, mask a streamed table exactly
    /// like the whole text.
    /// </para>
    /// </summary>
    public ContextVerdict? TableColumnVerdict(string text, int start)
    {
        if (start <= 0 || start > text.Length)
        {
            return null;
        }

        int lo = start - MaxTableLookBack; // <= 0: the start of the text is within reach
        int floor = Math.Max(lo, 0);
        int lineStart = PreviousLineStart(text, floor, start, lo);
        if (lineStart <= 0)
        {
            return null; // the first line of the text is no data row, or its start is out of reach
        }

        // The block's first line: walk back over non-blank lines, all within reach.
        int headerStart = lineStart;
        while (headerStart > 0)
        {
            int prevEnd = headerStart - 1; // the '\n' that ends the previous line
            if (prevEnd < floor)
            {
                return null;
            }

            int prevStart = PreviousLineStart(text, floor, prevEnd, lo);
            if (prevStart < 0)
            {
                return null;
            }

            if (text.AsSpan(prevStart, prevEnd - prevStart).IsWhiteSpace())
            {
                break;
            }

            headerStart = prevStart;
        }

        if (headerStart == lineStart)
        {
            return null;
        }

        int headerEnd = text.IndexOf('\n', headerStart, lineStart - headerStart);
        ReadOnlySpan<char> header = text.AsSpan(headerStart, headerEnd - headerStart).TrimEnd('\r');
        ReadOnlySpan<char> row = text.AsSpan(lineStart, start - lineStart);
        if (header.Contains('@') || HasDigitRun(header, 3))
        {
            return null;
        }

        foreach (char delimiter in (ReadOnlySpan<char>)['|', '\t', ';', ','])
        {
            int count = CountOutsideQuotes(header, delimiter, header.Length);
            if (count == 0)
            {
                continue;
            }

            int index = CountOutsideQuotes(row, delimiter, row.Length);
            if (index > count)
            {
                return null; // more cells than the header has columns: not this table's row
            }

            int column = 0;
            foreach (Range r in header.Split(delimiter))
            {
                if (column++ == index)
                {
                    return VerdictOfName(header[r]);
                }
            }

            return null;
        }

        return null;
    }

    /// <summary>
    /// Start of the line that contains position <paramref name="end"/> - 1 (the line ending at <paramref name="end"/>),
    /// searching only [<paramref name="floor"/>, <paramref name="end"/>); 0 when the text starts within reach
    /// (<paramref name="lo"/> &lt;= 0) without a line break, -1 when the line starts out of reach.
    /// </summary>
    private static int PreviousLineStart(string text, int floor, int end, int lo)
    {
        int nl = text.AsSpan(floor, end - floor).LastIndexOf('\n');
        if (nl >= 0)
        {
            return floor + nl + 1;
        }

        return lo <= 0 ? 0 : -1;
    }

    private static int CountOutsideQuotes(ReadOnlySpan<char> line, char delimiter, int end)
    {
        int count = 0;
        bool quoted = false;
        for (int k = 0; k < end && k < line.Length; k++)
        {
            char c = line[k];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == delimiter && !quoted)
            {
                count++;
            }
        }

        return count;
    }

    private static bool HasDigitRun(ReadOnlySpan<char> s, int length)
    {
        int run = 0;
        foreach (char c in s)
        {
            run = char.IsAsciiDigit(c) ? run + 1 : 0;
            if (run >= length)
            {
                return true;
            }
        }

        return false;
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
