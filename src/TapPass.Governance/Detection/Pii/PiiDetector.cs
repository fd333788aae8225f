using System.Text.RegularExpressions;

namespace TapPass.Governance.Detection.Pii;

/// <summary>
/// Finds personal data in a detection view (<see cref="TextNormalizer"/>): EMAIL, PHONE_NUMBER, SSN,
/// CREDIT_CARD, IBAN and IP_ADDRESS, following the labelling rules of the evaluation corpus: the span is
/// the value only, check digits must pass (Luhn, mod-97), and values the text presents as something else
/// (SKU and order numbers, versions, sections) are refused.
/// Cheap prefilters skip whole families: no <c>'@'</c> means no e-mail pass, no ASCII digit means no
/// digit-based pass, no <c>':'</c> means no IPv6 pass. Findings of different types may overlap (a phone
/// candidate inside an IBAN); <see cref="ContentScanner"/> resolves overlaps (<see cref="FindingResolver"/>).
/// </summary>
internal sealed partial class PiiDetector : IEntityDetector
{
    /// <summary>The pipeline step name.</summary>
    public const string StepName = "detect_pii";

    private const int RegexTimeoutMs = 500;
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;
    private const int SsnContextDistance = 32;
    private const int EmailUserInfoScan = 256;

    private static readonly ContextKeywords s_ssnContext = new(
        supporting: ["ssn", "ssns", "socsec", "security", "sozialversicherungsnummer"],
        refuting:
        [
            "sku", "part", "item", "catalog", "catalogue", "model", "lot", "batch", "order", "case", "ticket", "invoice",
            "isbn", "serial", "ref", "reference", "reservation", "booking", "parcel", "shipment", "tracking", "article",
            "product", "version", "build", "account", "transaction", "phone", "tel", "fax", "mobile", "call",
        ]);

    /// <inheritdoc />
    public string Step => StepName;

    /// <inheritdoc />
    public void Detect(string text, List<Finding> results)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(results);
        ReadOnlySpan<char> span = text;
        bool digits = span.ContainsAnyInRange('0', '9');
        if (digits)
        {
            DetectCards(text, results);
            DetectIbans(text, results);
            DetectSsns(text, results);
            DetectIPv4(text, results);
            DetectPhones(text, results);
        }

        if (span.Contains(':'))
        {
            DetectIPv6(text, results);
        }

