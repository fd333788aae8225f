using System.Text.RegularExpressions;
using static TapPass.Governance.Detection.SecretHeuristics;

namespace TapPass.Governance.Detection;

/// <summary>
/// Finds credentials (type <c>SECRET</c>, step <c>detect_secrets</c>): more than seventy vendor token formats,
/// JWTs, PEM and PuTTY private keys, connection strings with credentials, passwords in assignments, CLI flags,
/// SQL and prose (English, Dutch, French, German, Spanish and more), and keyword-gated high-entropy values.
/// Placeholders, references, documentation examples, publishable keys, public keys, hashes and UUIDs are not
/// reported.
/// </summary>
/// <remarks>
/// A clean text costs two vectorised passes (<see cref="System.Buffers.SearchValues{T}"/>): one for
/// case-sensitive vendor prefixes and structural anchors, one for case-insensitive keywords. Rules run only at or
/// because of the anchors they need; the few regular expressions are source-generated with a match timeout.
/// Thread-safe and stateless; a clean text allocates nothing.
/// </remarks>
internal sealed partial class SecretDetector : IEntityDetector
{
    /// <summary>The pipeline step name.</summary>
    public const string StepName = "detect_secrets";

    private const int RegexTimeoutMs = 250;
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    private enum Structure
    {
        None,
        Token,
        PrivateKey,
        Putty,
        Jwt,
        Uri,
    }

    [Flags]
    private enum KeywordFlags
    {
        None = 0,
        LoginCall = 1,
        MysqlLine = 2,
        Twilio = 4,
    }

    private sealed record Anchor(TokenSpec? Spec, Structure Structure);

    private sealed record Keyword(string Text, KeywordKind Kind, KeywordFlags Flags);

    /// <summary>Prefixes without a separator (AKIA, AIza, …) and structural anchors: 16 values, one fast pass.</summary>
    private static readonly Anchor[] StructuralActions;
    private static readonly AnchorSet StructuralAnchors;

    /// <summary>Characters after which a prefixed token's head ends (ghp_, sk-, hvs., access_token$) or a shape shows.</summary>
    private static readonly System.Buffers.SearchValues<char> Separators = System.Buffers.SearchValues.Create("_-.$~:");

    /// <summary>Vendor specs by their head: the prefix up to and including its first separator.</summary>
    private static readonly Dictionary<string, TokenSpec[]>.AlternateLookup<ReadOnlySpan<char>> SpecsByHead;

    private static readonly Keyword[] LongKeywordTable;
    private static readonly AnchorSet LongKeywords;
    private static readonly Keyword[] ShortKeywordTable;
    private static readonly AnchorSet ShortKeywords;

