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
        PrivateKey,
        Putty,
        Jwt,
        Uri,
        CliPassword,
    }

    [Flags]
    private enum RegexRule
    {
        None = 0,
        Discord = 1,
        Telegram = 2,
        AzureAd = 4,
        Mailchimp = 8,
        Terraform = 16,
        LoginCall = 32,
    }

    private sealed record Action(TokenSpec? Spec, Structure Structure, RegexRule Regex, KeywordKind Keyword);

    private static readonly Action[] OrdinalActions;
    private static readonly AnchorSet OrdinalAnchors;
    private static readonly Action[] KeywordActions;
    private static readonly string[] KeywordTexts;
    private static readonly AnchorSet KeywordAnchors;

    static SecretDetector()
    {
        var ordinal = new List<(string, Action)>();
        foreach (var spec in SecretTokenSpecs.All) ordinal.Add((spec.Prefix, new Action(spec, Structure.None, RegexRule.None, KeywordKind.None)));
        ordinal.Add(("-----BEGIN ", new Action(null, Structure.PrivateKey, RegexRule.None, KeywordKind.None)));
        ordinal.Add(("PuTTY-User-Key-File-", new Action(null, Structure.Putty, RegexRule.None, KeywordKind.None)));
        ordinal.Add(("eyJ", new Action(null, Structure.Jwt, RegexRule.None, KeywordKind.None)));
        ordinal.Add(("://", new Action(null, Structure.Uri, RegexRule.None, KeywordKind.None)));
        ordinal.Add(("-p", new Action(null, Structure.CliPassword, RegexRule.None, KeywordKind.None)));
        ordinal.Add((":AA", new Action(null, Structure.None, RegexRule.Telegram, KeywordKind.None)));

        // A Discord bot token starts with its numeric bot id in base64: "MT", "Mj", …, "OT".
        foreach (var p in (string[])["MT", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT"])
        {
            ordinal.Add((p, new Action(null, Structure.None, RegexRule.Discord, KeywordKind.None)));
        }

        ordinal.Add(("Q~", new Action(null, Structure.None, RegexRule.AzureAd, KeywordKind.None)));
        ordinal.Add(("-us", new Action(null, Structure.None, RegexRule.Mailchimp, KeywordKind.None)));
        ordinal.Add((".atlasv1.", new Action(null, Structure.None, RegexRule.Terraform, KeywordKind.None)));
        OrdinalActions = ordinal.Select(o => o.Item2).ToArray();
        OrdinalAnchors = new AnchorSet(ordinal.Select((o, i) => new AnchorSet.Entry(o.Item1, i)), ignoreCase: false);

        var keywords = new List<(string, Action)>();
        string[] passwordAnchors =
        [
            "password", "passwd", "passwort", "kennwort", "wachtwoord", "paswoord", "passphrase", "passord", "pass", "pwd",
            "pw", "contraseña", "contrasena", "senha", "mot de passe", "mot_de_passe", "mdp", "identified by", "lösenord",
            "losenord", "salasana", "hasło", "haslo", "heslo", "jelszó", "jelszo",
        ];
        foreach (var a in passwordAnchors) keywords.Add((a, new Action(null, Structure.None, RegexRule.None, KeywordKind.Password)));
        keywords.Add(("secret", new Action(null, Structure.None, RegexRule.None, KeywordKind.Secret)));
        keywords.Add(("token", new Action(null, Structure.None, RegexRule.Discord, KeywordKind.Token)));
        keywords.Add(("bot", new Action(null, Structure.None, RegexRule.Discord, KeywordKind.None)));
        keywords.Add(("key", new Action(null, Structure.None, RegexRule.None, KeywordKind.Token)));
        keywords.Add(("bearer", new Action(null, Structure.None, RegexRule.None, KeywordKind.Token)));
        keywords.Add(("auth", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.Token)));
        keywords.Add(("credential", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.Token)));
        keywords.Add(("login", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.None)));
        keywords.Add(("logon", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.None)));
        keywords.Add(("signin", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.None)));
        keywords.Add(("sign_in", new Action(null, Structure.None, RegexRule.LoginCall, KeywordKind.None)));
        keywords.Add(("discord", new Action(null, Structure.None, RegexRule.Discord, KeywordKind.None)));
        KeywordActions = keywords.Select(k => k.Item2).ToArray();
        KeywordTexts = keywords.Select(k => k.Item1).ToArray();
        KeywordAnchors = new AnchorSet(keywords.Select((k, i) => new AnchorSet.Entry(k.Item1, i)), ignoreCase: true);
    }

    /// <inheritdoc />
    public string Step => StepName;

    /// <summary>Number of distinct vendor token formats recognised by prefix (for documentation and tests).</summary>
    public static int VendorFormatCount => SecretTokenSpecs.All.Select(s => s.Kind).Distinct(StringComparer.Ordinal).Count() + 5;

    /// <inheritdoc />
    public void Detect(string text, List<Finding> results)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(results);
        if (text.Length < 8) return;

        List<SecretCandidate>? candidates = null;
        var regexRules = RegexRule.None;
        var contextState = 0;
        Span<int> matches = stackalloc int[8];

        // Pass 1: case-sensitive prefixes and structural anchors.
        var span = text.AsSpan();
        for (var p = OrdinalAnchors.Next(span, 0); p >= 0;)
        {
            var next = p + 1;
            var n = OrdinalAnchors.MatchesAt(span, p, matches);
            for (var m = 0; m < n; m++)
            {
                var action = OrdinalActions[matches[m]];
                regexRules |= action.Regex;
                var end = -1;
                if (action.Spec is { } spec)
                {
                    end = SecretTokenSpecs.Match(text, p, spec, ref contextState);
                    if (end > 0)
                    {
                        (candidates ??= []).Add(new SecretCandidate(p, end - p, KindOf(spec, span[p..end]), SecretStructures.VendorPriority, 0.99));
                        if (spec.Kind == "aws_access_key") FindAwsSecretNear(text, end, ref candidates);
                    }
                }
                else if (action.Structure != Structure.None && TryStructure(action.Structure, text, p, out var c))
                {
                    (candidates ??= []).Add(c);

                    // A URI or private key is consumed whole; a JWT or CLI value may sit inside something longer.
                    if (action.Structure is Structure.PrivateKey or Structure.Putty or Structure.Jwt) end = c.End;
                }

                if (end > next) next = end;
                if (end > 0) break;
            }

            p = OrdinalAnchors.Next(span, next);
        }

        // Pass 2: case-insensitive keywords (password, token, key, …).
        for (var p = KeywordAnchors.Next(span, 0); p >= 0;)
        {
            var next = p + 1;
            var n = KeywordAnchors.MatchesAt(span, p, matches);
            var processed = false;
            for (var m = 0; m < n; m++)
            {
                var action = KeywordActions[matches[m]];
                regexRules |= action.Regex;
                if (action.Keyword != KeywordKind.None && !processed)
                {
                    processed = true;
                    var end = SecretKeyedValues.Process(text, p, KeywordTexts[matches[m]].Length, ref candidates);
                    if (end > next) next = end;
                }
            }

            p = KeywordAnchors.Next(span, next);
        }

        if (regexRules != RegexRule.None) RunRegexRules(text, regexRules, ref candidates);
        if (candidates is null) return;
        Resolve(candidates, results);
    }

    private static string KindOf(TokenSpec spec, ReadOnlySpan<char> token) =>
        spec.Kind switch
        {
            "sk_api_key" when token.Contains("T3BlbkFJ", StringComparison.Ordinal) => "openai_api_key",
            "meta_or_square_access_token" => token.StartsWith("EAAA") ? "square_access_token" : "meta_access_token",
            _ => spec.Kind,
        };

    private static bool TryStructure(Structure structure, string text, int p, out SecretCandidate candidate) =>
        structure switch
        {
            Structure.PrivateKey => SecretStructures.TryPrivateKey(text, p, out candidate),
            Structure.Putty => SecretStructures.TryPuttyKey(text, p, out candidate),
            Structure.Jwt => SecretStructures.TryJwt(text, p, out candidate),
            Structure.Uri => SecretStructures.TryCredentialUri(text, p, out candidate),
            Structure.CliPassword => SecretStructures.TryCliPassword(text, p, out candidate),
            _ => throw new ArgumentOutOfRangeException(nameof(structure)),
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

    private static void RunRegexRules(string text, RegexRule rules, ref List<SecretCandidate>? candidates)
    {
        if ((rules & RegexRule.Discord) != 0)
        {
            foreach (var m in DiscordBotToken().EnumerateMatches(text))
            {
                var token = text.AsSpan(m.Index, m.Length);
                if (DiscordIdSegmentOk(token[..token.IndexOf('.')]))
                {
                    (candidates ??= []).Add(new SecretCandidate(m.Index, m.Length, "discord_bot_token", SecretStructures.VendorPriority, 0.95));
                }
            }
        }

        if ((rules & RegexRule.Telegram) != 0) AddAll(TelegramBotToken(), text, "telegram_bot_token", ref candidates);
        if ((rules & RegexRule.AzureAd) != 0) AddAll(AzureAdClientSecret(), text, "azure_ad_client_secret", ref candidates);
        if ((rules & RegexRule.Mailchimp) != 0) AddAll(MailchimpApiKey(), text, "mailchimp_api_key", ref candidates);
        if ((rules & RegexRule.Terraform) != 0) AddAll(TerraformToken(), text, "terraform_cloud_token", ref candidates);
        if ((rules & RegexRule.LoginCall) != 0)
        {
            foreach (Match m in LoginCall().Matches(text))
            {
                var g = m.Groups["v"];
                if (!g.Success) continue;
                var v = text.AsSpan(g.Index, g.Length);
                if (v.Length < 3 || IsPlaceholderOrReference(v, checkSequences: false)) continue;
                (candidates ??= []).Add(new SecretCandidate(g.Index, g.Length, "password", SecretKeyedValues.PasswordPriority, 0.8));
            }
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

    [GeneratedRegex(@"(?<![A-Za-z0-9_\-.])[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-.])", Options, RegexTimeoutMs)]
    private static partial Regex DiscordBotToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:])[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])", Options, RegexTimeoutMs)]
    private static partial Regex TelegramBotToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])", Options, RegexTimeoutMs)]
    private static partial Regex AzureAdClientSecret();

    [GeneratedRegex(@"(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])", Options, RegexTimeoutMs)]
    private static partial Regex MailchimpApiKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}(?![A-Za-z0-9_\-=])", Options, RegexTimeoutMs)]
    private static partial Regex TerraformToken();

    [GeneratedRegex(
        @"(?<![A-Za-z0-9_])(?:(?i:login|log_in|logon|signin|sign_in|authenticate|basic_?auth|httpbasicauth|networkcredential|usernamepasswordcredential|passwordauthentication|usernamepasswordauthenticationtoken|credentials?)\s*\(\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*[=:]\s*)?(?:""[^""\r\n]{0,128}""|'[^'\r\n]{0,128}')|(?i:auth)\s*=\s*[\(\[]\s*(?:""[^""\r\n]{0,128}""|'[^'\r\n]{0,128}'))\s*,\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*[=:]\s*)?(?:""(?<v>[^""\r\n]{1,128})""|'(?<v>[^'\r\n]{1,128})')",
        Options, RegexTimeoutMs)]
    private static partial Regex LoginCall();
}
