using System.Buffers;

namespace TapPass.Governance.Detection;

/// <summary>
/// Cheap, allocation-free checks shared by the secret rules: character classes, Shannon entropy,
/// placeholders (<c>YOUR_API_KEY_HERE</c>, <c>${X}</c>, <c>sk_live_xxxx</c>), references to secret stores
/// and environment variables, and the shapes that look random but are not credentials (UUIDs, hashes).
/// </summary>
internal static class SecretHeuristics
{
    public static readonly SearchValues<char> Alnum =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    public static readonly SearchValues<char> AlnumUnderscore =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_");
    public static readonly SearchValues<char> AlnumDash =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
    public static readonly SearchValues<char> Base64Url =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-");
    public static readonly SearchValues<char> Base64UrlDot =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.");
    public static readonly SearchValues<char> Base64Std =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/");
    public static readonly SearchValues<char> Base64StdPad =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=");
    public static readonly SearchValues<char> Base64Any =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=_-");
    public static readonly SearchValues<char> HexLower = SearchValues.Create("0123456789abcdef");
    public static readonly SearchValues<char> HexAny = SearchValues.Create("0123456789abcdefABCDEF");
    public static readonly SearchValues<char> HexDash = SearchValues.Create("0123456789abcdef-");
    public static readonly SearchValues<char> UpperAlnum = SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    public static readonly SearchValues<char> LowerAlnum = SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyz");
    public static readonly SearchValues<char> UrlPath =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-/");
    public static readonly SearchValues<char> TokenChars =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=_-.~");
    public static readonly SearchValues<char> Bech32Upper = SearchValues.Create("02345678ACDEFGHJKLMNPQRSTUVWXYZ9");
    public static readonly SearchValues<char> BraintreeChars =
        SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyz$");

    public static bool IsAsciiLetterOrDigit(char c) => char.IsAsciiLetterOrDigit(c);

    public static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.';

    /// <summary>Number of character classes present: lower, upper, digit, other.</summary>
    public static int CharClasses(ReadOnlySpan<char> s)
    {
        bool lower = false, upper = false, digit = false, other = false;
        foreach (var c in s)
        {
            if (char.IsAsciiLetterLower(c)) lower = true;
            else if (char.IsAsciiLetterUpper(c)) upper = true;
            else if (char.IsAsciiDigit(c)) digit = true;
            else other = true;
        }

        return (lower ? 1 : 0) + (upper ? 1 : 0) + (digit ? 1 : 0) + (other ? 1 : 0);
    }

    public static bool HasDigit(ReadOnlySpan<char> s) => s.IndexOfAnyInRange('0', '9') >= 0;