        if (span.Contains('@'))
        {
            DetectEmails(text, results);
        }
    }

    // ------------------------------------------------------------------ CREDIT_CARD

    [GeneratedRegex(@"(?<![0-9A-Za-z_.+/-])(?<![0-9]{4} )[0-9]{4}(?:(?<s>[ -]?)[0-9]{4}\k<s>[0-9]{4}\k<s>[0-9]{4}|(?<t>[ -]?)[0-9]{6}\k<t>[0-9]{5})(?![0-9A-Za-z_]|[.-][0-9]| [0-9]{4}(?![0-9]|[:.][0-9A-Fa-f]))", Options, RegexTimeoutMs)]
    private static partial Regex CardCandidate();

    private static void DetectCards(string text, List<Finding> results)
    {
        foreach (ValueMatch m in CardCandidate().EnumerateMatches(text))
        {
            if (IsCardNumber(text.AsSpan(m.Index, m.Length)))
            {
                results.Add(new Finding(EntityTypes.CreditCard, m.Index, m.Length, 1.0));
            }
        }
    }

    /// <summary>Issuer prefix and length (Visa, Mastercard, American Express, Discover) and Luhn.</summary>
    internal static bool IsCardNumber(ReadOnlySpan<char> candidate)
    {
        Span<char> d = stackalloc char[19];
        int n = 0;
        foreach (char c in candidate)
        {
            if (c is >= '0' and <= '9')
            {
                if (n == d.Length)
                {
                    return false;
                }

                d[n++] = c;
            }
        }

        ReadOnlySpan<char> digits = d[..n];
        bool issuer = n switch
        {
            16 => digits[0] == '4'
                || (digits[0] == '5' && digits[1] is >= '1' and <= '5')
                || Prefix(digits, 4) is >= 2221 and <= 2720
                || digits.StartsWith("6011")
                || Prefix(digits, 3) is >= 644 and <= 649
                || digits.StartsWith("65"),
            15 => digits.StartsWith("34") || digits.StartsWith("37"),
            _ => false,
        };
        return issuer && Checksums.Luhn(digits);
    }

    private static int Prefix(ReadOnlySpan<char> digits, int count)
    {
        int v = 0;
        for (int i = 0; i < count; i++)
        {
            v = (v * 10) + (digits[i] - '0');
        }

        return v;
    }

    // ------------------------------------------------------------------ IBAN

    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?=[ ]?[A-Z0-9])", Options, RegexTimeoutMs)]
    private static partial Regex IbanStart();

    private static void DetectIbans(string text, List<Finding> results)
    {
        foreach (ValueMatch m in IbanStart().EnumerateMatches(text))
        {
            int length = MatchIban(text, m.Index);
            if (length > 0)
            {
                results.Add(new Finding(EntityTypes.Iban, m.Index, length, 1.0));
            }
        }
    }

    /// <summary>
    /// Reads an IBAN of the registry length for its country at <paramref name="start"/>, compact or in
    /// groups of four separated by single spaces, and checks mod-97. Returns its length in the text, or 0.
    /// </summary>
    internal static int MatchIban(string text, int start)
    {
        int expected = IbanRegistry.LengthOf(text[start], text[start + 1]);
        if (expected == 0)
        {
            return 0;
        }

        Span<char> compact = stackalloc char[34];
        int count = 0;
        int i = start;
        bool? grouped = null;
        while (count < expected)
        {
            if (i >= text.Length)
            {
                return 0;
            }

            char c = text[i];
            if (c == ' ')
            {
                // A space is allowed only between groups of four, and then between all of them.
                if (count % 4 != 0 || grouped == false || i + 1 >= text.Length || text[i + 1] == ' ')
                {
                    return 0;
                }

                grouped = true;
                i++;
                continue;
            }

            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9')))
            {
                return 0;
            }

            if (count > 0 && count % 4 == 0 && grouped is null)
            {
                grouped = false;
            }
            else if (count > 0 && count % 4 == 0 && grouped == true && text[i - 1] != ' ')
            {
                return 0;
            }

            compact[count++] = c;
            i++;
        }

        if (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
        {
            return 0;
        }

        return Checksums.IbanMod97(compact[..count]) ? i - start : 0;
    }

    // ------------------------------------------------------------------ SSN

    [GeneratedRegex(@"(?<![0-9A-Za-z_.+/-])(?:[0-9]{3}(?<s>[- ])[0-9]{2}\k<s>[0-9]{4}|[0-9]{9})(?![0-9A-Za-z_]|[.-][0-9])", Options, RegexTimeoutMs)]
    private static partial Regex SsnCandidate();

    private static void DetectSsns(string text, List<Finding> results)
    {
        foreach (ValueMatch m in SsnCandidate().EnumerateMatches(text))
        {
            double score = EvaluateSsn(text, m.Index, m.Length);
            if (score > 0)
            {
                results.Add(new Finding(EntityTypes.Ssn, m.Index, m.Length, score));
            }
        }
    }

    private static double EvaluateSsn(string text, int start, int length)
    {
        ReadOnlySpan<char> s = text.AsSpan(start, length);
        bool delimited = length == 11;
        int area = Number(s[..3]);
        int group = delimited ? Number(s.Slice(4, 2)) : Number(s.Slice(3, 2));
        int serial = delimited ? Number(s.Slice(7, 4)) : Number(s.Slice(5, 4));
        if (area is 0 or 666 or >= 900 || group == 0 || serial == 0)
        {
            return 0;
        }

        ContextVerdict context = s_ssnContext.Nearest(text, start, SsnContextDistance);
        if (context == ContextVerdict.Refutes)
        {
            return 0;
        }

        if (!delimited)
        {
            // Nine undelimited digits only in an explicit SSN field.
            return context == ContextVerdict.Supports ? 0.9 : 0;
        }

        if (s[3] == ' ' && start >= 2 && text[start - 1] == ' ' && char.IsAsciiDigit(text[start - 2]))
        {
            return 0;
        }

        return context == ContextVerdict.Supports ? 0.95 : 0.85;
    }

    private static int Number(ReadOnlySpan<char> d)
    {
        int v = 0;
        foreach (char c in d)
        {
            v = (v * 10) + (c - '0');
        }

        return v;
    }

    // ------------------------------------------------------------------ IP_ADDRESS

    [GeneratedRegex(@"(?<![0-9A-Za-z_.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z_]|\.[0-9])", Options, RegexTimeoutMs)]
    private static partial Regex IPv4Candidate();

    private static void DetectIPv4(string text, List<Finding> results)
    {
        foreach (ValueMatch m in IPv4Candidate().EnumerateMatches(text))
        {
            double score = IpAddressRules.EvaluateV4(text, m.Index, m.Length);
            if (score > 0)
            {
                results.Add(new Finding(EntityTypes.IpAddress, m.Index, m.Length, score));
            }
        }
    }

    private static void DetectIPv6(string text, List<Finding> results)
    {
        int searchFrom = 0;
        while (searchFrom < text.Length)
        {
            int colon = text.IndexOf(':', searchFrom);
            if (colon < 0)
            {
                return;
            }

            int start = colon;
            int floor = Math.Max(0, colon - 45);
            while (start > floor && IsV6Char(text[start - 1]))
            {
                start--;
            }

            int end = colon + 1;
            int ceiling = Math.Min(text.Length, colon + 46);
            while (end < ceiling && IsV6Char(text[end]))
            {
                end++;
            }

            searchFrom = end;
            if ((start > 0 && IsWordChar(text[start - 1])) || (end < text.Length && IsWordChar(text[end])) || end - start < 3)
            {
                continue;
            }

            // a[::2] is a slice; "[2001:db8::1]" after "//" or a space is an address.
            if (start >= 2 && text[start - 1] == '[' && (IsWordChar(text[start - 2]) || text[start - 2] is ')' or ']'))
            {
                continue;
            }

            int length = IpAddressRules.MatchV6(text, start, end);
            if (length > 0)
            {
                results.Add(new Finding(EntityTypes.IpAddress, start, length, 0.9));
            }
        }
    }

    private static bool IsV6Char(char c) => char.IsAsciiHexDigit(c) || c is ':' or '.';

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    // ------------------------------------------------------------------ PHONE_NUMBER

    [GeneratedRegex(@"(?<![0-9A-Za-z_@#$%&*+=/\\.-])\+?(?:\([0-9]{1,5}\)|[0-9]{1,15})(?:(?:[ ./-]|(?<=\)))[0-9]{1,15}|[ ./-]?\([0-9]{1,5}\)){0,8}(?![0-9A-Za-z_@]|[./-][0-9]|:[0-9])", Options, RegexTimeoutMs)]
    private static partial Regex PhoneCandidate();

    private static void DetectPhones(string text, List<Finding> results)
    {
        foreach (ValueMatch m in PhoneCandidate().EnumerateMatches(text))
        {
            if (m.Length < 7)
            {
                continue;
            }

            double score = PhoneNumberRules.Evaluate(text, m.Index, m.Length);
            if (score > 0)
            {
                results.Add(new Finding(EntityTypes.Phone, m.Index, m.Length, score));
            }
        }
    }

    // ------------------------------------------------------------------ EMAIL

    [GeneratedRegex(@"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}(?<!\.)@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9_-])", Options, RegexTimeoutMs)]
    private static partial Regex EmailCandidate();

    private static void DetectEmails(string text, List<Finding> results)
    {
        foreach (ValueMatch m in EmailCandidate().EnumerateMatches(text))
        {
            if (!IsUrlUserInfo(text, m.Index) && !IsAssetFileName(text.AsSpan(m.Index, m.Length)))
            {
                results.Add(new Finding(EntityTypes.Email, m.Index, m.Length, 0.95));
            }
        }
    }

    /// <summary>
    /// <c>icon@2x.png</c>, <c>logo@dark.svg</c>: file names of image and web assets, whose "TLD" is a file
    /// extension that is not a top-level domain.
    /// </summary>
    private static bool IsAssetFileName(ReadOnlySpan<char> match)
    {
        ReadOnlySpan<char> tld = match[(match.LastIndexOf('.') + 1)..];
        Span<char> lower = stackalloc char[8];
        if (tld.Length > lower.Length)
        {
            return false;
        }

        int n = tld.ToLowerInvariant(lower);
        return lower[..n] switch
        {
            "png" or "jpg" or "jpeg" or "gif" or "svg" or "webp" or "bmp" or "ico" or "tif" or "tiff" or "css" or "js"
                or "mjs" or "json" or "html" or "htm" or "xml" or "yaml" or "yml" or "txt" or "pdf" or "csv" => true,
            _ => false,
        };
    }

    /// <summary>True when the match starts inside the <c>user:password@</c> part of a URL authority.</summary>
    private static bool IsUrlUserInfo(string text, int start)
    {
        int floor = Math.Max(0, start - EmailUserInfoScan);
        for (int j = start - 1; j >= floor; j--)
        {
            char c = text[j];
            if (char.IsWhiteSpace(c) || c is '"' or '\'' or '<' or '>' or '?' or '#' or '`')
            {
                return false;
            }

            if (c == '/')
            {
                return j >= 2 && text[j - 1] == '/' && text[j - 2] == ':';
            }
        }

        return false;
    }
}
