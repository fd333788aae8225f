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
        DetectDigitEntities(text, results);
        DetectIPv6(text, results);
        DetectEmails(text, results);
    }

    /// <summary>
    /// One pass over the runs of ASCII digits: every digit-based entity (card, IBAN, SSN, IPv4, phone)
    /// starts at the start of a digit run (or at the <c>+</c>/<c>(</c>/country code just before it), so each
    /// candidate pattern is tried, anchored, only where it can start, and only when the run's shape allows it.
    /// Per type, a candidate that starts inside the previous candidate of that type is skipped, as a
    /// left-to-right regex scan would.
    /// </summary>
    private static void DetectDigitEntities(string text, List<Finding> results)
    {
        ReadOnlySpan<char> span = text;
        int n = text.Length;
        int cardEnd = 0, ibanEnd = 0, ssnEnd = 0, ipEnd = 0, phoneEnd = 0;
        int i = 0;
        while (i < n)
        {
            int k = span[i..].IndexOfAnyInRange('0', '9');
            if (k < 0)
            {
                return;
            }

            int start = i + k;
            int end = start + 1;
            while (end < n && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            i = end;
            int run = end - start;
            char next = end < n ? text[end] : '\0';
            bool nextDigitAfterSep = end + 1 < n && char.IsAsciiDigit(text[end + 1]);
            // IBAN: two capitals right before the run ("BE71…").
            if (start >= 2 && start - 2 >= ibanEnd && run >= 2 && char.IsAsciiLetterUpper(text[start - 1]) && char.IsAsciiLetterUpper(text[start - 2])
                && (start < 3 || !char.IsAsciiLetterOrDigit(text[start - 3])))
            {
                int length = MatchIban(text, start - 2);
                if (length > 0)
                {
                    results.Add(new Finding(EntityTypes.Iban, start - 2, length, 1.0));
                    ibanEnd = start - 2 + length;
                }
            }

            bool groupSep = next is ' ' or '-' && nextDigitAfterSep;
            if (start >= cardEnd && ((run == 4 && groupSep && (DigitsAt(text, end + 1) is 4 or 6)) || run is 15 or 16))
            {
                TryAnchored(CardCandidate(), text, start, ref cardEnd, results, static (t, s, l) => IsCardNumber(t.AsSpan(s, l)) ? 1.0 : 0, EntityTypes.CreditCard);
            }

            if (start >= ssnEnd && ((run == 3 && groupSep) || run == 9))
            {
                TryAnchored(SsnCandidate(), text, start, ref ssnEnd, results, EvaluateSsn, EntityTypes.Ssn);
            }

            if (start >= ipEnd && run <= 3 && next == '.' && nextDigitAfterSep && IsDottedQuadShape(text, start))
            {
                TryAnchored(IPv4Candidate(), text, start, ref ipEnd, results, IpAddressRules.EvaluateV4, EntityTypes.IpAddress);
            }

            int phoneStart = start;
            if (start > 0 && text[start - 1] is '+' or '(')
            {
                phoneStart = start - 1;
                if (text[start - 1] == '(' && phoneStart > 0 && text[phoneStart - 1] == '+')
                {
                    phoneStart--;
                }
            }

            bool phoneShape = run >= 7 || phoneStart < start || (next is ' ' or '.' or '-' or '/' && (nextDigitAfterSep || (end + 1 < n && text[end + 1] == '(')))
                || (next == ' ' && end + 1 < n && text[end + 1] == '(');
            if (phoneStart >= phoneEnd && phoneShape && PhoneClusterWorthTrying(text, start))
            {
                // "(737) 607-5253" starts at the parenthesis; "(02/580.00.40)" at the digits inside it.
                if (!TryAnchored(PhoneCandidate(), text, phoneStart, ref phoneEnd, results, EvaluatePhone, EntityTypes.Phone) && phoneStart < start)
                {
                    TryAnchored(PhoneCandidate(), text, start, ref phoneEnd, results, EvaluatePhone, EntityTypes.Phone);
                }
            }
        }
    }

    /// <summary>Length of the run of ASCII digits at <paramref name="at"/> (0 past the end).</summary>
    private static int DigitsAt(string text, int at)
    {
        int end = at;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end - at;
    }

    /// <summary>Cheap shape check before the IPv4 pattern: four 1–3 digit groups separated by dots.</summary>
    private static bool IsDottedQuadShape(string text, int at)
    {
        for (int group = 0; group < 4; group++)
        {
            int digits = DigitsAt(text, at);
            if (digits is 0 or > 3)
            {
                return false;
            }

            at += digits;
            if (group < 3)
            {
                if (at >= text.Length || text[at] != '.')
                {
                    return false;
                }

                at++;
            }
        }

        return true;
    }

    /// <summary>
    /// Cheap checks before the phone pattern on the cluster of digits and separators at <paramref name="at"/>.
    /// Each only skips a start where the pattern could match nothing acceptable: fewer than 7 digits in the
    /// whole cluster; or a cluster without spaces or parentheses (so every inner boundary is followed by a
    /// separator and a digit, which the pattern cannot end before) that is an ISO date or runs straight into
    /// a letter or a time ("2024-05-12T10:…").
    /// </summary>
    private static bool PhoneClusterWorthTrying(string text, int at)
    {
        int digits = 0;
        bool open = false;
        int i = at;
        for (; i < text.Length && i - at < 64; i++)
        {
            char c = text[i];
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c is ' ' or '(' or ')')
            {
                open = true;
            }
            else if (c is not ('.' or '-' or '/'))
            {
                break;
            }
        }

        if (digits < 7)
        {
            return false;
        }

        if (open || i - at >= 64)
        {
            return true;
        }

        if (i - at >= 10 && DigitsAt(text, at) == 4 && text[at + 4] == '-' && DigitsAt(text, at + 5) == 2 && text[at + 7] == '-' && DigitsAt(text, at + 8) == 2)
        {
            return false; // yyyy-mm-dd…: the phone rules refuse dates
        }

        bool endsWithDigit = char.IsAsciiDigit(text[i - 1]);
        return !(endsWithDigit && i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] is '_' or '@' or ':'));
    }

    private static double EvaluatePhone(string text, int start, int length) => length < 7 ? 0 : PhoneNumberRules.Evaluate(text, start, length);

    /// <summary>
    /// Runs an anchored candidate pattern at <paramref name="at"/>; validates and records a match.
    /// Returns whether the pattern matched (whatever the validation said).
    /// </summary>
    private static bool TryAnchored(Regex candidate, string text, int at, ref int candidateEnd, List<Finding> results, Func<string, int, int, double> evaluate, string type)
    {
        foreach (ValueMatch m in candidate.EnumerateMatches(text.AsSpan(), at))
        {
            candidateEnd = m.Index + m.Length;
            double score = evaluate(text, m.Index, m.Length);
            if (score > 0)
            {
                results.Add(new Finding(type, m.Index, m.Length, score));
            }

            return true;
        }

        return false;
    }

    // ------------------------------------------------------------------ CREDIT_CARD

    [GeneratedRegex(@"\G(?<![0-9A-Za-z_.+/-])(?<![0-9]{4} )[0-9]{4}(?:(?<s>[ -]?)[0-9]{4}\k<s>[0-9]{4}\k<s>[0-9]{4}|(?<t>[ -]?)[0-9]{6}\k<t>[0-9]{5})(?![0-9A-Za-z_]|[.-][0-9]| [0-9]{4}(?![0-9]|[:.][0-9A-Fa-f]))", Options, RegexTimeoutMs)]
    private static partial Regex CardCandidate();

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

    [GeneratedRegex(@"\G(?<![0-9A-Za-z_.+/-])(?:[0-9]{3}(?<s>[- ])[0-9]{2}\k<s>[0-9]{4}|[0-9]{9})(?![0-9A-Za-z_]|[.-][0-9])", Options, RegexTimeoutMs)]
    private static partial Regex SsnCandidate();

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

    [GeneratedRegex(@"\G(?<![0-9A-Za-z_.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z_]|\.[0-9])", Options, RegexTimeoutMs)]
    private static partial Regex IPv4Candidate();

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

            if ((colon == 0 || !IsV6Char(text[colon - 1])) && (colon + 1 == text.Length || !IsV6Char(text[colon + 1])))
            {
                searchFrom = colon + 1;
                continue; // "key": value
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
            if (text.AsSpan(start, end - start).Count(':') < 2)
            {
                continue;
            }

            bool tooLong = (start == floor && start > 0 && IsV6Char(text[start - 1])) || (end == ceiling && end < text.Length && IsV6Char(text[end]));
            if (tooLong || (start > 0 && IsWordChar(text[start - 1])) || (end < text.Length && IsWordChar(text[end])) || end - start < 3)
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

    // Not glued to a preceding word or code; an assignment ("SUPPORT_PHONE=+41…", "to=078/520.42.24") is allowed:
    // the phone rules judge the shape and the key's words.
    [GeneratedRegex(@"\G(?<![0-9A-Za-z_@#$%&*+/\\.-])\+?(?:\([0-9]{1,5}\)|[0-9]{1,15})(?:(?:[ ./-]|(?<=\)))[0-9]{1,15}|[ ./-]?\([0-9]{1,5}\)){0,8}(?![0-9A-Za-z_@]|[./-][0-9]|:[0-9])", Options, RegexTimeoutMs)]
    private static partial Regex PhoneCandidate();

    // ------------------------------------------------------------------ EMAIL

    [GeneratedRegex(@"\G[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}(?<!\.)@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9_-])", Options, RegexTimeoutMs)]
    private static partial Regex EmailAt();

    /// <summary>
    /// E-mail addresses, found from each <c>'@'</c>: the local part is the whole run of local-part
    /// characters before it (at most 64), and the pattern is tried once, anchored at that run's start.
    /// </summary>
    private static void DetectEmails(string text, List<Finding> results)
    {
        int from = 0;
        int lastEnd = 0;
        while (from < text.Length)
        {
            int at = text.IndexOf('@', from);
            if (at < 0)
            {
                return;
            }

            from = at + 1;
            int ls = at;
            while (ls > 0 && at - ls <= 64 && IsLocalPartChar(text[ls - 1]))
            {
                ls--;
            }

            if (ls == at || at - ls > 64 || ls < lastEnd)
            {
                continue;
            }

            int de = at + 1;
            while (de < text.Length && de - at <= 255 && (char.IsAsciiLetterOrDigit(text[de]) || text[de] is '.' or '-'))
            {
                de++;
            }

            // The slice keeps one character after the domain so the closing look-ahead sees it.
            ReadOnlySpan<char> slice = text.AsSpan(0, Math.Min(text.Length, de + 1));
            foreach (ValueMatch m in EmailAt().EnumerateMatches(slice, ls))
            {
                lastEnd = m.Index + m.Length;
                if (!IsUrlUserInfo(text, m.Index) && !IsAssetFileName(text.AsSpan(m.Index, m.Length)))
                {
                    results.Add(new Finding(EntityTypes.Email, m.Index, m.Length, 0.95));
                }

                break;
            }
        }
    }

    private static bool IsLocalPartChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-';

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