    public static bool HasSymbol(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c)) return true;
        }

        return false;
    }

    public static bool HasLetter(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (char.IsAsciiLetter(c)) return true;
        }

        return false;
    }

    public static bool HasUpperAndLower(ReadOnlySpan<char> s) =>
        s.IndexOfAnyInRange('a', 'z') >= 0 && s.IndexOfAnyInRange('A', 'Z') >= 0;

    /// <summary>Shannon entropy in bits per character (ASCII exact; other characters share one bucket).</summary>
    public static double Entropy(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return 0;
        Span<int> counts = stackalloc int[129];
        counts.Clear();
        foreach (var c in s) counts[c < 128 ? c : 128]++;
        double h = 0, n = s.Length;
        foreach (var k in counts)
        {
            if (k == 0) continue;
            var p = k / n;
            h -= p * Math.Log2(p);
        }

        return h;
    }

    public static int DistinctChars(ReadOnlySpan<char> s)
    {
        Span<bool> seen = stackalloc bool[129];
        seen.Clear();
        var n = 0;
        foreach (var c in s)
        {
            var i = c < 128 ? c : 128;
            if (!seen[i])
            {
                seen[i] = true;
                n++;
            }
        }

        return n;
    }

    /// <summary>Longest run of one repeated character.</summary>
    public static int LongestRun(ReadOnlySpan<char> s)
    {
        int best = 0, run = 0;
        for (var i = 0; i < s.Length; i++)
        {
            run = i > 0 && s[i] == s[i - 1] ? run + 1 : 1;
            if (run > best) best = run;
        }

        return best;
    }

    public static bool IsUuid(ReadOnlySpan<char> s)
    {
        if (s.Length != 36) return false;
        for (var i = 0; i < 36; i++)
        {
            var c = s[i];
            if (i is 8 or 13 or 18 or 23)
            {
                if (c != '-') return false;
            }
            else if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsAllHex(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExcept(HexAny);

    private static readonly string[] PlaceholderFragments =
    [
        "example", "your_", "your-", "yourkey", "yourtoken", "yoursecret", "yourpass", "_here", "-here",
        "changeme", "change_me", "change-me", "replace_me", "replaceme", "replace-me", "placeholder",
        "redacted", "dummy", "xxxx", "****", "...", "…", "<", ">", "{{", "}}", "${", "#{", "%(", "$(",
        "insert_", "insert-", "enter_your", "enter-your", "fake_", "sample_", "todo_", "not_a_real", "notreal",
        "123456789", "abcdefghij", "0123456789",
    ];

    private static readonly string[] ReferencePrefixes =
    [
        "vault:", "env:", "secret:", "secrets.", "secret/", "ref+", "arn:aws:secretsmanager", "arn:aws:ssm",
        "ssm:", "sm://", "op://", "keyvault:", "@microsoft.keyvault", "azurekeyvault", "!vault", "!ref", "!secret",
        "!sub", "!getatt", "$env:", "%env:", "env.", "process.env", "os.environ", "os.getenv", "getenv(", "env(",
        "environment.getenvironmentvariable", "system.getenv", "config[", "configuration[", "settings.", "config.",
        "secrets[", "cred:", "credentials.", "params.", "args.", "options.", "self.", "this.", "input(", "getpass",
        "readline", "prompt(", "sys.argv", "request.", "req.", "props.",
    ];

    private static readonly string[] PlaceholderWords =
    [
        "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "key", "changeme", "null", "none",
        "nil", "undefined", "true", "false", "yes", "no", "empty", "hidden", "masked", "required", "optional",
        "string", "str", "text", "value", "n/a", "na", "tbd", "todo", "test", "example", "sample", "dummy", "foo",
        "bar", "foobar", "admin", "root", "user", "username", "default", "redacted", "removed", "secure", "mypassword",
        "yourpassword", "your_password", "letmein", "qwerty", "abc", "abc123", "xxx", "pw", "pword", "omitted",
        "unknown", "unset", "env", "environment", "variable", "same", "below", "above", "here", "there", "set",
        "correct", "incorrect", "wrong", "invalid", "expired", "missing", "blank", "reset", "changed", "updated",
        "too", "not", "the", "a", "an", "is", "was", "and", "or", "for", "to", "of", "in", "on", "at", "with",
    ];

    private static readonly string[] ReferenceAnywhere = ["process.env", "os.environ", "getenv", "GetEnvironmentVariable"];

    private static readonly SearchValues<string> Fragments = SearchValues.Create(
        PlaceholderFragments.Where(f => f is not ("123456789" or "abcdefghij" or "0123456789")).Concat(["%s", "%d"]).ToArray(),
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> Sequences = SearchValues.Create(["123456789", "abcdefghij", "0123456789"], StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> References = SearchValues.Create(
        ReferencePrefixes.Concat(ReferenceAnywhere).ToArray(), StringComparison.OrdinalIgnoreCase);

    private static readonly System.Collections.Frozen.FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Words =
        System.Collections.Frozen.FrozenSet.ToFrozenSet(PlaceholderWords, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// True for values that are templates, masks, documentation samples or references rather than a credential.
    /// </summary>
    public static bool IsPlaceholderOrReference(ReadOnlySpan<char> value, bool checkSequences = true)
    {
        if (value.IsEmpty) return true;
        var trimmed = value.Trim();
        if (trimmed.IsEmpty) return true;

        // One repeated character: "********", "xxxxxxxx", "0000".
        if (DistinctChars(trimmed) == 1) return true;

        // Dollar references: $VAR, ${VAR}, $(cmd).
        if (trimmed[0] == '$')
        {
            if (trimmed.Length == 1) return true;
            var rest = trimmed[1..];
            if (rest[0] is '{' or '(') return true;
            if (IsEnvName(rest)) return true;
        }

        if (trimmed[0] == '%' && trimmed[^1] == '%') return true;
        if (trimmed[0] == '<' && trimmed[^1] == '>') return true;
        if (trimmed[0] == '{' && trimmed[^1] == '}') return true;
        if (trimmed[0] == '[' && trimmed[^1] == ']') return true;

        if (trimmed.IndexOfAny(Fragments) >= 0) return true;
        if (checkSequences && trimmed.IndexOfAny(Sequences) >= 0) return true;

        // Format strings and templates: "%s", "{attrs[2]}", "{0}".
        var brace = trimmed.IndexOf('{');
        if (brace >= 0 && trimmed[brace..].IndexOf('}') > 0) return true;

        if (trimmed.IndexOfAny(References) >= 0)
        {
            foreach (var p in ReferencePrefixes)
            {
                if (trimmed.StartsWith(p, StringComparison.OrdinalIgnoreCase)) return true;
            }

            foreach (var p in ReferenceAnywhere)
            {
                if (trimmed.Contains(p, StringComparison.OrdinalIgnoreCase)) return true;
            }
        }

        if (trimmed.Contains("your", StringComparison.OrdinalIgnoreCase)
            && (trimmed.Contains("key", StringComparison.OrdinalIgnoreCase)
                || trimmed.Contains("token", StringComparison.OrdinalIgnoreCase)
                || trimmed.Contains("secret", StringComparison.OrdinalIgnoreCase)
                || trimmed.Contains("pass", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return trimmed.Length <= 24 && Words.Contains(trimmed);
    }

    /// <summary>True when the body of a prefixed token is clearly fake: repeated or low-variety characters.</summary>
    public static bool IsLowVarietyBody(ReadOnlySpan<char> body)
    {
        if (body.IsEmpty) return true;
        var distinct = DistinctChars(body);
        if (distinct == 1) return true;
        if (body.Length >= 16 && distinct < 6) return true;
        if (body.Length < 16 && distinct * 3 < body.Length) return true;
        return LongestRun(body) >= 7;
    }

    /// <summary>An environment-variable style name: <c>DB_PASSWORD</c>, <c>PGPASSWORD</c>.</summary>
    public static bool IsEnvName(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty || !(char.IsAsciiLetterUpper(s[0]) || s[0] == '_')) return false;
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_')) return false;
        }

        return true;
    }

    /// <summary>Code such as <c>config.db.password</c> or <c>getPassword()</c> rather than a literal.</summary>
    public static bool LooksLikeCodeReference(ReadOnlySpan<char> s)
    {
        if (s.IndexOfAny('(', '[') >= 0) return true;
        if (s.IndexOf('.') < 0) return false;
        if (HasDigit(s)) return false;
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetter(c) || c is '_' or '.')) return false;
        }

        return true;
    }

    /// <summary>
    /// A random-looking credential: long enough, letters and digits, entropy above the bar, not a UUID,
    /// date, version, path, URL, placeholder or dotted identifier.
    /// </summary>
    public static bool IsHighEntropyToken(ReadOnlySpan<char> v, int minLength = 16, double minEntropy = 3.2, bool allowHexOnly = true)
    {
        if (v.Length < minLength || v.Length > 1024) return false;
        if (v.ContainsAnyExcept(TokenChars)) return false;
        if (!HasDigit(v) || !HasLetter(v)) return false;
        if (IsUuid(v)) return false;
        if (!allowHexOnly && IsAllHex(v)) return false;
        if (v.StartsWith("http", StringComparison.OrdinalIgnoreCase)) return false;
        if (v[0] is '/' or '.' or '~') return false;
        if (Entropy(v) < minEntropy) return false;
        if (IsLowVarietyBody(v)) return false;
        if (LooksLikeCodeReference(v)) return false;
        return !IsPlaceholderOrReference(v);
    }

    /// <summary>A literal password of plausible shape (weak passwords included) for prose contexts.</summary>
    public static bool IsPasswordLike(ReadOnlySpan<char> v, bool strong)
    {
        if (v.Length < 6 || v.Length > 128) return false;
        var classes = CharClasses(v);
        var shapeOk = strong ? v.Length >= 8 && classes >= 3 : classes >= 2 && (HasDigit(v) || HasSymbol(v));
        if (!shapeOk) return false;
        if (v.Contains("://", StringComparison.Ordinal)) return false;
        if (v.IndexOf('@') > 0 && v.IndexOf('.') > v.IndexOf('@')) return false; // an e-mail address
        return !IsPlaceholderOrReference(v, checkSequences: false);
    }
}
