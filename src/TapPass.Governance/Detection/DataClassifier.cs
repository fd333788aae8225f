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
        "payroll", "payslip", "bank account", "account number", "routing number", "sort code", "wire transfer",
        "credit card", "card number", "revenue", "balance sheet", "profit and loss", "tax return", "pricing sheet",
        "loonstrook", "salaris", "bankrekening", "gehalt", "bankkonto", "salaire", "compte bancaire",
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

    private readonly SearchValues<string> _markers;
    private readonly Dictionary<string, DataClassification> _levels;
    private readonly SearchValues<string>? _domains;
    private readonly string[] _domainNames;

    public DataClassifier(DataClassifierOptions? options = null)
    {
        options ??= new DataClassifierOptions();
        _levels = new Dictionary<string, DataClassification>(StringComparer.OrdinalIgnoreCase);
        void Add(IEnumerable<string> words, DataClassification level)
        {
            foreach (string w in words)
            {
                string t = w.Trim();
                if (t.Length is 0 or > MaxMarkerLength)
                {
                    throw new ArgumentException($"Classification markers must be 1..{MaxMarkerLength} characters.", nameof(options));
                }

                if (!_levels.TryGetValue(t, out var existing) || existing < level)
                {
                    _levels[t] = level;
                }
            }
        }

        Add(options.InternalMarkers, DataClassification.Internal);
        Add(options.ConfidentialMarkers, DataClassification.Confidential);
        Add(options.RestrictedMarkers, DataClassification.Restricted);
        _markers = SearchValues.Create([.. _levels.Keys], StringComparison.OrdinalIgnoreCase);

        var domains = new List<string>();
        var names = new List<string>();
        foreach (string d in options.InternalDomains)
        {
            string t = d.Trim().TrimStart('.');
            if (t.Length is 0 or > 253)
            {
                throw new ArgumentException("Internal domains must be 1..253 characters.", nameof(options));
            }

            names.Add(t);
            domains.Add("." + t);
            domains.Add("@" + t);
        }

        _domainNames = [.. names];

        _domains = domains.Count > 0 ? SearchValues.Create([.. domains], StringComparison.OrdinalIgnoreCase) : null;
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

        level = Max(level, MarkerLevel(text));
        if (level < DataClassification.Internal && HasInternalDomain(text))
        {
            level = DataClassification.Internal;
        }

        return level;
    }

    /// <summary>The level a finding of <paramref name="type"/> implies.</summary>
    public static DataClassification LevelOf(string type) => type switch
    {
        EntityTypes.Secret or EntityTypes.Ssn or EntityTypes.CreditCard or EntityTypes.Iban => DataClassification.Restricted,
        _ when type.StartsWith(EntityTypes.Secret, StringComparison.Ordinal) => DataClassification.Restricted,
        _ => DataClassification.Confidential, // EMAIL, PHONE_NUMBER, IP_ADDRESS and any other personal data
    };

    private DataClassification MarkerLevel(string text)
    {
        var level = DataClassification.Public;
        ReadOnlySpan<char> span = text;
        int offset = 0;
        while (offset < span.Length)
        {
            int i = span[offset..].IndexOfAny(_markers);
            if (i < 0)
            {
                break;
            }

            int at = offset + i;
            // Longest marker at this position with word boundaries on both sides.
            DataClassification found = DataClassification.Public;
            int advance = 1;
            if (at == 0 || !char.IsLetterOrDigit(span[at - 1]))
            {
                foreach (var (marker, markerLevel) in _levels)
                {
                    if (markerLevel > found && span[at..].StartsWith(marker, StringComparison.OrdinalIgnoreCase)
                        && (at + marker.Length == span.Length || !char.IsLetterOrDigit(span[at + marker.Length])))
                    {
                        found = markerLevel;
                        advance = Math.Max(advance, marker.Length);
                    }
                }
            }

            level = Max(level, found);
            if (level == DataClassification.Restricted)
            {
                break;
            }

            offset = at + advance;
        }

        return level;
    }

    private bool HasInternalDomain(string text)
    {
        if (_domains is null)
        {
            return false;
        }

        ReadOnlySpan<char> span = text;
        int offset = 0;
        while (offset < span.Length)
        {
            int i = span[offset..].IndexOfAny(_domains);
            if (i < 0)
            {
                return false;
            }

            int at = offset + i;
            // A host label must come right before, and the suffix must end the host name.
            if (at > 0 && (char.IsAsciiLetterOrDigit(span[at - 1]) || span[at - 1] == '-'))
            {
                ReadOnlySpan<char> rest = span[(at + 1)..];
                int end = rest.IndexOfAnyExcept(HostChars);
                ReadOnlySpan<char> host = end < 0 ? rest : rest[..end];
                host = host.TrimEnd('.');
                foreach (string d in _domainNames)
                {
                    if (host.Equals(d, StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }
            }

            offset = at + 1;
        }

        return false;
    }

    private static readonly SearchValues<char> HostChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");

    private static DataClassification Max(DataClassification a, DataClassification b) => a > b ? a : b;
}
