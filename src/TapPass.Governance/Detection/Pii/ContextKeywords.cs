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
}
