using static TapPass.Governance.Detection.SecretHeuristics;

namespace TapPass.Governance.Detection;

/// <summary>What a keyword anchor found by the prefilter stands for.</summary>
internal enum KeywordKind
{
    None = 0,
    /// <summary>password, passwd, pwd, pw, wachtwoord, Passwort, mot de passe, …</summary>
    Password,
    /// <summary>secret, client_secret, JWT_SECRET, …</summary>
    Secret,
    /// <summary>token, key, auth, credential, bearer, …</summary>
    Token,
}

/// <summary>One candidate span before overlap resolution.</summary>
internal readonly record struct SecretCandidate(int Start, int Length, string Kind, int Priority, double Score)
{
    public int End => Start + Length;
}

/// <summary>
/// Values attached to a credential keyword: assignments (<c>password="…"</c>, <c>PASSWORD=…</c>,
/// <c>"Password": "…"</c>, <c>api_key: …</c>, <c>Authorization: Bearer …</c>), CLI flags, SQL
/// (<c>IDENTIFIED BY '…'</c>) and prose ("the password is …", "het wachtwoord … is …", "Passwort … lautet …"),
/// plus ADO.NET style <c>Key=Value;…</c> connection strings that contain a password.
/// </summary>
internal static class SecretKeyedValues
{
    public const int PasswordPriority = 50;
    public const int TokenPriority = 40;
    public const int ConnectionStringPriority = 90;
    public const int AwsSecretPriority = 85;
    private const int MaxIdentifier = 64;
    private const int MaxValue = 512;

    private static readonly System.Buffers.SearchValues<char> Letters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_");

    private static readonly string[] PasswordWords =
    [
        "password", "passwd", "passwort", "kennwort", "wachtwoord", "paswoord", "passphrase", "passord", "contraseña",
        "contrasena", "senha", "mot de passe", "mot_de_passe", "identified by", "lösenord", "losenord", "salasana",
        "hasło", "haslo", "heslo", "jelszó", "jelszo", "passe", "pass", "pwd", "pw", "mdp",
    ];

    private static readonly string[] ShortWords = ["pass", "pwd", "pw", "mdp", "key", "auth"];

    /// <summary>Definite forms that contain a password word ("Lösenordet är …", "Passordet er …").</summary>
    private static readonly string[] InflectedPasswordWords = ["lösenordet", "losenordet", "passordet"];

    /// <summary>Copulas of one language only, valid after that language's password word ("Hasło do serwera to …").</summary>
    private static readonly (string Keyword, string Copula)[] LanguageCopulas =
        [("hasło", "to"), ("haslo", "to"), ("salasana", "on"), ("jelszó", "az"), ("jelszo", "az")];

    /// <summary>Setter calls whose first argument is the key and second the value: define('DB_PASSWORD', '…').</summary>
    private static readonly string[] SetterCalls =
        ["define", "setenv", "putenv", "setenvironmentvariable", "setproperty", "set", "put", "setitem"];

    private static readonly string[] TokenWords =
    [
        "authorization", "credentials", "credential", "bearer", "token", "apikey", "api_key", "api-key", "key", "auth",
    ];

    private static readonly string[] KeyCompounds =
    [
        "apikey", "accesskey", "secretkey", "privatekey", "masterkey", "accountkey", "sharedaccesskey", "subscriptionkey",
        "clientkey", "appkey", "authkey", "signingkey", "encryptionkey", "licensekey", "servicekey", "adminkey",
    ];

    private static readonly string[] StrongKeyMarkers =
    [
        "api", "secret", "access", "private", "auth", "signing", "master", "encryption", "client", "app", "account",
        "subscription", "license", "service", "admin", "consumer", "webhook", "license", "deploy", "integration",
        "shared", "storage", "stripe", "openai", "anthropic", "aws", "azure", "gcp", "google", "twilio", "sendgrid",
        "mailgun", "slack", "github", "gitlab", "heroku", "x-",
    ];

    private static readonly string[] ExcludedIdentifierParts =
    [
        "public", "publishable", "pubkey", "pub_key", "pub-key", "cache", "sort", "partition", "primary", "foreign",
        "idempotency", "page", "cursor", "continuation", "csrf", "xsrf", "sync", "hash", "checksum", "digest", "hotkey",
        "monkey", "turkey", "whiskey", "jockey", "hockey", "donkey", "bypass", "compass", "overpass", "underpass",
        "passkey", "ssh", "gpg", "pgp", "keyid", "key_id", "tokenizer", "storage_key_name", "max_token", "num_token",
        "tokens_", "token_count", "token_limit", "token_type", "token_usage", "foreign_key", "turnkey", "keystore",
        "keychain", "keyring", "keyword", "keyframe", "keypad", "keyboard", "keystroke", "keyspace", "passthrough",
    ];

