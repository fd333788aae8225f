using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace TapPass.Governance.Detection;

/// <summary>
/// Detects requests for sensitive data in bulk ("show me all credit cards", "export every customer's SSN",
/// "dump the users table with passwords") and exfiltration channels: paste sites, request collectors and
/// tunnels (webhook.site, requestbin, ngrok, interactsh-style hosts), markdown/HTML image beacons whose URL
/// carries data, "encode everything in base64 and send it" instructions and instructions to send data to an
/// external address. Ordinary questions ("how do credit cards work?", "show me the customer's order status")
/// are not reported. Reasons are human-readable and never contain matched values. Thread-safe.
/// </summary>
internal sealed partial class ExfiltrationDetector : IExfiltrationDetector
{
    /// <summary>Kind of a bulk request for sensitive data.</summary>
    public const string BulkRequest = "bulk_request";

    /// <summary>Kind of a paste-site channel.</summary>
    public const string PasteSite = "paste_site";

    /// <summary>Kind of a request-collector or tunnel channel.</summary>
    public const string Webhook = "webhook";

    /// <summary>Kind of an image beacon.</summary>
    public const string MarkdownBeacon = "markdown_beacon";

    /// <summary>Kind of an encode-and-send instruction.</summary>
    public const string EncodedDump = "encoded_dump";

    /// <summary>Kind of an instruction to send data to an external address.</summary>
    public const string ExternalSend = "external_send";

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;
    private const int TimeoutMs = 1000;
    private const int MaxLength = 256 * 1024;
    private const int ChunkLength = 16 * 1024;
    private const int ChunkOverlap = 512;

    private const string SensitiveNouns =
        @"credit[\s-]*cards?(?:\s+(?:numbers?|details|data|info(?:rmation)?))?|card\s+(?:numbers?|details)|cc\s+numbers?|payment\s+cards?|PANs?|cvvs?|"
        + @"social\s+security(?:\s+numbers?)?|SSNs?|national\s+(?:id|insurance)\s+numbers?|tax\s+(?:ids?|numbers?)|BSNs?|passport\s+numbers?|driver'?s?\s+licen[cs]e\s+numbers?|"
        + @"password\s+hashes|passwords?|passwd|credentials|log-?ins?|api\s+keys?|access\s+tokens?|tokens|secrets|private\s+keys?|"
        + @"e-?mail\s+addresses|e-?mails?|"
        + @"phone\s+numbers?|mobile\s+numbers?|telephone\s+numbers?|phone\s+nos?|"
        + @"IBANs?|bank\s+accounts?(?:\s+(?:numbers?|details))?|account\s+numbers?|bank\s+details|routing\s+numbers?|sort\s+codes?|"
        + @"salar(?:y|ies)|payroll|compensation|wages|pay\s*slips?|bonuses|"
        + @"dates?\s+of\s+birth|birth\s*dates?|birthdays|DOBs?|"
        + @"medical\s+records?|health\s+records?|diagnos[ie]s|patient\s+(?:records|data|files)|prescriptions|"
        + @"IP\s+addresses|(?:home|postal|mailing|street)\s+addresses|addresses|"
        + @"personal\s+(?:data|information|details|info)|PII|customer\s+data|user\s+data|contact\s+details";

    private static readonly (Regex Pattern, string Target, string Phrase)[] Targets =
    [
        (CreditCardNoun(), EntityTypes.CreditCard, "credit card numbers"),
        (SsnNoun(), EntityTypes.Ssn, "social security and national ID numbers"),
        (SecretNoun(), EntityTypes.Secret, "passwords and credentials"),
        (EmailNoun(), EntityTypes.Email, "e-mail addresses"),
        (PhoneNoun(), EntityTypes.Phone, "phone numbers"),
        (BankNoun(), EntityTypes.Iban, "bank account numbers"),
        (SalaryNoun(), "SALARY", "salaries"),
        (BirthNoun(), "DATE_OF_BIRTH", "dates of birth"),
        (HealthNoun(), "HEALTH", "medical records"),
        (IpNoun(), EntityTypes.IpAddress, "IP addresses"),
        (AddressNoun(), "ADDRESS", "home addresses"),
        (PersonalNoun(), "PERSONAL_DATA", "personal data"),
    ];

