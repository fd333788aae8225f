using System.Buffers;

namespace TapPass.Governance.Detection;

/// <summary>Sensitivity of a text, lowest to highest. Names match Core's public <c>Classification</c>.</summary>
internal enum DataClassification
{
    /// <summary>Nothing sensitive found.</summary>
    Public = 0,

    /// <summary>Internal-only markers or internal host names.</summary>
    Internal = 1,

    /// <summary>Personal or customer data (e-mail, phone, IP), financial terms or confidentiality labels.</summary>
    Confidential = 2,

    /// <summary>Credentials and regulated identifiers (SSN, card, IBAN), or a strict-confidentiality label.</summary>
    Restricted = 3,
}

/// <summary>Marker words and domains that <see cref="DataClassifier"/> looks for. Matching is case-insensitive on whole words.</summary>
internal sealed class DataClassifierOptions
{
    /// <summary>Labels that make a text RESTRICTED. Default: "strictly confidential", "top secret"… in EN/NL/DE/FR.</summary>
    public IList<string> RestrictedMarkers { get; } =
    [
        "strictly confidential", "highly confidential", "top secret", "strikt vertrouwelijk", "streng vertraulich",
        "strictement confidentiel",
    ];

    /// <summary>
    /// Labels and financial terms that make a text CONFIDENTIAL. Default: "confidential" and its
    /// translations, and terms such as "salary", "payroll", "bank account", "revenue".
    /// </summary>
    public IList<string> ConfidentialMarkers { get; } =
    [
        "confidential", "vertrouwelijk", "vertraulich", "confidentiel", "confidentielle", "salary", "salaries",
        "salaris", "payroll", "bank account", "account number", "routing number", "card number", "credit card",
        "wire transfer", "revenue", "balance sheet", "pricing sheet", "profit and loss", "tax return",
    ];

    /// <summary>Labels that make a text INTERNAL. Default: "internal only", "do not distribute"… in EN/NL/DE/FR.</summary>
    public IList<string> InternalMarkers { get; } =
    [
        "internal only", "internal use only", "for internal use", "do not distribute", "not for distribution",
        "do not forward", "company internal", "intern gebruik", "alleen intern", "niet doorsturen", "nur intern",
        "interne verwendung", "usage interne", "diffusion interne",
    ];

    /// <summary>
    /// Host-name suffixes that mark internal infrastructure (INTERNAL): a host under one of them, such
    /// as <c>pg1.corp.example.com</c> for <c>corp.example.com</c>. Default: <c>.internal</c>, <c>.corp</c>,
    /// <c>.lan</c>, <c>.local</c>, <c>.intranet</c>, <c>.intra</c>; add the organisation's own domains.
    /// </summary>
    public IList<string> InternalDomains { get; } = ["internal", "corp", "lan", "local", "intranet", "intra"];
}

/// <summary>
/// Classifies a text as PUBLIC, INTERNAL, CONFIDENTIAL or RESTRICTED from its findings and marker words:
/// credentials (SECRET) and regulated identifiers (SSN, CREDIT_CARD, IBAN) → RESTRICTED; other personal
/// data (EMAIL, PHONE_NUMBER, IP_ADDRESS), financial terms and "confidential" labels → CONFIDENTIAL;
/// "internal only" labels and internal host names → INTERNAL; otherwise PUBLIC. The highest level wins.
/// </summary>
internal sealed class DataClassifier
{
    private const int MaxMarkerLength = 64;
    private const int MaxMarkers = 256;
    private const int GroupSize = 8;
    private const int MinAnchor = 5;
    private const int MaxAnchor = 8;
    private const int MaxHostLength = 253;

    // Anchors are searched in groups of at most eight: the vectorised multi-string search is several
    // times faster for up to eight values than for more (which it buckets).
    private readonly (SearchValues<string> Values, Anchor[] Anchors)[] _groups;

    public DataClassifier(DataClassifierOptions? options = null)
    {
        options ??= new DataClassifierOptions();
        if (options.InternalMarkers.Count + options.ConfidentialMarkers.Count + options.RestrictedMarkers.Count > MaxMarkers
            || options.InternalDomains.Count > MaxMarkers)
        {
            throw new ArgumentException($"At most {MaxMarkers} classification markers and {MaxMarkers} internal domains are supported.", nameof(options));
        }

        var levels = new Dictionary<string, DataClassification>(StringComparer.OrdinalIgnoreCase);
        void Add(IEnumerable<string> words, DataClassification level)
        {
            foreach (string w in words)
            {
                string t = w.Trim();
                if (t.Length is < 3 or > MaxMarkerLength)
                {
                    throw new ArgumentException($"Classification markers must be 3..{MaxMarkerLength} characters.", nameof(options));
                }

                if (!levels.TryGetValue(t, out var existing) || existing < level)
                {
                    levels[t] = level;
                }
            }
        }

        Add(options.InternalMarkers, DataClassification.Internal);
        Add(options.ConfidentialMarkers, DataClassification.Confidential);
        Add(options.RestrictedMarkers, DataClassification.Restricted);

        var anchors = BuildPhraseAnchors(levels);
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string d in options.InternalDomains)
        {
            string t = d.Trim().TrimStart('.');
            if (t.Length is 0 or > MaxHostLength)
            {
                throw new ArgumentException($"Internal domains must be 1..{MaxHostLength} characters.", nameof(options));
            }

            if (domains.Add(t))
            {
                anchors.Add(new Anchor("." + t.ToLowerInvariant(), [], t));
            }
        }