    private static readonly string[] Copulas =
    [
        "is", "was", "are", "ist", "lautet", "war", "est", "était", "es", "era", "è", "é", "er", "var", "är", "jest",
        "je", "wordt", "blijft", "=", ":", "is:", "=>", "->", "sera", "será", "será:",
    ];

    private static readonly string[] CopulaFillers = ["now", "still", "simply", "just", "currently", "temporarily", "nu", "jetzt", "maintenant", "ahora", "voorlopig", ":"];

    private static readonly string[] AuthSchemes =
    [
        "Bearer", "Basic", "Token", "Bot", "Digest", "ApiKey", "Api-Key", "SSWS", "OAuth", "Splunk", "GenieKey", "JWT",
        "Key", "token", "bearer", "basic",
    ];

    private static readonly string[] TwoWordKeyPrefixes =
    [
        "data", "user", "initial", "integrated", "persist", "security", "trust", "server", "application", "connect",
        "connection", "multiple", "active", "max", "min", "pool", "shared", "access", "account", "default", "command",
        "load", "network", "packet", "workstation", "failover", "column", "attach", "enlist", "current", "transparent",
        "encrypt", "host", "provider", "extended", "multi", "ssl", "replica", "read", "write", "auth",
    ];

    /// <summary>
    /// Handles one keyword occurrence at <paramref name="hit"/>. Returns the index from which scanning continues.
    /// </summary>
    public static int Process(string text, int hit, int anchorLength, ref List<SecretCandidate>? candidates)
    {
        var span = text.AsSpan();

        // 1. The whole identifier around the keyword (DB_PASSWORD, x-api-key, Root-Passwort, "mot de passe").
        var idStart = hit;
        while (idStart > 0 && hit - idStart < MaxIdentifier && IsIdentifierChar(span[idStart - 1])) idStart--;
        var idEnd = hit + anchorLength;
        while (idEnd < span.Length && idEnd - hit < MaxIdentifier && IsIdentifierChar(span[idEnd])) idEnd++;
        while (idEnd > hit + anchorLength && span[idEnd - 1] is '.' or '-') idEnd--;
        var continueAt = idEnd;
        var id = span[idStart..idEnd];

        // 2. Classification by the identifier's last word.
        var kind = Classify(id, out var keyword, out var strongKey);
        if (kind == KeywordKind.None) return continueAt;

        // Working-directory variables in environment dumps are paths, not passwords.
        if (id.SequenceEqual("PWD") || id.SequenceEqual("OLDPWD")) return continueAt;

        // 3. ADO.NET style connection strings around Password=/Pwd=/AccountKey=.
        var afterId = SkipBlanks(span, idEnd);
        if (afterId < span.Length && span[afterId] == '=' && (afterId + 1 >= span.Length || span[afterId + 1] != '='))
        {
            if (TryConnectionString(text, idStart, idEnd, out var cs))
            {
                Add(ref candidates, cs);
                return Math.Max(continueAt, cs.End);
            }
        }

        // 4. The value; identifiers that name something else (public_key, cache_key, bypass, …) are checked only
        //    once a value was found, which keeps the common no-value case cheap.
        if (!TryValue(text, idStart, idEnd, kind, keyword, out var vStart, out var vLen, out var form)) return continueAt;
        if (IsExcludedIdentifier(id)) return continueAt;
        var value = span.Slice(vStart, vLen);

        switch (kind)
        {
            case KeywordKind.Password:
                if (!PasswordValueOk(value, form)) return continueAt;
                Add(ref candidates, new SecretCandidate(vStart, vLen, "password", PasswordPriority, 0.85));
                return Math.Max(continueAt, vStart + vLen);

            case KeywordKind.Secret:
            {
                if (IsAwsSecretIdentifier(id) && IsAwsSecretValue(value))
                {
                    Add(ref candidates, new SecretCandidate(vStart, vLen, "aws_secret_key", AwsSecretPriority, 0.95));
                    return Math.Max(continueAt, vStart + vLen);
                }

                var ok = form == ValueForm.Prose
                    ? IsHighEntropyToken(value, 16)
                    : IsHighEntropyToken(value, 12, 3.0) || IsPasswordLike(value, strong: true);
                if (!ok) return continueAt;
                Add(ref candidates, new SecretCandidate(vStart, vLen, "generic_secret", TokenPriority, 0.75));
                return Math.Max(continueAt, vStart + vLen);
            }

            default:
            {
                if (IsAwsSecretIdentifier(id))
                {
                    if (IsAwsSecretValue(value))
                    {
                        Add(ref candidates, new SecretCandidate(vStart, vLen, "aws_secret_key", AwsSecretPriority, 0.95));
                        return Math.Max(continueAt, vStart + vLen);
                    }
                }

                if (id.Contains("heroku", StringComparison.OrdinalIgnoreCase) && IsUuid(value))
                {
                    Add(ref candidates, new SecretCandidate(vStart, vLen, "heroku_api_key", TokenPriority + 5, 0.9));
                    return Math.Max(continueAt, vStart + vLen);
                }

                if (form == ValueForm.BasicAuth)
                {
                    Add(ref candidates, new SecretCandidate(vStart, vLen, "basic_auth", TokenPriority, 0.9));
                    return Math.Max(continueAt, vStart + vLen);
                }

                var ok = strongKey
                    ? IsHighEntropyToken(value, form == ValueForm.Prose ? 20 : 16)
                    : IsHighEntropyToken(value, 20, 3.5, allowHexOnly: false);
                if (!ok) return continueAt;
                Add(ref candidates, new SecretCandidate(vStart, vLen, "generic_token", TokenPriority, 0.7));
                return Math.Max(continueAt, vStart + vLen);
            }
        }
    }