    static SecretDetector()
    {
        var structural = new List<(string, Anchor)>();
        var heads = new Dictionary<string, List<TokenSpec>>(StringComparer.Ordinal);
        foreach (var spec in SecretTokenSpecs.All)
        {
            var sep = spec.Prefix.AsSpan().IndexOfAny(Separators);
            if (spec.Prefix.StartsWith("https://", StringComparison.Ordinal))
            {
                continue; // webhook URLs are checked at "://"
            }

            if (sep < 0)
            {
                structural.Add((spec.Prefix, new Anchor(spec, Structure.Token)));
            }
            else
            {
                var head = spec.Prefix[..(sep + 1)];
                if (!heads.TryGetValue(head, out var list)) heads[head] = list = [];
                list.Add(spec);
            }
        }

        structural.Add(("-----BEGIN ", new Anchor(null, Structure.PrivateKey)));
        structural.Add(("PuTTY-User-Key-File-", new Anchor(null, Structure.Putty)));
        structural.Add(("eyJ", new Anchor(null, Structure.Jwt)));
        structural.Add(("://", new Anchor(null, Structure.Uri)));
        StructuralActions = structural.Select(a => a.Item2).ToArray();
        StructuralAnchors = new AnchorSet(structural.Select((a, i) => new AnchorSet.Entry(a.Item1, i)), ignoreCase: false);
        SpecsByHead = heads.ToDictionary(h => h.Key, h => h.Value.OrderByDescending(v => v.Prefix.Length).ToArray(), StringComparer.Ordinal)
            .GetAlternateLookup<ReadOnlySpan<char>>();

        // Keyword anchors are matched anywhere inside identifiers (DB_PASSWORD, apiKey, Root-Passwort); the
        // identifier around the hit is classified afterwards. Non-ASCII spellings are reached through an ASCII part
        // ("contrase" in contraseña, "senord" in lösenord).
        LongKeywordTable =
        [
            new("pass", KeywordKind.Password, KeywordFlags.None), new("kennw", KeywordKind.Password, KeywordFlags.None),
            new("woord", KeywordKind.Password, KeywordFlags.None), new("contrase", KeywordKind.Password, KeywordFlags.None),
            new("senha", KeywordKind.Password, KeywordFlags.None), new("identified by", KeywordKind.Password, KeywordFlags.None),
            new("senord", KeywordKind.Password, KeywordFlags.None), new("salasana", KeywordKind.Password, KeywordFlags.None),
            new("haslo", KeywordKind.Password, KeywordFlags.None), new("heslo", KeywordKind.Password, KeywordFlags.None),
            new("jelsz", KeywordKind.Password, KeywordFlags.None), new("secret", KeywordKind.Secret, KeywordFlags.None),
            new("token", KeywordKind.Token, KeywordFlags.None), new("key", KeywordKind.Token, KeywordFlags.None),
            new("bearer", KeywordKind.Token, KeywordFlags.None), new("auth", KeywordKind.Token, KeywordFlags.LoginCall),
            new("credential", KeywordKind.Token, KeywordFlags.LoginCall), new("login", KeywordKind.None, KeywordFlags.LoginCall),
            new("logon", KeywordKind.None, KeywordFlags.LoginCall), new("signin", KeywordKind.None, KeywordFlags.LoginCall),
            new("sign_in", KeywordKind.None, KeywordFlags.LoginCall), new("mysql", KeywordKind.None, KeywordFlags.MysqlLine),
            new("mariadb", KeywordKind.None, KeywordFlags.MysqlLine), new("sshpass", KeywordKind.Password, KeywordFlags.MysqlLine),
            new("twilio", KeywordKind.None, KeywordFlags.Twilio),
        ];
        LongKeywords = new AnchorSet(LongKeywordTable.Select((k, i) => new AnchorSet.Entry(k.Text, i)), ignoreCase: true);
        ShortKeywordTable = [new("pw", KeywordKind.Password, KeywordFlags.None), new("mdp", KeywordKind.Password, KeywordFlags.None)];
        ShortKeywords = new AnchorSet(ShortKeywordTable.Select((k, i) => new AnchorSet.Entry(k.Text, i)), ignoreCase: true);
    }

    /// <inheritdoc />
    public string Step => StepName;

    /// <summary>Number of distinct vendor token formats recognised (for documentation and tests).</summary>
    public static int VendorFormatCount => SecretTokenSpecs.All.Select(s => s.Kind).Distinct(StringComparer.Ordinal).Count() + 7;

    /// <inheritdoc />
    public void Detect(string text, List<Finding> results)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(results);
        if (text.Length < 8) return;

        List<SecretCandidate>? candidates = null;
        var contextState = 0;
        var twilio = false;
        Span<int> ids = stackalloc int[8];
        var span = text.AsSpan();

        // Pass 1: prefixes without a separator (AKIA…, AIza…) and structures (PEM, PuTTY, JWT, URIs).
        for (var p = StructuralAnchors.Next(span, 0); p >= 0;)
        {
            var next = p + 1;
            var n = StructuralAnchors.MatchesAt(span, p, ids);
            for (var m = 0; m < n; m++)
            {
                var end = OnStructuralAnchor(text, p, StructuralActions[ids[m]], ref candidates, ref contextState);
                if (end > next) next = end;
                if (end > 0) break;
            }

            p = StructuralAnchors.Next(span, next);
        }

        // Pass 2: separators — prefixed tokens (ghp_, sk-proj-, xoxb-, hvs., …) and shaped tokens.
        for (var i = 0; i < span.Length;)
        {
            var k = span[i..].IndexOfAny(Separators);
            if (k < 0) break;
            var s = i + k;
            var end = OnSeparator(text, s, ref candidates, ref contextState);
            i = Math.Max(s + 1, end);
        }

        // Pass 3: keywords (password, token, key, …) — assignments, prose, connection strings, login calls.
        var lastLoginStart = -1;
        for (var p = LongKeywords.Next(span, 0); p >= 0;)
        {
            var next = p + 1;
            var n = LongKeywords.MatchesAt(span, p, ids);
            var processed = false;
            for (var m = 0; m < n; m++)
            {
                var kw = LongKeywordTable[ids[m]];
                if ((kw.Flags & KeywordFlags.LoginCall) != 0) TryLoginCall(text, p, ref lastLoginStart, ref candidates);
                if ((kw.Flags & KeywordFlags.MysqlLine) != 0) FindCliPasswords(text, p, ref candidates);
                if ((kw.Flags & KeywordFlags.Twilio) != 0) twilio = true;
                if (kw.Kind != KeywordKind.None && !processed)
                {
                    processed = true;
                    var end = SecretKeyedValues.Process(text, p, kw.Text.Length, ref candidates);
                    if (end > next) next = end;
                }
            }

            p = LongKeywords.Next(span, next);
        }