    private static readonly string[] PasteHosts =
    [
        "pastebin.com", "hastebin.com", "hastebin.skyra.pw", "ghostbin.", "paste.ee", "dpaste.", "privatebin.", "controlc.com",
        "rentry.co", "rentry.org", "justpaste.it", "termbin.com", "ix.io", "0x0.st", "transfer.sh", "file.io", "paste.rs",
        "pastes.io", "paste.mozilla.org", "pastebin.pl", "katb.in", "bpa.st", "sprunge.us", "paste.centos.org", "pastecode.io",
    ];

    private static readonly string[] CollectorHosts =
    [
        "webhook.site", "requestbin.", "pipedream.net", "ngrok.io", "ngrok-free.app", "ngrok.app", "ngrok.dev", "interact.sh",
        "oast.fun", "oast.pro", "oast.live", "oast.site", "oast.online", "oast.me", "burpcollaborator.net", "oastify.com",
        "canarytokens.", "hookbin.com", "beeceptor.com", "requestcatcher.com", "postb.in", "ptsv2.com", "ptsv3.com",
        "dnslog.cn", "ceye.io", "trycloudflare.com", "loca.lt", "serveo.net", "localtunnel.me", "requestinspector.com",
        "mockbin.org", "webhook.cool", "smee.io", "requestrepo.com", "ssrf.red",
    ];

    // Every host of both lists: one vectorised search decides whether the per-host searches are needed (non-ASCII text).
    internal static readonly SearchValues<string> AllHosts = SearchValues.Create([.. PasteHosts, .. CollectorHosts], StringComparison.OrdinalIgnoreCase);

    /// <summary>The label before the first dot of every host ("pastebin", "ngrok-free", "0x0"), by its last character.</summary>
    private static readonly string[][] HostLabelsByLastChar =
        [.. Enumerable.Range(0, 128).Select(c => PasteHosts.Concat(CollectorHosts).Select(h => h[..h.IndexOf('.')]).Distinct().Where(l => l[^1] == c).ToArray())];

    /// <summary>
    /// Whether <paramref name="text"/> may name one of the hosts: false only when it certainly holds none. In ASCII text
    /// a host's first dot is preceded by its first label, so the run of letters, digits and '-' before some dot ends
    /// with that label; prose has a dot after a word at most once a sentence, and few words end like a host label. Other
    /// text uses the multi-string search.
    /// </summary>
    internal static bool MayNameHost(ReadOnlySpan<char> text, bool ascii)
    {
        if (!ascii) return text.ContainsAny(AllHosts);
        for (var dot = text.IndexOf('.'); dot >= 0;)
        {
            var start = dot;
            while (start > 0 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] == '-')) start--;
            if (start < dot)
            {
                var run = text[start..dot];
                foreach (var label in HostLabelsByLastChar[run[^1] | 0x20])
                {
                    if (run.EndsWith(label, StringComparison.OrdinalIgnoreCase)) return true;
                }
            }