    private static bool IsExcludedIdentifier(ReadOnlySpan<char> id)
    {
        foreach (var part in ExcludedIdentifierParts)
        {
            if (id.Contains(part, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static void Add(ref List<SecretCandidate>? list, SecretCandidate c) => (list ??= []).Add(c);

    private static bool IsAwsSecretIdentifier(ReadOnlySpan<char> id) =>
        id.Contains("secret", StringComparison.OrdinalIgnoreCase)
        && (id.Contains("aws", StringComparison.OrdinalIgnoreCase) || id.Contains("access", StringComparison.OrdinalIgnoreCase));

    private static bool IsAwsSecretValue(ReadOnlySpan<char> v) =>
        v.Length == 40 && !v.ContainsAnyExcept(Base64Std) && !v.Contains("EXAMPLE", StringComparison.OrdinalIgnoreCase)
        && HasDigit(v) && HasUpperAndLower(v) && !IsLowVarietyBody(v);

    /// <summary>Classifies an identifier by its final word; <paramref name="strongKey"/> tells api_key from cache-ish keys.</summary>
    internal static KeywordKind Classify(ReadOnlySpan<char> id, out string keyword, out bool strongKey)
    {
        strongKey = false;
        keyword = "";
        foreach (var w in PasswordWords)
        {
            if (EndsWithWord(id, w))
            {
                keyword = w;
                strongKey = true;
                return KeywordKind.Password;
            }
        }

        foreach (var w in InflectedPasswordWords)
        {
            if (EndsWithWord(id, w))
            {
                keyword = w;
                strongKey = true;
                return KeywordKind.Password;
            }
        }

        if (EndsWithWord(id, "secret"))
        {
            keyword = "secret";
            strongKey = true;
            return KeywordKind.Secret;
        }

        foreach (var w in TokenWords)
        {
            if (!EndsWithWord(id, w)) continue;
            keyword = w;
            if (w is "key")
            {
                foreach (var m in StrongKeyMarkers)
                {
                    if (id.Length > 3 && id[..^3].Contains(m, StringComparison.OrdinalIgnoreCase))
                    {
                        strongKey = true;
                        break;
                    }
                }
            }
            else
            {
                strongKey = true;
            }

            // A secret key (aws_secret_access_key, SECRET_KEY) is a secret.
            if (w is "key" && id.Contains("secret", StringComparison.OrdinalIgnoreCase)) return KeywordKind.Secret;
            return KeywordKind.Token;
        }

        return KeywordKind.None;
    }

    /// <summary>
    /// True when <paramref name="id"/> ends with <paramref name="word"/> at a word boundary: the whole identifier,
    /// after a separator, a camelCase hump, or (for long unambiguous words) glued to a prefix (PGPASSWORD).
    /// </summary>
    private static bool EndsWithWord(ReadOnlySpan<char> id, string word)
    {
        if (!id.EndsWith(word, StringComparison.OrdinalIgnoreCase)) return false;
        var at = id.Length - word.Length;
        if (at == 0) return true;
        var prev = id[at - 1];
        if (prev is '_' or '-' or '.' or ' ') return true;
        var isShort = Array.IndexOf(ShortWords, word) >= 0;
        var first = id[at];
        if (!isShort && char.IsAsciiLetterUpper(first) && (char.IsAsciiLetterLower(prev) || char.IsAsciiDigit(prev))) return true;
        if (!isShort) return true;
        if (word is "key")
        {
            foreach (var c in KeyCompounds)
            {
                if (id.EndsWith(c, StringComparison.OrdinalIgnoreCase)) return true;
            }
        }

        return false;
    }

    internal enum ValueForm
    {
        /// <summary>key = value, key: value, key =&gt; value, &lt;key&gt;value&lt;/key&gt;.</summary>
        Assignment,
        /// <summary>key "value" / key 'value' (SQL PASSWORD 'x', IDENTIFIED BY 'x').</summary>
        QuotedAfterKeyword,
        /// <summary>key = "value", key: 'value', &lt;add key="…Password" value="…"/&gt;: a string literal assigned.</summary>
        QuotedAssignment,
        /// <summary>--password value.</summary>
        CliFlag,
        /// <summary>pw Value (no separator, the value must look strongly like a password).</summary>
        Direct,
        /// <summary>the password for X is Value.</summary>
        Prose,
        /// <summary>Authorization: Basic base64(user:pass).</summary>
        BasicAuth,
    }

    private static int SkipBlanks(ReadOnlySpan<char> s, int i)
    {
        var limit = Math.Min(s.Length, i + 16);
        while (i < limit && s[i] is ' ' or '\t') i++;
        return i;
    }

    /// <summary>
    /// The value of a quoted key that names another quoted value instead of being assigned one:
    /// <c>&lt;add key="SmtpPassword" value="…" /&gt;</c> (a key attribute and the value attribute after it) and
    /// <c>define('DB_PASSWORD', '…')</c>, <c>os.Setenv("DB_PASSWORD", "…")</c> (a setter call's first and
    /// second argument). <paramref name="afterKey"/> is just past the key's closing quote.
    /// </summary>
    private static bool TryAttributeOrSetterValue(ReadOnlySpan<char> s, int idStart, int afterKey, out int vStart, out int vLen)
    {
        vStart = vLen = 0;
        if (idStart < 2 || !IsQuote(s[idStart - 1]) || afterKey <= idStart || !IsQuote(s[afterKey - 1])) return false;
        var before = s[..(idStart - 1)];
        var j = SkipBlanks(s, afterKey);
        if (j >= s.Length) return false;
        if (before.EndsWith("key=", StringComparison.OrdinalIgnoreCase) || before.EndsWith("name=", StringComparison.OrdinalIgnoreCase))
        {
            const string ValueAttribute = "value=";
            if (!s[j..].StartsWith(ValueAttribute, StringComparison.OrdinalIgnoreCase)) return false;
            j += ValueAttribute.Length;
            return j < s.Length && IsQuote(s[j]) && ReadValue(s, j, false, out vStart, out vLen)
                && !s.Slice(vStart, vLen).ContainsAny(' ', '\t');
        }

        if (s[j] != ',' || !IsSetterCall(before.TrimEnd(' '))) return false;
        j = SkipBlanks(s, j + 1);
        return j < s.Length && IsQuote(s[j]) && ReadValue(s, j, false, out vStart, out vLen)
            && !s.Slice(vStart, vLen).ContainsAny(' ', '\t');
    }

    /// <summary>Whether <paramref name="before"/> ends with "name(" for one of <see cref="SetterCalls"/>.</summary>
    private static bool IsSetterCall(ReadOnlySpan<char> before)
    {
        if (before.IsEmpty || before[^1] != '(') return false;
        var name = before[..^1].TrimEnd(' ');
        var b = name.Length;
        while (b > 0 && char.IsAsciiLetter(name[b - 1])) b--;
        name = name[b..];
        foreach (var setter in SetterCalls)
        {
            if (name.Equals(setter, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    /// <summary>
    /// Skips one or two <c>*</c> that close Markdown emphasis around a key (<c>**Password:**</c>,
    /// <c>*pw*: …</c>): only when a blank, <c>:</c> or <c>=</c> follows them, so a value that starts with
    /// <c>*</c> is kept.
    /// </summary>
    private static int SkipEmphasis(ReadOnlySpan<char> s, int i)
    {
        var j = i;
        while (j < s.Length && j - i < 2 && s[j] == '*') j++;
        return j > i && j < s.Length && s[j] is ' ' or '\t' or ':' or '=' ? j : i;
    }

    private static bool IsQuote(char c) => c is '"' or '\'' or '`' or '“' or '”' or '‘' or '’' or '«' or '»';

    private static char ClosingQuote(char c) => c switch
    {
        '“' => '”',
        '‘' => '’',
        '«' => '»',
        _ => c,
    };

    private static bool TryValue(string text, int idStart, int idEnd, KeywordKind kind, string keyword,
        out int vStart, out int vLen, out ValueForm form)
    {
        var s = text.AsSpan();
        vStart = vLen = 0;
        form = ValueForm.Assignment;
        var i = idEnd;

        // Closing quote or bracket of a quoted key: "Password": …, ['password'] = …
        if (i < s.Length && (IsQuote(s[i]) || s[i] == ']')) i++;
        if (i < s.Length && s[i] == ']') i++;

        if (TryAttributeOrSetterValue(s, idStart, i, out vStart, out vLen))
        {
            form = ValueForm.QuotedAssignment;
            return true;
        }

        // Markdown emphasis around the key: **Password**: …
        i = SkipEmphasis(s, i);
        var afterKey = i;
        i = SkipBlanks(s, i);
        var blanks = i - afterKey;
        if (i >= s.Length) return false;

        var sep = 0;
        var xml = idStart > 0 && s[idStart - 1] == '<' && s[i] == '>';
        if (xml)
        {
            sep = 1;
        }
        else if (s[i..].StartsWith("===")) sep = 3;
        else if (s[i..].StartsWith("=>") || s[i..].StartsWith(":=") || s[i..].StartsWith("==") || s[i..].StartsWith("->")) sep = 2;
        else if (s[i] is '=' or ':')
        {
            // "pass://" is a scheme, not an assignment.
            if (s[i] == ':' && s[(i + 1)..].StartsWith("//")) return false;
            sep = 1;
        }

        if (sep > 0)
        {
            // Markdown emphasis closing after the separator: **Password:** `…`
            i = SkipBlanks(s, SkipEmphasis(s, i + sep));
            if (i >= s.Length) return false;
            if (xml)
            {
                var close = s[i..].IndexOf('<');
                if (close <= 0 || close > MaxValue) return false;
                vStart = i;
                vLen = close;
                return TrimValue(s, ref vStart, ref vLen);
            }

            // Authorization: Bearer X / Basic X / token X
            if (kind == KeywordKind.Token && keyword is "authorization" or "auth" or "credentials" or "credential")
            {
                var quoted = IsQuote(s[i]);
                var j = quoted ? i + 1 : i;
                foreach (var scheme in AuthSchemes)
                {
                    if (s[j..].StartsWith(scheme, StringComparison.Ordinal) && j + scheme.Length < s.Length
                        && s[j + scheme.Length] == ' ')
                    {
                        var k = SkipBlanks(s, j + scheme.Length);
                        if (!ReadBare(s, k, quoted ? s[i] : '\0', out vStart, out vLen)) return false;
                        if (scheme.Equals("basic", StringComparison.OrdinalIgnoreCase))
                        {
                            if (!IsBasicCredential(s.Slice(vStart, vLen))) return false;
                            form = ValueForm.BasicAuth;
                        }

                        return TrimValue(s, ref vStart, ref vLen);
                    }
                }
            }

            if (IsQuote(s[i])) form = ValueForm.QuotedAssignment;
            return ReadValue(s, i, QueryContext(s, idStart), out vStart, out vLen);
        }

        if (blanks == 0) return false;

        // "pass" is also an English verb ("pass 'ignore' to …", "Pass stdout=PIPE"): assignments only.
        if (keyword == "pass") return false;

        // No separator: keyword followed by whitespace.
        if (IsQuote(s[i]) && kind != KeywordKind.Token)
        {
            form = ValueForm.QuotedAfterKeyword;
            return ReadValue(s, i, false, out vStart, out vLen);
        }

        if (keyword == "bearer")
        {
            form = ValueForm.Direct;
            return ReadBare(s, i, '\0', out vStart, out vLen) && TrimValue(s, ref vStart, ref vLen);
        }

        if (idStart + 1 < s.Length && s[idStart] == '-' && kind == KeywordKind.Password)
        {
            form = ValueForm.CliFlag;
            return ReadValue(s, i, false, out vStart, out vLen);
        }

        if (kind == KeywordKind.Password && keyword != "identified by")
        {
            // "pw UGU1CVEykl^U!uv6m8v"
            if (ReadBare(s, i, '\0', out var ds, out var dl) && TrimValue(s, ref ds, ref dl)
                && IsPasswordLike(s.Slice(ds, dl), strong: true) && !IsCommonWordAfterKeyword(s.Slice(ds, dl)))
            {
                vStart = ds;
                vLen = dl;
                form = ValueForm.Direct;
                return true;
            }
        }

        // Prose: up to six words, then a copula, then the value.
        form = ValueForm.Prose;
        var pos = i;
        for (var word = 0; word < 7 && pos < s.Length; word++)
        {
            var wEnd = pos;
            while (wEnd < s.Length && !char.IsWhiteSpace(s[wEnd])) wEnd++;
            var w = s[pos..wEnd];
            if (w.IsEmpty) return false;
            if (IsCopula(w) || IsLanguageCopula(keyword, w))
            {
                var k = wEnd;
                for (var f = 0; f < 3; f++)
                {
                    var k2 = SkipBlanks(s, k);
                    var fEnd = k2;
                    while (fEnd < s.Length && !char.IsWhiteSpace(s[fEnd])) fEnd++;
                    if (fEnd > k2 && IsFiller(s[k2..fEnd])) k = fEnd;
                    else break;
                }

                k = SkipBlanks(s, k);
                if (k >= s.Length || k == wEnd) return false;
                if (!ReadValue(s, k, false, out vStart, out vLen)) return false;
                if (IsQuote(s[k])) form = ValueForm.QuotedAfterKeyword;
                return true;
            }

            // A sentence or line ends: the keyword had no value.
            if (w[^1] is '.' or '!' or '?' or ';' or ',') return false;
            pos = wEnd;
            if (pos < s.Length && s[pos] is '\n' or '\r') return false;
            pos = SkipBlanks(s, pos);
        }

        return false;
    }

    private static bool IsCommonWordAfterKeyword(ReadOnlySpan<char> v) =>
        v.Equals("manager", StringComparison.OrdinalIgnoreCase) || v.Equals("reset", StringComparison.OrdinalIgnoreCase)
        || LooksLikeKeywordArgument(v);

    /// <summary><c>follow_symlinks=False</c>, <c>stdout=PIPE</c>: an option, not a password.</summary>
    private static bool LooksLikeKeywordArgument(ReadOnlySpan<char> v)
    {
        var eq = v.IndexOf('=');
        if (eq <= 0) return false;
        var name = v[..eq];
        var dashed = name[0] == '-';
        name = name.TrimStart('-');
        if (dashed && name.Length > 1 && char.IsAsciiLetterUpper(name[0])) name = name[1..]; // -Dname=value
        if (name.Length < 2 || !char.IsAsciiLetterLower(name[0])) return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-')) return false;
        }

        return true;
    }

    private static bool IsLanguageCopula(string keyword, ReadOnlySpan<char> w)
    {
        foreach (var (k, c) in LanguageCopulas)
        {
            if (k == keyword && w.Equals(c, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool IsCopula(ReadOnlySpan<char> w)
    {
        foreach (var c in Copulas)
        {
            if (w.Equals(c, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool IsFiller(ReadOnlySpan<char> w)
    {
        foreach (var c in CopulaFillers)
        {
            if (w.Equals(c, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool QueryContext(ReadOnlySpan<char> s, int idStart) =>
        idStart > 0 && s[idStart - 1] is '?' or '&' or ';';

    /// <summary>A quoted or bare value starting at <paramref name="i"/>.</summary>
    private static bool ReadValue(ReadOnlySpan<char> s, int i, bool query, out int vStart, out int vLen)
    {
        vStart = vLen = 0;
        if (i >= s.Length) return false;
        if (IsQuote(s[i]))
        {
            var close = ClosingQuote(s[i]);
            var j = i + 1;
            var limit = Math.Min(s.Length, j + MaxValue);
            while (j < limit && s[j] != close && s[j] is not '\n' and not '\r')
            {
                if (s[j] == '\\' && j + 1 < limit && s[j + 1] == close) j++;
                j++;
            }

            if (j >= limit || s[j] != close) return false;
            vStart = i + 1;
            vLen = j - vStart;
            return vLen > 0;
        }

        if (!ReadBare(s, i, '\0', out vStart, out vLen, query)) return false;
        return TrimValue(s, ref vStart, ref vLen);
    }

    private static bool ReadBare(ReadOnlySpan<char> s, int i, char quote, out int vStart, out int vLen, bool query = false)
    {
        vStart = i;
        var j = i;
        var limit = Math.Min(s.Length, i + MaxValue);
        while (j < limit)
        {
            var c = s[j];
            if (char.IsWhiteSpace(c) || c == quote || (quote == '\0' && IsQuote(c))) break;
            if (query && c is '&' or '#') break;
            j++;
        }

        vLen = j - i;
        return vLen > 0;
    }

    private static bool TrimValue(ReadOnlySpan<char> s, ref int vStart, ref int vLen)
    {
        while (vLen > 0 && s[vStart + vLen - 1] is ',' or ';' or '.' or ')' or ']' or '}' or '>' or ':' or '?')
        {
            // Keep a closing bracket that has its opening partner inside the value.
            var c = s[vStart + vLen - 1];
            var v = s.Slice(vStart, vLen - 1);
            if ((c == ')' && v.Contains('(')) || (c == ']' && v.Contains('[')) || (c == '}' && v.Contains('{'))) break;
            vLen--;
        }

        return vLen > 0;
    }

    private static bool PasswordValueOk(ReadOnlySpan<char> v, ValueForm form)
    {
        if (v.Length < 3 || v.Length > 256) return false;
        if (v[^1] is '=' or ':' && !v[..^1].ContainsAnyExcept(Letters)) return false; // the next key ("password= user=")
        if (IsPlaceholderOrReference(v, checkSequences: false)) return false;
        if (v.Contains("://", StringComparison.Ordinal)) return false;
        switch (form)
        {
            case ValueForm.Prose:
                return IsPasswordLike(v, strong: false) && !IsUuid(v) && BracketsBalanced(v) && !LooksLikeKeywordArgument(v);
            case ValueForm.Direct:
                return IsPasswordLike(v, strong: true);
            case ValueForm.QuotedAfterKeyword:
                return v.Length >= 4;
            default:
                if (LooksLikeCodeReference(v)) return false;

                // Bare identifiers (userPassword, hunter) are code or words, not literals.
                foreach (var c in v)
                {
                    if (!(char.IsAsciiLetter(c) || c == '_')) return true;
                }

                // A quoted literal of letters only is a password when its case is mixed like a random string
                // ("fIrDFdMdiLYtHLr"), not like a word or an identifier ("secret", "userPassword", "Password").
                return form == ValueForm.QuotedAssignment && IsRandomCaseLetters(v);
        }
    }

    private static bool IsRandomCaseLetters(ReadOnlySpan<char> v)
    {
        if (v.Length < 8) return false;
        int upper = 0, lower = 0, upperRuns = 0;
        for (var k = 0; k < v.Length; k++)
        {
            if (char.IsAsciiLetterUpper(v[k]))
            {
                upper++;
                if (k > 0 && char.IsAsciiLetterUpper(v[k - 1])) upperRuns++;
            }
            else if (char.IsAsciiLetterLower(v[k]))
            {
                lower++;
            }
        }

        // At least three of each case and two capitals in a row somewhere (camelCase identifiers rarely have them).
        return upper >= 3 && lower >= 3 && upperRuns >= 1 && upper + lower == v.Length;
    }

    private static bool BracketsBalanced(ReadOnlySpan<char> v) =>
        v.Count('[') == v.Count(']') && v.Count('(') == v.Count(')') && v.Count('{') == v.Count('}');

    private static bool IsBasicCredential(ReadOnlySpan<char> b64)
    {
        if (b64.Length is < 8 or > 512 || b64.ContainsAnyExcept(Base64StdPad)) return false;
        Span<byte> bytes = stackalloc byte[b64.Length];
        if (!Convert.TryFromBase64Chars(b64, bytes, out var n)) return false;
        var decoded = bytes[..n];
        var colon = decoded.IndexOf((byte)':');
        if (colon <= 0 || colon == n - 1) return false;
        foreach (var b in decoded)
        {
            if (b is < 0x20 or > 0x7e) return false;
        }

        return true;
    }

    /// <summary>
    /// An ADO.NET / ODBC / Azure connection string (<c>Server=…;User Id=…;Password=…;</c>) around the credential key
    /// <c>[keyStart, keyEnd)</c>. The span runs from the first key to the last character.
    /// </summary>
    internal static bool TryConnectionString(string text, int keyStart, int keyEnd, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan();
        var key = s[keyStart..keyEnd];
        if (!(key.Equals("password", StringComparison.OrdinalIgnoreCase) || key.Equals("pwd", StringComparison.OrdinalIgnoreCase)
              || key.Equals("accountkey", StringComparison.OrdinalIgnoreCase)
              || key.Equals("sharedaccesskey", StringComparison.OrdinalIgnoreCase)
              || key.Equals("sharedaccesssignature", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        var eq = SkipBlanks(s, keyEnd);
        if (eq >= s.Length || s[eq] != '=') return false;

        // The credential value must be real.
        var credEnd = ReadPairValue(s, eq + 1, out var credValStart, out var credValLen, out var endedBySemicolon);
        if (credValLen == 0) return false;
        var credVal = s.Slice(credValStart, credValLen);
        if (IsPlaceholderOrReference(credVal, checkSequences: false)) return false;

        // Forward: following pairs.
        var end = credEnd;
        var pairs = 1;
        while (endedBySemicolon)
        {
            var k = SkipBlanks(s, end);
            if (!TryPairKey(s, k, out var nextEq)) break;
            end = ReadPairValue(s, nextEq + 1, out _, out _, out endedBySemicolon);
            pairs++;
            if (pairs > 64) break;
        }

        // Backward: preceding pairs.
        var start = keyStart;
        var guard = 0;
        while (guard++ < 64)
        {
            var p = start - 1;
            while (p >= 0 && s[p] is ' ' or '\t') p--;
            if (p < 0 || s[p] != ';') break;
            var segEnd = p;
            var segStart = p - 1;
            while (segStart >= 0 && s[segStart] is not ';' and not '\n' and not '\r' and not '"' and not '\'' and not '`'
                   && p - segStart < 512)
            {
                segStart--;
            }

            var fromSemicolon = segStart >= 0 && s[segStart] == ';';
            segStart++;
            var seg = s[segStart..segEnd];
            var segEq = seg.IndexOf('=');
            if (segEq <= 0) break;
            var segKey = seg[..segEq].TrimEnd();
            if (fromSemicolon)
            {
                var trimmed = seg[..segEq].TrimStart();
                if (!IsPairKey(trimmed.TrimEnd())) break;
                start = segStart + (seg.Length - seg.TrimStart().Length);
                pairs++;
                continue;
            }

            // "URL=postgresql://… # prod Server=…": several '=' in prose; the first pair is the word before the last one.
            var lastEq = seg.LastIndexOf('=');
            if (lastEq > segEq)
            {
                var before = seg[..lastEq].TrimEnd();
                var begin = LastKeyBegin(before);
                if (begin > 0 && IsPairKey(before[begin..]))
                {
                    start = segStart + begin;
                    pairs++;
                    break;
                }
            }

            // "ConnectionStrings__Default=Server=…": the real first key is inside the value.
            var inner = seg[(segEq + 1)..];
            var innerEq = inner.IndexOf('=');
            if (innerEq > 0 && IsPairKey(inner[..innerEq].Trim()) && LooksLikeConfigKey(segKey))
            {
                start = segStart + segEq + 1 + (inner.Length - inner.TrimStart().Length);
                pairs++;
                break;
            }

            // The first pair may follow prose ("connects with Server=…"): keep the last word(s) of the key.
            var keyBegin = LastKeyBegin(segKey);
            var firstKey = segKey[keyBegin..];
            if (!IsPairKey(firstKey)) break;
            start = segStart + keyBegin;
            pairs++;
            break;
        }

        if (pairs < 2) return false;
        candidate = new SecretCandidate(start, end - start, "connection_string", ConnectionStringPriority, 0.95);
        return true;
    }

    /// <summary>
    /// Start of the key that ends <paramref name="keyRegion"/>: its last word, extended over two-word key prefixes
    /// (<c>Data Source</c>, <c>User Id</c>, <c>Initial Catalog</c>). 0 when the region is one word.
    /// </summary>
    private static int LastKeyBegin(ReadOnlySpan<char> keyRegion)
    {
        var lastWord = keyRegion.LastIndexOf(' ');
        var keyBegin = lastWord + 1;
        while (lastWord > 0)
        {
            var prevEnd = lastWord;
            var prevStart = keyRegion[..prevEnd].LastIndexOfAny(' ', '=') + 1;
            if (!IsTwoWordPrefix(keyRegion[prevStart..prevEnd])) break;
            keyBegin = prevStart;
            lastWord = prevStart - 1;
        }

        return keyBegin;
    }

    private static bool LooksLikeConfigKey(ReadOnlySpan<char> k) =>
        k.Contains("__", StringComparison.Ordinal) || k.IndexOfAny(':', '.') >= 0
        || k.Contains("connection", StringComparison.OrdinalIgnoreCase) || IsEnvName(k);

    private static bool IsTwoWordPrefix(ReadOnlySpan<char> w)
    {
        foreach (var p in TwoWordKeyPrefixes)
        {
            if (w.Equals(p, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    private static bool IsPairKey(ReadOnlySpan<char> k)
    {
        if (k.IsEmpty || k.Length > 48 || !char.IsAsciiLetter(k[0])) return false;
        var spaces = 0;
        foreach (var c in k)
        {
            if (c == ' ')
            {
                if (++spaces > 3) return false;
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryPairKey(ReadOnlySpan<char> s, int i, out int eq)
    {
        eq = -1;
        if (i >= s.Length || !char.IsAsciiLetter(s[i])) return false;
        var j = i;
        var limit = Math.Min(s.Length, i + 48);
        while (j < limit && (char.IsAsciiLetterOrDigit(s[j]) || s[j] is ' ' or '_' or '.' or '-')) j++;
        if (j >= s.Length || s[j] != '=') return false;
        if (!IsPairKey(s[i..j].TrimEnd())) return false;
        eq = j;
        return true;
    }

    /// <summary>Reads a pair value; returns the exclusive end of the pair (after its ';' when there is one).</summary>
    private static int ReadPairValue(ReadOnlySpan<char> s, int i, out int vStart, out int vLen, out bool endedBySemicolon)
    {
        endedBySemicolon = false;
        i = SkipBlanks(s, i);
        vStart = i;
        vLen = 0;
        if (i >= s.Length) return i;
        int j;
        if (s[i] is '{' or '"' or '\'')
        {
            var close = s[i] == '{' ? '}' : s[i];
            var c = s[(i + 1)..].IndexOf(close);
            if (c < 0 || c > MaxValue) return i;
            vStart = i + 1;
            vLen = c;
            j = i + c + 2;
        }
        else
        {
            j = i;
            var limit = Math.Min(s.Length, i + MaxValue);
            while (j < limit && s[j] is not ';' and not '\n' and not '\r' and not '"' and not '\'' and not '`' and not '<') j++;
            var v = s[i..j];
            if (j >= s.Length || s[j] != ';')
            {
                // The last pair ends at whitespace when prose follows it.
                var ws = v.IndexOfAny(' ', '\t');
                if (ws >= 0) v = v[..ws];
                while (!v.IsEmpty && v[^1] is '.' or ',' or ')') v = v[..^1];
                vLen = v.Length;
                return i + vLen;
            }

            vLen = v.TrimEnd().Length;
        }

        if (j < s.Length && s[j] == ';')
        {
            endedBySemicolon = true;
            return j + 1;
        }

        return j;
    }
}