        _groups = anchors.Chunk(GroupSize)
            .Select(g => (SearchValues.Create(g.Select(a => a.Text).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), StringComparison.OrdinalIgnoreCase), g))
            .ToArray();
    }

    /// <summary>Classifies <paramref name="text"/> (a detection view) given the findings in it.</summary>
    public DataClassification Classify(string text, IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(findings);
        var level = DataClassification.Public;
        foreach (Finding f in findings)
        {
            var l = LevelOf(f.Type);
            if (l > level)
            {
                level = l;
                if (level == DataClassification.Restricted)
                {
                    return level;
                }
            }
        }

        return MarkerLevel(text, level);
    }

    /// <summary>The level a finding of <paramref name="type"/> implies.</summary>
    public static DataClassification LevelOf(string type) => type switch
    {
        EntityTypes.Secret or EntityTypes.Ssn or EntityTypes.CreditCard or EntityTypes.Iban => DataClassification.Restricted,
        _ when type.StartsWith(EntityTypes.Secret, StringComparison.Ordinal) => DataClassification.Restricted,
        _ => DataClassification.Confidential, // EMAIL, PHONE_NUMBER, IP_ADDRESS and any other personal data
    };

    /// <summary>Raises <paramref name="level"/> by the marker phrases and internal host names in <paramref name="text"/>.</summary>
    private DataClassification MarkerLevel(ReadOnlySpan<char> text, DataClassification level)
    {
        foreach (var (values, anchors) in _groups)
        {
            int offset = 0;
            while (offset < text.Length)
            {
                int i = text[offset..].IndexOfAny(values);
                if (i < 0)
                {
                    break;
                }

                int at = offset + i;
                offset = at + 1;
                foreach (Anchor anchor in anchors)
                {
                    if (text[at..].StartsWith(anchor.Text, StringComparison.OrdinalIgnoreCase))
                    {
                        level = Max(level, anchor.Domain is null ? PhraseLevel(text, at, anchor, level) : DomainLevel(text, at, anchor.Domain));
                    }
                }

                if (level == DataClassification.Restricted)
                {
                    return level;
                }
            }
        }

        return level;
    }

    private static DataClassification PhraseLevel(ReadOnlySpan<char> text, int at, Anchor anchor, DataClassification current)
    {
        var level = current;
        foreach (var (phrase, anchorOffset, phraseLevel) in anchor.Phrases)
        {
            int start = at - anchorOffset;
            if (phraseLevel > level && start >= 0 && start + phrase.Length <= text.Length
                && text.Slice(start, phrase.Length).Equals(phrase, StringComparison.OrdinalIgnoreCase)
                && (start == 0 || !char.IsLetterOrDigit(text[start - 1]))
                && (start + phrase.Length == text.Length || !char.IsLetterOrDigit(text[start + phrase.Length])))
            {
                level = phraseLevel;
            }
        }

        return level;
    }

    // ".lan" at `at` marks an internal host when a host label comes right before it and the suffix ends the host name.
    private static DataClassification DomainLevel(ReadOnlySpan<char> text, int at, string domain)
    {
        if (at == 0 || !(char.IsAsciiLetterOrDigit(text[at - 1]) || text[at - 1] == '-'))
        {
            return DataClassification.Public;
        }

        ReadOnlySpan<char> rest = text.Slice(at + 1, Math.Min(text.Length - at - 1, MaxHostLength + 1));
        int end = rest.IndexOfAnyExcept(HostChars);
        ReadOnlySpan<char> host = (end < 0 ? rest : rest[..end]).TrimEnd('.');
        return host.Equals(domain, StringComparison.OrdinalIgnoreCase) ? DataClassification.Internal : DataClassification.Public;
    }

    private static readonly SearchValues<char> HostChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");

    private static DataClassification Max(DataClassification a, DataClassification b) => a > b ? a : b;

    /// <summary>A searched string: an anchor shared by marker phrases, or <c>"." + domain</c>.</summary>
    private sealed record Anchor(string Text, (string Phrase, int Offset, DataClassification Level)[] Phrases, string? Domain = null);

    /// <summary>
    /// Reaches the phrases through few shared anchors: substrings (5–8 chars, or a whole shorter phrase)
    /// chosen greedily to cover as many phrases as possible, ties broken towards rare leading letters so the
    /// vectorised search rarely stops on ordinary text. Every stop is verified against the covered phrases.
    /// </summary>
    private static List<Anchor> BuildPhraseAnchors(Dictionary<string, DataClassification> phrases)
    {
        var remaining = phrases.Select(p => (Phrase: p.Key.ToLowerInvariant(), Level: p.Value)).ToList();
        var anchors = new List<Anchor>();
        while (remaining.Count > 0)
        {
            string best = PickAnchor(remaining.Select(r => r.Phrase).ToList());
            var covered = new List<(string Phrase, int Offset, DataClassification Level)>();
            remaining.RemoveAll(r =>
            {
                int at = r.Phrase.IndexOf(best, StringComparison.Ordinal);
                if (at < 0)
                {
                    return false;
                }

                for (; at >= 0; at = r.Phrase.IndexOf(best, at + 1, StringComparison.Ordinal))
                {
                    covered.Add((r.Phrase, at, r.Level));
                }

                return true;
            });
            anchors.Add(new Anchor(best, [.. covered]));
        }

        return anchors;
    }

    private static string PickAnchor(List<string> phrases)
    {
        string? best = null;
        int bestCover = 0;
        double bestCost = double.MaxValue;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string phrase in phrases)
        {
            int minLen = Math.Min(MinAnchor, phrase.Length);
            for (int start = 0; start + minLen <= phrase.Length; start++)
            {
                for (int len = minLen; len <= MaxAnchor && start + len <= phrase.Length; len++)
                {
                    string candidate = phrase.Substring(start, len);
                    if (!seen.Add(candidate))
                    {
                        continue;
                    }

                    int cover = phrases.Count(p => p.Contains(candidate, StringComparison.Ordinal));
                    double cost = Cost(candidate) - (len * 0.01);
                    if (cover > bestCover || (cover == bestCover && cost < bestCost))
                    {
                        best = candidate;
                        bestCover = cover;
                        bestCost = cost;
                    }
                }
            }
        }

        return best!;
    }

    private static double Cost(string anchor) =>
        Frequency(anchor[0]) + Frequency(anchor[1]) + Frequency(anchor[2]) + (CommonTrigrams.Contains(anchor[..3]) ? 30 : 0);

    // Frequent trigrams of English, Dutch, German and French running text: poor anchors.
    private static readonly HashSet<string> CommonTrigrams = new(StringComparer.Ordinal)
    {
        "the", "and", "ing", "ion", "tio", "ent", "ati", "for", "her", "ter", "hat", "tha", "ere", "ate", "his",
        "con", "res", "ver", "all", "ons", "nce", "men", "ith", "ted", "ers", "pro", "thi", "wit", "are", "ess",
        "not", "ive", "was", "ect", "rea", "com", "eve", "per", "int", "est", "sta", "cti", "ica", "ist", "ear",
        "ain", "one", "our", "iti", "rat", "nte", "tin", "ine", "der", "ome", "man", "pre", "rom", "tra", "whi",
        "ave", "str", "act", "ill", "ure", "ide", "ove", "cal", "ble", "out", "sti", "tic", "oun", "enc", "ore",
        "ant", "ity", "fro", "art", "tur", "par", "red", "oth", "eri", "hic", "ies", "ste", "ght", "ich", "igh",
        "und", "you", "ort", "era", "wer", "nti", "oul", "nde", "ind", "tho", "hou", "nal", "but", "hen", "ary",
        "nly", "ook", "ung", "een", "van", "het", "sch", "ein", "die", "cht", "les", "des", "que", "ous", "ese",
        "lle", "ell", "ord", "rev", "ran", "use", "ser", "ose", "ise", "ame", "ake",
    };

    // Approximate relative frequency of a character in running text (letters: English, %).
    private static double Frequency(char c) => c switch
    {
        ' ' => 18, 'e' => 12.7, 't' => 9.1, 'a' => 8.2, 'o' => 7.5, 'i' => 7.0, 'n' => 6.7, 's' => 6.3, 'h' => 6.1,
        'r' => 6.0, 'd' => 4.3, 'l' => 4.0, 'c' => 2.8, 'u' => 2.8, 'm' => 2.4, 'w' => 2.4, 'f' => 2.2, 'g' => 2.0,
        'y' => 2.0, 'p' => 1.9, 'b' => 1.5, 'v' => 1.0, 'k' => 0.8, 'j' => 0.15, 'x' => 0.15, 'q' => 0.1, 'z' => 0.07,
        _ => 1.0,
    };
}
