namespace TapPass.Governance.Policy.Tools;

/// <summary>Case-insensitive globs over tool names: <c>*</c> matches any run of characters, everything else literally.</summary>
internal static class Glob
{
    public const int MaxLength = 256;

    public static bool IsMatch(string pattern, string value)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(value);
        if (pattern.Length > MaxLength || value.Length > MaxLength)
        {
            return false;
        }

        // Iterative wildcard matching with backtracking to the last '*': O(p * v) worst case, no recursion.
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (p < pattern.Length && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(value[v]))
            {
                p++;
                v++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    public static bool MatchesAny(IEnumerable<string> patterns, string value) => patterns.Any(p => IsMatch(p, value));
}