        for (var p = ShortKeywords.Next(span, 0); p >= 0;)
        {
            var n = ShortKeywords.MatchesAt(span, p, ids);
            var next = p + 1;
            if (n > 0)
            {
                var end = SecretKeyedValues.Process(text, p, ShortKeywordTable[ids[0]].Text.Length, ref candidates);
                if (end > next) next = end;
            }

            p = ShortKeywords.Next(span, next);
        }

        if (twilio) AddAll(TwilioKey(), text, "twilio_key", ref candidates);
        if (candidates is null) return;
        Resolve(candidates, results);
    }

    private static int OnStructuralAnchor(string text, int p, Anchor anchor, ref List<SecretCandidate>? candidates, ref int contextState)
    {
        switch (anchor.Structure)
        {
            case Structure.Token:
            {
                var spec = anchor.Spec!;
                var end = SecretTokenSpecs.Match(text, p, spec, ref contextState);
                if (end <= 0) return -1;
                (candidates ??= []).Add(new SecretCandidate(p, end - p, KindOf(spec, text.AsSpan(p, end - p)), SecretStructures.VendorPriority, 0.99));
                if (spec.Kind == "aws_access_key") FindAwsSecretNear(text, end, ref candidates);
                return end;
            }

            case Structure.Uri:
            {
                // Webhook URLs (Slack, Discord) are vendor tokens; other URIs may carry user:password@.
                if (p >= 5 && text.AsSpan(p - 5, 5).SequenceEqual("https"))
                {
                    foreach (var spec in SecretTokenSpecs.WebhookSpecs)
                    {
                        if (!text.AsSpan(p - 5).StartsWith(spec.Prefix, StringComparison.Ordinal)) continue;
                        var end = SecretTokenSpecs.Match(text, p - 5, spec, ref contextState);
                        if (end <= 0) continue;
                        (candidates ??= []).Add(new SecretCandidate(p - 5, end - p + 5, spec.Kind, SecretStructures.VendorPriority, 0.99));
                        return end;
                    }
                }

                if (SecretStructures.TryCredentialUri(text, p, out var uri)) (candidates ??= []).Add(uri);
                return -1;
            }

            default:
            {
                var found = anchor.Structure switch
                {
                    Structure.PrivateKey => SecretStructures.TryPrivateKey(text, p, out var c) ? c : default,
                    Structure.Putty => SecretStructures.TryPuttyKey(text, p, out var c) ? c : default,
                    Structure.Jwt => SecretStructures.TryJwt(text, p, out var c) ? c : default,
                    _ => default,
                };
                if (found.Length == 0) return -1;
                (candidates ??= []).Add(found);
                return found.End;
            }
        }
    }

    /// <summary>Handles one separator at <paramref name="s"/>; returns where scanning continues.</summary>
    private static int OnSeparator(string text, int s, ref List<SecretCandidate>? candidates, ref int contextState)
    {
        var span = text.AsSpan();
        var t = s;
        while (t > 0 && s - t < 40 && char.IsAsciiLetterOrDigit(span[t - 1])) t--;

        // Prefixed vendor tokens: the head (prefix up to its first separator) starts a run.
        if (t < s && (t == 0 || !char.IsAsciiLetterOrDigit(span[t - 1])) && s - t <= 12
            && SpecsByHead.TryGetValue(span[t..(s + 1)], out var specs))
        {
            foreach (var spec in specs)
            {
                if (!span[t..].StartsWith(spec.Prefix, StringComparison.Ordinal)) continue;
                var end = SecretTokenSpecs.Match(text, t, spec, ref contextState);
                if (end <= 0) continue;
                (candidates ??= []).Add(new SecretCandidate(t, end - t, KindOf(spec, span[t..end]), SecretStructures.VendorPriority, 0.99));
                return end;
            }
        }

        // Tokens recognised by their shape around a separator.
        switch (span[s])
        {
            case '.' when s - t is >= 24 and <= 28 && span[t] is 'M' or 'N' or 'O':
                return TryShape(DiscordBotTokenAt(), text, t, "discord_bot_token", ref candidates, s + 1, DiscordIdSegmentOk);
            case '.' when s - t == 14 && span[s..].StartsWith(".atlasv1.", StringComparison.Ordinal):
                return TryShape(TerraformTokenAt(), text, t, "terraform_cloud_token", ref candidates, s + 1);
            case '~' when s >= 5 && span[s - 1] == 'Q' && char.IsAsciiDigit(span[s - 2]):
                return TryShape(AzureAdClientSecretAt(), text, s - 5, "azure_ad_client_secret", ref candidates, s + 1);
            case '-' when s - t == 32 && span[(s + 1)..].StartsWith("us", StringComparison.Ordinal):
                return TryShape(MailchimpApiKeyAt(), text, t, "mailchimp_api_key", ref candidates, s + 1);
            case ':' when s - t is >= 8 and <= 10 && span[(s + 1)..].StartsWith("AA", StringComparison.Ordinal):
                return TryShape(TelegramBotTokenAt(), text, t, "telegram_bot_token", ref candidates, s + 1);
            default:
                return s + 1;
        }
    }

    private static int TryShape(Regex regex, string text, int start, string kind, ref List<SecretCandidate>? candidates, int otherwise,
        Func<ReadOnlySpan<char>, bool>? validate = null)
    {
        if (start < 0) return otherwise;
        if (start > 0 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] is '_' or '-' or '.' or '~')) return otherwise;
        try
        {
            foreach (var m in regex.EnumerateMatches(text.AsSpan(), start))
            {
                if (m.Index != start) break;
                var v = text.AsSpan(m.Index, m.Length);
                if (IsLowVarietyBody(v) || IsPlaceholderOrReference(v)) break;
                if (validate is not null && !validate(v[..v.IndexOf('.')])) break;
                (candidates ??= []).Add(new SecretCandidate(m.Index, m.Length, kind, SecretStructures.VendorPriority, 0.95));
                return m.Index + m.Length;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // Bounded patterns; a timeout only means this shape is not reported.
        }

        return otherwise;
    }

    /// <summary><c>client.login("user", "…")</c>, <c>NetworkCredential("user", "…")</c>, <c>auth=("user", "…")</c>.</summary>
    private static void TryLoginCall(string text, int hit, ref int lastStart, ref List<SecretCandidate>? candidates)
    {
        var start = hit;
        while (start > 0 && hit - start < 40 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] == '_')) start--;
        if (start == lastStart) return;
        lastStart = start;
        try
        {
            var m = LoginCallAt().Match(text, start);
            if (!m.Success || m.Index != start) return;
            var g = m.Groups["v"];
            var v = text.AsSpan(g.Index, g.Length);
            if (v.Length < 3 || IsPlaceholderOrReference(v, checkSequences: false)) return;
            (candidates ??= []).Add(new SecretCandidate(g.Index, g.Length, "password", SecretKeyedValues.PasswordPriority, 0.8));
        }
        catch (RegexMatchTimeoutException)
        {
            // Bounded pattern; nothing reported on timeout.
        }
    }

    /// <summary><c>mysql … -p'…'</c> / <c>sshpass -p …</c> on the line of a mysql/mariadb/sshpass keyword.</summary>
    private static void FindCliPasswords(string text, int hit, ref List<SecretCandidate>? candidates)
    {
        var lineStart = text.AsSpan(0, hit).LastIndexOfAny('\n', '\r') + 1;
        var rel = text.AsSpan(hit).IndexOfAny('\n', '\r');
        var lineEnd = rel < 0 ? text.Length : hit + rel;
        for (var i = lineStart; i < lineEnd - 2; i++)
        {
            if (text[i] == '-' && text[i + 1] == 'p' && i > 0 && text[i - 1] is ' ' or '\t'
                && SecretStructures.TryCliPassword(text, i, out var c))
            {
                (candidates ??= []).Add(c);
            }
        }
    }

    private static string KindOf(TokenSpec spec, ReadOnlySpan<char> token) =>
        spec.Kind switch
        {
            "sk_api_key" when token.Contains("T3BlbkFJ", StringComparison.Ordinal) => "openai_api_key",
            "meta_or_square_access_token" => token.StartsWith("EAAA") ? "square_access_token" : "meta_access_token",
            _ => spec.Kind,
        };

    /// <summary>An AWS secret access key written near its key id (CSV exports, prose) without a key name.</summary>
    private static void FindAwsSecretNear(string text, int from, ref List<SecretCandidate>? candidates)
    {
        var s = text.AsSpan();
        var limit = Math.Min(s.Length, from + 200);
        var i = from;
        while (i < limit)
        {
            while (i < limit && !Base64Std.Contains(s[i])) i++;
            var start = i;
            while (i < s.Length && Base64Std.Contains(s[i])) i++;
            if (i - start != 40) continue;
            if (start > 0 && s[start - 1] == '=') continue;
            if (i < s.Length && s[i] == '=') continue;
            var v = s[start..i];
            if (!HasDigit(v) || !HasUpperAndLower(v) || Entropy(v) < 4.0) continue;
            if (v.Contains("EXAMPLE", StringComparison.OrdinalIgnoreCase) || IsLowVarietyBody(v)) continue;
            (candidates ??= []).Add(new SecretCandidate(start, 40, "aws_secret_key", SecretKeyedValues.AwsSecretPriority - 5, 0.9));
            return;
        }
    }

    private static void AddAll(Regex regex, string text, string kind, ref List<SecretCandidate>? candidates)
    {
        foreach (var m in regex.EnumerateMatches(text))
        {
            var v = text.AsSpan(m.Index, m.Length);
            if (IsLowVarietyBody(v) || IsPlaceholderOrReference(v)) continue;
            (candidates ??= []).Add(new SecretCandidate(m.Index, m.Length, kind, SecretStructures.VendorPriority, 0.95));
        }
    }

    /// <summary>The first part of a Discord bot token is the bot's numeric id in base64.</summary>
    private static bool DiscordIdSegmentOk(ReadOnlySpan<char> segment)
    {
        Span<char> buf = stackalloc char[segment.Length + 3];
        segment.CopyTo(buf);
        var n = segment.Length;
        for (var i = 0; i < n; i++)
        {
            if (buf[i] == '-') buf[i] = '+';
            else if (buf[i] == '_') buf[i] = '/';
        }

        while (n % 4 != 0) buf[n++] = '=';
        Span<byte> bytes = stackalloc byte[n];
        if (!Convert.TryFromBase64Chars(buf[..n], bytes, out var written) || written < 17) return false;
        foreach (var b in bytes[..written])
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
        }

        return true;
    }

    /// <summary>Keeps the best candidate of each overlapping group: higher priority, then longer.</summary>
    private static void Resolve(List<SecretCandidate> candidates, List<Finding> results)
    {
        candidates.Sort(static (a, b) =>
        {
            var c = b.Priority.CompareTo(a.Priority);
            if (c != 0) return c;
            c = b.Length.CompareTo(a.Length);
            return c != 0 ? c : a.Start.CompareTo(b.Start);
        });

        var accepted = new List<SecretCandidate>(candidates.Count);
        foreach (var c in candidates)
        {
            var overlaps = false;
            foreach (var a in accepted)
            {
                if (c.Start < a.End && a.Start < c.End)
                {
                    overlaps = true;
                    break;
                }
            }

            if (!overlaps) accepted.Add(c);
        }

        accepted.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        foreach (var a in accepted) results.Add(new Finding(EntityTypes.Secret, a.Start, a.Length, a.Score, a.Kind));
    }

    [GeneratedRegex(@"\G[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-.])", Options, RegexTimeoutMs)]
    private static partial Regex DiscordBotTokenAt();

    [GeneratedRegex(@"\G[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])", Options, RegexTimeoutMs)]
    private static partial Regex TelegramBotTokenAt();

    [GeneratedRegex(@"\G[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])", Options, RegexTimeoutMs)]
    private static partial Regex AzureAdClientSecretAt();

    [GeneratedRegex(@"\G[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])", Options, RegexTimeoutMs)]
    private static partial Regex MailchimpApiKeyAt();

    [GeneratedRegex(@"\G[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}(?![A-Za-z0-9_\-=])", Options, RegexTimeoutMs)]
    private static partial Regex TerraformTokenAt();

    [GeneratedRegex(@"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])", Options, RegexTimeoutMs)]
    private static partial Regex TwilioKey();

    [GeneratedRegex(
        @"\G(?:(?i:login|log_in|logon|signin|sign_in|authenticate|basic_?auth|httpbasicauth|networkcredential|usernamepasswordcredential|passwordauthentication|usernamepasswordauthenticationtoken|credentials?)\s*\(\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*[=:]\s*)?(?:""[^""\r\n]{0,128}""|'[^'\r\n]{0,128}')|(?i:auth)\s*=\s*[\(\[]\s*(?:""[^""\r\n]{0,128}""|'[^'\r\n]{0,128}'))\s*,\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*[=:]\s*)?(?:""(?<v>[^""\r\n]{1,128})""|'(?<v>[^'\r\n]{1,128})')",
        Options, RegexTimeoutMs)]
    private static partial Regex LoginCallAt();
}