            var next = text[(dot + 1)..].IndexOf('.');
            dot = next < 0 ? -1 : dot + 1 + next;
        }

        return false;
    }

    /// <inheritdoc />
    public IReadOnlyList<ExfiltrationResult> Detect(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 8) return [];
        var n = Math.Min(text.Length, MaxLength); // only the first MaxLength characters are analysed

        // Long texts are analysed in overlapping windows so every regex call stays small and bounded. A window is
        // copied to a string only when a pattern that reports groups can match in it (see the gates below).
        var ascii = Ascii.IsValid(text);
        List<ExfiltrationResult>? results = null;
        for (var start = 0; start < n; start += ChunkLength - ChunkOverlap)
        {
            var length = Math.Min(ChunkLength, n - start);
            var window = text.AsSpan(start, length);
            try
            {
                var gates = Gates(window, ascii);
                string? chunk = null;
                if ((gates & (Gate.BulkVerb | Gate.DumpTable | Gate.SqlSelect | Gate.ExternalSend)) != 0)
                {
                    chunk = start == 0 && length == text.Length ? text : text.Substring(start, length);
                    BulkRequests(chunk, gates, ref results);
                }

                Channels(window, ascii, gates, (gates & Gate.ExternalSend) != 0 ? chunk : null, ref results);
            }
            catch (RegexMatchTimeoutException)
            {
                // Hostile or pathological input: report that the text could not be fully analysed.
                Add(ref results, new ExfiltrationResult("analysis_timeout", null, "Text could not be fully analysed for exfiltration"));
            }

            if (start + ChunkLength >= n) break;
        }

        return (IReadOnlyList<ExfiltrationResult>?)results ?? [];
    }

    /// <summary>The patterns that can match in a window (a flag is set unless the pattern certainly cannot match).</summary>
    [Flags]
    internal enum Gate
    {
        None = 0,
        BulkVerb = 1,
        DumpTable = 2,
        SqlSelect = 4,
        ExternalSend = 8,

        /// <summary>The image-beacon patterns (<see cref="InjectionPatterns.BeaconUrl"/>, <see cref="InjectionPatterns.MarkdownImageWithQuery"/>): the window holds "://".</summary>
        Url = 16,

        /// <summary><see cref="EncodeAndSend"/>: the window holds a word starting like an encoding word.</summary>
        Encode = 32,

        /// <summary>Internal to <see cref="Gates"/>: the word "to" followed by a space (ASCII text).</summary>
        To = 64,

        /// <summary>Internal to <see cref="Gates"/>: a send verb of <see cref="ExternalSendPattern"/> (ASCII text).</summary>
        SendVerb = 128,

        /// <summary>Internal to <see cref="Gates"/>: a quantifier of <see cref="BulkVerbQuantifierNoun"/> (ASCII text).</summary>
        BulkQuantifier = 256,

        /// <summary>Internal to <see cref="Gates"/>: a verb of <see cref="BulkVerbQuantifierNoun"/> (ASCII text).</summary>
        BulkVerbWord = 512,

        /// <summary>Internal to <see cref="Gates"/>: a verb of <see cref="DumpTable"/> (ASCII text).</summary>
        DumpVerbWord = 1024,
    }

    private const Gate WordGates = Gate.BulkVerb | Gate.DumpTable | Gate.SqlSelect | Gate.Encode;
    private const Gate InternalFlags = Gate.To | Gate.SendVerb | Gate.BulkQuantifier | Gate.BulkVerbWord | Gate.DumpVerbWord;
    private const Gate AllWordFlags = WordGates | InternalFlags;

    /// <summary>
    /// Literal prefilters: a pattern is run on a window only when the window holds a word that every match of that
    /// pattern contains (a sensitive noun with a verb and a quantifier, a table word with a verb, SELECT, an encoding
    /// word, an address with a send verb and "to", "://"). Ordinary prose has none of them, so it costs one pass over
    /// the window instead of a regex attempt at every word.
    /// <para>
    /// Every word a gate looks for starts at a word boundary in its pattern (after <c>\b</c> or <c>\s+</c>), so in
    /// ASCII text it starts a run of word characters (<c>[A-Za-z0-9_]</c>, the ASCII part of <c>\w</c>): one scalar
    /// pass checks the start of each run against the stems (<see cref="StemsByPrefix"/>). Case-insensitive regex
    /// matching also equates a few non-ASCII letters with ASCII ones (U+017F with 's', U+212A with 'k'), so the word
    /// gates are applied to ASCII text only; the address and URL gates are made of symbols and 'w', which have no such
    /// equivalents.
    /// </para>
    /// </summary>
    internal static Gate Gates(ReadOnlySpan<char> window, bool ascii)
    {
        var gates = Gate.None;
        if (window.Contains("://", StringComparison.Ordinal)) gates |= Gate.Url | Gate.ExternalSend;
        else if (window.Contains('@') || window.Contains("www.", StringComparison.OrdinalIgnoreCase)) gates |= Gate.ExternalSend;
        if (!ascii) return gates | WordGates;

        for (var i = 0; i < window.Length;)
        {
            if (!IsAsciiWordChar(window[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < window.Length && IsAsciiWordChar(window[i])) i++;
            if (i - start < 2 || !char.IsAsciiLetter(window[start]) || !char.IsAsciiLetter(window[start + 1])) continue;
            var word = window[start..i];
            foreach (var (stem, gate, exact) in StemsByPrefix[(((word[0] | 0x20) - 'a') * 26) + ((word[1] | 0x20) - 'a')])
            {
                if ((gates & gate) != 0) continue;
                if ((exact ? word.Length == stem.Length : word.Length >= stem.Length) && RestEquals(word, stem)
                    && (gate != Gate.To || (i < window.Length && IsAsciiSpace(window[i]))))
                {
                    gates |= gate;
                }
            }

            if ((gates & AllWordFlags) == AllWordFlags) break;
        }

        // ExternalSendPattern: a send verb (a whole word) and "to" followed by a space, besides the address.
        if ((gates & (Gate.To | Gate.SendVerb)) != (Gate.To | Gate.SendVerb)) gates &= ~Gate.ExternalSend;

        // BulkVerbQuantifierNoun: a verb (a whole word) and a quantifier, besides the noun; DumpTable: a verb.
        if ((gates & (Gate.BulkQuantifier | Gate.BulkVerbWord)) != (Gate.BulkQuantifier | Gate.BulkVerbWord)) gates &= ~Gate.BulkVerb;
        if ((gates & Gate.DumpVerbWord) == 0) gates &= ~Gate.DumpTable;
        return gates & ~InternalFlags;
    }

    /// <summary>
    /// Whether <paramref name="word"/> (ASCII word characters, at least as long as the stem) continues like the lowercase
    /// <paramref name="stem"/> after the two letters its bucket matched. For letters and digits, OR-ing 0x20 folds case.
    /// </summary>
    private static bool RestEquals(ReadOnlySpan<char> word, string stem)
    {
        for (var k = 2; k < stem.Length; k++)
        {
            if ((word[k] | 0x20) != stem[k]) return false;
        }

        return true;
    }

    private static bool IsAsciiWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    /// <summary><c>\s</c> in ASCII text.</summary>
    private static bool IsAsciiSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>
    /// Word stems by gate (a word starting with the stem; Exact: the whole word). BulkVerb: each alternative of <see cref="SensitiveNouns"/> holds one of these at the start of
    /// a word ("customer data" → "data", "dates of birth" → "birth", "e-mail" → "mail", "access tokens" → "token").
    /// DumpTable: the table word that ends its phrase ("database" → "data"). SqlSelect: SELECT. Encode: the encoding word
    /// of either alternative of <see cref="EncodeAndSend"/> ("url-encoded" → "url"). To and SendVerb: the two words
    /// every <see cref="ExternalSendPattern"/> match holds ("e-mail" → "mail"). BulkQuantifier and BulkVerbWord: the
    /// quantifier and the verb of every <see cref="BulkVerbQuantifierNoun"/> match ("read out" → "read", "what are" →
    /// "what"); DumpVerbWord: the verb of every <see cref="DumpTable"/> match ("give me" → "give").
    /// </summary>
    private static readonly (string Stem, Gate Gate, bool Exact)[] Stems =
    [
        .. new[]
        {
            "credit", "card", "cc", "pay", "pan", "cvv", "social", "ssn", "national", "tax", "bsn", "passport", "licen", "passw",
            "credential", "log", "api", "token", "secret", "private", "email", "mail", "phone", "mobile", "telephone", "iban",
            "bank", "account", "routing", "sort", "salar", "compensation", "wage", "bonus", "birth", "dob", "medical", "health",
            "diagnos", "patient", "prescription", "address", "personal", "pii", "data", "contact",
        }.Select(s => (s, Gate.BulkVerb, false)),
        .. new[] { "table", "data", "db", "list", "record", "dump", "collection" }.Select(s => (s, Gate.DumpTable, false)),
        ("select", Gate.SqlSelect, false),
        .. new[] { "encode", "convert", "base64", "hex", "rot13", "url", "serialize", "compress", "obfuscate" }.Select(s => (s, Gate.Encode, false)),
        ("to", Gate.To, true),
        .. new[]
        {
            "send", "forward", "email", "mail", "post", "upload", "transmit", "exfiltrate", "leak", "share", "deliver", "copy",
            "relay", "submit", "append", "attach", "cc", "bcc",
        }.Select(s => (s, Gate.SendVerb, true)),
        .. new[] { "all", "every", "each", "entire", "whole", "complete", "full", "bulk" }.Select(s => (s, Gate.BulkQuantifier, false)),
        .. new[]
        {
            "show", "list", "give", "get", "fetch", "export", "dump", "print", "display", "retrieve", "download", "extract", "output",
            "pull", "provide", "reveal", "send", "email", "mail", "share", "compile", "collect", "gather", "return", "read", "copy",
            "scrape", "harvest", "leak", "query", "find", "tell", "what",
        }.Select(s => (s, Gate.BulkVerbWord, true)),
        .. new[]
        {
            "dump", "export", "download", "extract", "copy", "print", "show", "give", "list", "send", "leak", "exfiltrate", "select",
        }.Select(s => (s, Gate.DumpVerbWord, true)),
    ];

    /// <summary>The stems by their first two letters (index (first - 'a') * 26 + (second - 'a')); every stem has two or more letters.</summary>
    private static readonly (string Stem, Gate Gate, bool Exact)[][] StemsByPrefix =
        [.. Enumerable.Range(0, 26 * 26).Select(k => Stems.Where(s => s.Stem[0] - 'a' == k / 26 && s.Stem[1] - 'a' == k % 26).ToArray())];

    private static void Add(ref List<ExfiltrationResult>? results, ExfiltrationResult r)
    {
        results ??= [];
        foreach (var existing in results)
        {
            if (existing.Kind == r.Kind && existing.Target == r.Target) return;
        }

        results.Add(r);
    }

    private static void BulkRequests(string text, Gate gates, ref List<ExfiltrationResult>? results)
    {
        if ((gates & Gate.BulkVerb) != 0) BulkVerbRequests(text, ref results);
        if ((gates & Gate.DumpTable) != 0) DumpTableRequests(text, ref results);
        if ((gates & Gate.SqlSelect) != 0) SqlRequests(text, ref results);
    }

    private static void BulkVerbRequests(string text, ref List<ExfiltrationResult>? results)
    {
        foreach (Match m in BulkVerbQuantifierNoun().Matches(text))
        {
            var mid = m.Groups["mid"].ValueSpan;
            if (SelfOwned().IsMatch(mid)) continue;
            AddTargets(text, m.Groups["noun"].Index, m.Groups["noun"].Index + m.Groups["noun"].Length + 100, ref results);
        }
    }

    private static void DumpTableRequests(string text, ref List<ExfiltrationResult>? results)
    {
        foreach (Match m in DumpTable().Matches(text))
        {
            var before = results?.Count ?? 0;
            var tail = m.Groups["tail"];
            if (tail.Success && tail.Length > 0) AddTargets(text, tail.Index, tail.Index + tail.Length, ref results);
            if ((results?.Count ?? 0) == before)
            {
                Add(ref results, new ExfiltrationResult(BulkRequest, "PERSONAL_DATA", "Bulk request for a whole table of personal data"));
            }
        }
    }

    private static void SqlRequests(string text, ref List<ExfiltrationResult>? results)
    {
        foreach (Match m in SqlSelect().Matches(text))
        {
            if (SqlHasSelectiveWhere().IsMatch(m.Groups["rest"].ValueSpan)) continue;
            var columns = m.Groups["cols"];
            var before = results?.Count ?? 0;
            if (columns.Value.Trim() != "*") AddTargets(text, columns.Index, columns.Index + columns.Length, ref results, sqlColumns: true);
            if ((results?.Count ?? 0) == before && PeopleTable().IsMatch(m.Groups["table"].ValueSpan))
            {
                Add(ref results, new ExfiltrationResult(BulkRequest, "PERSONAL_DATA", "Bulk query for a whole table of personal data"));
            }
        }
    }

    /// <summary>Reports every sensitive target named in <c>[start, end)</c> of the same clause.</summary>
    private static void AddTargets(string text, int start, int end, ref List<ExfiltrationResult>? results, bool sqlColumns = false)
    {
        end = Math.Min(end, text.Length);
        var window = text.AsSpan(start, end - start);
        var stop = window.IndexOfAny(".?!\n;");
        if (stop > 0 && !sqlColumns) window = window[..stop];
        var scope = window.ToString();
        if (sqlColumns) scope = scope.Replace('_', ' ');
        foreach (var (pattern, target, phrase) in Targets)
        {
            if (pattern.IsMatch(scope))
            {
                Add(ref results, new ExfiltrationResult(BulkRequest, target, "Bulk request for " + phrase));
            }
        }
    }

    /// <summary>Channels in <paramref name="text"/>; <paramref name="chunk"/> is the same window as a string when the address gate passed.</summary>
    private static void Channels(ReadOnlySpan<char> text, bool ascii, Gate gates, string? chunk, ref List<ExfiltrationResult>? results)
    {
        // Whether the window holds a send verb is only needed when a host is named (computed at most once).
        var sendVerb = 0;
        if (MayNameHost(text, ascii)) Hosts(text, ref sendVerb, ref results);

        if ((gates & Gate.Url) != 0) ImageBeacons(text, ref results);

        if ((gates & Gate.Encode) != 0 && EncodeAndSend().IsMatch(text))
        {
            Add(ref results, new ExfiltrationResult(EncodedDump, null, "Request to encode data and send it out"));
        }

        if (chunk is null) return;
        foreach (Match m in ExternalSendPattern().Matches(chunk))
        {
            if (ExfilDataWords().IsMatch(m.Groups["mid"].ValueSpan))
            {
                Add(ref results, new ExfiltrationResult(ExternalSend, null, "Instruction to send data to an external address"));
                break;
            }
        }
    }

    /// <summary>Image links whose URL carries data out (called when the window holds "://", which both patterns need).</summary>
    private static void ImageBeacons(ReadOnlySpan<char> text, ref List<ExfiltrationResult>? results)
    {
        foreach (var m in InjectionPatterns.MarkdownImageWithQuery().EnumerateMatches(text))
        {
            var img = text.Slice(m.Index, m.Length);
            var q = img.IndexOf('?');
            if (q >= 0 && (InjectionPatterns.BeaconTemplate().IsMatch(img[q..]) || LongQueryValue(img[q..])
                           || InjectionPatterns.FillBeaconWithData().IsMatch(text) || InjectionPatterns.AppendDataToUrl().IsMatch(text)))
            {
                Add(ref results, new ExfiltrationResult(MarkdownBeacon, null, "Image link whose URL carries data out"));
                break;
            }
        }

        if (results is null || !results.Exists(r => r.Kind == MarkdownBeacon))
        {
            foreach (var m in InjectionPatterns.BeaconUrl().EnumerateMatches(text))
            {
                var url = text.Slice(m.Index, Math.Min(text.Length - m.Index, 400));
                var end = url.IndexOfAny(" \n\t)\"'>");
                if (end > 0) url = url[..end];
                var q = url.IndexOf('?');
                if (q >= 0 && (InjectionPatterns.BeaconTemplate().IsMatch(url[q..]) || url[^1] == '=' || LongQueryValue(url[q..])))
                {
                    Add(ref results, new ExfiltrationResult(MarkdownBeacon, null, "Image link whose URL carries data out"));
                    break;
                }
            }
        }
    }

    /// <summary>Paste sites and request collectors named in <paramref name="text"/> (called when one of the hosts occurs).</summary>
    private static void Hosts(ReadOnlySpan<char> text, ref int sendVerb, ref List<ExfiltrationResult>? results)
    {
        foreach (var host in PasteHosts)
        {
            var at = text.IndexOf(host, StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && HostBoundary(text, at) && (HasSendVerb(text, ref sendVerb) || IsUrlAt(text, at)))
            {
                Add(ref results, new ExfiltrationResult(PasteSite, null, "Data sent to a paste site"));
                break;
            }
        }

        foreach (var host in CollectorHosts)
        {
            var at = text.IndexOf(host, StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && HostBoundary(text, at) && (HasSendVerb(text, ref sendVerb) || IsUrlAt(text, at)))
            {
                Add(ref results, new ExfiltrationResult(Webhook, null, "Data sent to a request-collector or tunnel endpoint"));
                break;
            }
        }
    }

    private static bool HasSendVerb(ReadOnlySpan<char> text, ref int known)
    {
        if (known == 0) known = SendVerb().IsMatch(text) ? 1 : -1;
        return known > 0;
    }

    private static bool HostBoundary(ReadOnlySpan<char> text, int at) => at == 0 || !char.IsAsciiLetterOrDigit(text[at - 1]) || text[at - 1] == '.';

    private static bool IsUrlAt(ReadOnlySpan<char> text, int at)
    {
        var before = text.Slice(Math.Max(0, at - 12), Math.Min(12, at));
        return before.Contains("://", StringComparison.Ordinal) || before.EndsWith("www.", StringComparison.OrdinalIgnoreCase)
               || before.EndsWith(".", StringComparison.Ordinal);
    }

    /// <summary>A query value of 32+ URL-safe characters: encoded data rather than a setting (inline images excepted).</summary>
    private static bool LongQueryValue(ReadOnlySpan<char> query)
    {
        if (query.Contains("data:image", StringComparison.OrdinalIgnoreCase) || query.Contains("data%3Aimage", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var run = 0;
        foreach (var c in query)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '%' or '+' or '/' or '-' or '_')
            {
                if (++run >= 32) return true;
            }
            else
            {
                run = 0;
            }
        }

        return false;
    }

    [GeneratedRegex(@"\b(?:show|list|give|get|fetch|export|dump|print|display|retrieve|download|extract|output|pull|provide|reveal|send|e-?mail|share|compile|collect|gather|return|read\s+out|copy|scrape|harvest|leak|query|find|tell|what\s+are)\b(?:\s+(?:me|us))?\s+(?:all(?:\s+(?:of\s+)?(?:the|our|your|their))?|every(?:one'?s|body'?s)?|each|(?:the\s+)?(?:entire|whole|complete|full)(?:\s+(?:list|set|table|database)\s+of)?|bulk|everyone'?s|everybody'?s)\b(?<mid>[^.\n?!;]{0,60}?)\b(?<noun>" + SensitiveNouns + @")\b", Options, TimeoutMs)]
    internal static partial Regex BulkVerbQuantifierNoun();

    [GeneratedRegex(@"^\s*(?:my|mine)\b|\bmy\s", Options, TimeoutMs)]
    private static partial Regex SelfOwned();

    [GeneratedRegex(@"\b(?:dump|export|download|extract|copy|print|show|give\s+me|list|send|leak|exfiltrate|select)\s+(?:the\s+|all\s+(?:the\s+)?|every\s+|entire\s+|whole\s+|complete\s+|full\s+)?(?:[\p{L}]+\s+)?(?:users?|customers?|clients?|employees?|accounts?|members?|patients?|subscribers?|contacts?|people|persons?|staff|personnel|students?|applicants?)\s+(?:table|database|db|list|records|data|dump|collection)\b(?<tail>[^.\n?!;]{0,80})", Options, TimeoutMs)]
    internal static partial Regex DumpTable();

    [GeneratedRegex(@"\bSELECT\s+(?<cols>\*|[A-Za-z0-9_.,\s]{1,300}?)\s+FROM\s+(?<table>[A-Za-z0-9_.\[\]""`]+)(?<rest>[^;]{0,300})", Options, TimeoutMs)]
    internal static partial Regex SqlSelect();

    [GeneratedRegex(@"\bWHERE\b(?!\s+1\s*=\s*1\b)|\bLIMIT\s+[0-9]{1,2}\b|\bTOP\s*\(?\s*[0-9]{1,2}\b", Options, TimeoutMs)]
    private static partial Regex SqlHasSelectiveWhere();

    [GeneratedRegex(@"(?:users?|customers?|clients?|employees?|accounts?|members?|patients?|subscribers?|contacts?|people|persons?|staff|personnel|students?|applicants?|cards?|payments?)", Options, TimeoutMs)]
    private static partial Regex PeopleTable();

    [GeneratedRegex(@"\b(?:send|post|upload|paste|put|write|save|share|publish|push|dump|exfiltrate|copy|forward|submit|store|log|leak|transmit|beam|curl|wget|fetch|request|call|hit|ping)\b", Options, TimeoutMs)]
    private static partial Regex SendVerb();

    [GeneratedRegex(@"\b(?:encode|convert|base64|hex|rot13|url-?encode|serialize|compress|obfuscate)\b[^.\n]{0,60}?\b(?:everything|all|the\s+(?:conversation|chat|history|data|secrets|keys|credentials|passwords|messages|context|prompt|system\s+prompt|database|records|files)|(?:it|them|this)\b)[^.\n]{0,60}?\b(?:and|then)\s+(?:send|post|upload|append|put|include|add|attach|embed|email|forward|transmit|paste|write)\b|\b(?:send|post|upload|email|forward|transmit|exfiltrate)\b[^.\n]{0,60}?\b(?:as|in|encoded\s+(?:as|in|with))\s+(?:base64|hex|rot13|url-?encoded)", Options, TimeoutMs)]
    internal static partial Regex EncodeAndSend();

    [GeneratedRegex(@"\b(?:send|forward|email|e-mail|mail|post|upload|transmit|exfiltrate|leak|share|deliver|copy|relay|submit|append|attach|cc|bcc)\b(?<mid>[^.\n!?]{0,100}?)\bto\s+(?:https?://|www\.|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})", Options, TimeoutMs)]
    internal static partial Regex ExternalSendPattern();

    [GeneratedRegex(@"\b(?:everything|all\s+(?:the\s+)?(?:data|messages|files|records|emails|history)|data|conversations?|chat|history|emails|messages|credentials|passwords?|secrets?|api\s+keys?|tokens|contacts|address\s+book|transcripts?|files|documents?|records|you\s+know|personal|private|confidential|cookies|session|user'?s\s+\w+|their\s+\w+|attach(?:ed|ments?)|contracts?|invoices|customer\s+\w+)\b", Options, TimeoutMs)]
    private static partial Regex ExfilDataWords();

    [GeneratedRegex(@"credit[\s-]*cards?|card\s+(?:numbers?|details)|cc\s+numbers?|payment\s+cards?|\bPANs?\b|\bcvvs?\b|card\s*number|card\s*num|cc\s*num", Options, TimeoutMs)]
    private static partial Regex CreditCardNoun();

    [GeneratedRegex(@"social\s+security|\bSSNs?\b|national\s+(?:id|insurance)|tax\s+(?:ids?|numbers?)|\bBSNs?\b|passport|licen[cs]e\s+numbers?", Options, TimeoutMs)]
    private static partial Regex SsnNoun();

    [GeneratedRegex(@"passw(?:or)?ds?|passwd|\bpwd\b|credentials|log-?ins?\b|api\s+keys?|access\s+tokens?|\btokens\b|\bsecrets\b|private\s+keys?", Options, TimeoutMs)]
    private static partial Regex SecretNoun();

    [GeneratedRegex(@"\be-?mails?\b|e-?mail\s+addresses", Options, TimeoutMs)]
    private static partial Regex EmailNoun();

    [GeneratedRegex(@"(?:phone|mobile|telephone)\s*(?:numbers?|nos?)|\bphones?\b", Options, TimeoutMs)]
    private static partial Regex PhoneNoun();

    [GeneratedRegex(@"\bIBANs?\b|bank\s+(?:accounts?|details)|account\s*(?:numbers?|nos?)|routing\s+numbers?|sort\s+codes?", Options, TimeoutMs)]
    private static partial Regex BankNoun();

    [GeneratedRegex(@"salar(?:y|ies)|payroll|compensation|wages|pay\s*slips?|bonuses", Options, TimeoutMs)]
    private static partial Regex SalaryNoun();

    [GeneratedRegex(@"dates?\s+of\s+birth|birth\s*dates?|birthdays|\bDOBs?\b", Options, TimeoutMs)]
    private static partial Regex BirthNoun();

    [GeneratedRegex(@"medical|health\s+records?|diagnos[ie]s|patient\s+(?:records|data|files)|prescriptions", Options, TimeoutMs)]
    private static partial Regex HealthNoun();

    [GeneratedRegex(@"\bIP\s*(?:addresses|addrs?)\b", Options, TimeoutMs)]
    private static partial Regex IpNoun();

    [GeneratedRegex(@"(?:home|postal|mailing|street)\s+addresses|(?<!e-?mail\s|IP\s)\baddresses\b", Options, TimeoutMs)]
    private static partial Regex AddressNoun();

    [GeneratedRegex(@"personal\s+(?:data|information|details|info)|\bPII\b|customer\s+data|user\s+data|contact\s+details", Options, TimeoutMs)]
    private static partial Regex PersonalNoun();
}
