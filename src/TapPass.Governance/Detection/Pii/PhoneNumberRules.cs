namespace TapPass.Governance.Detection.Pii;

/// <summary>
/// Decides whether a phone-shaped candidate (digit groups with separators, see
/// <see cref="PiiDetector"/>) is a telephone number. Accepted without context: international
/// numbers (<c>+</c> or <c>00</c> and a valid country code, 7–15 digits), North American numbers
/// grouped 3-3-4 (valid area and exchange codes) and national numbers with a trunk <c>0</c> written
/// in groups (9–12 digits). Other shapes need a phone word before them ("tel", "call", "mobiel"…).
/// Refused whatever the shape: candidates the text presents as something else (the nearest keyword
/// is SKU, part, order, case, lot, ISBN, serial, version…; for an international number it must be
/// right before it; a keyword is never read across another value; in a SQL VALUES tuple the column's
/// name decides, in a table row its header's), dates and timestamps, dotted quads,
/// card-like groups of four, ISBN-13, and digit groups glued to a preceding code.
/// </summary>
internal static class PhoneNumberRules
{
    private const int ContextDistance = 48;
    private const int MaxWordsBeforeInternational = 1;

    private static readonly ContextKeywords s_context = new(
        supporting:
        [
            "phone", "phones", "phoned", "telephone", "tel", "tél", "telefoon", "telefoonnummer", "téléphone", "telefon",
            "telefonnummer", "telefono", "teléfono", "mobile", "mobil", "mobiel", "mob", "móvil", "portable", "cell",
            "cellphone", "gsm", "handy", "handynummer", "mobilnummer", "fax", "call", "calls", "called", "calling",
            "callback", "bel", "bellen", "belt", "appel", "appelle", "appeler", "appelez", "numéro", "nummer", "rufnummer",
            "anrufen", "ruf", "erreichbar", "whatsapp", "sms", "text", "reach", "contact", "kontakt", "hotline",
            "helpline", "dial", "ring", "voicemail", "landline", "tfn", "ph", "cel", "celular", "numero",
            "reachable", "reached", "rückruf", "erreichen", "tlf", "telefone", "telemóvel", "telemovel", "telm", "tlm",
            "ligue", "ligar", "puhelin", "puhelinnumero", "matkapuhelin", "puh", "soita", "soittakaa", "zadzwoń",
            "zadzwon", "zadzwonić", "telefonu", "komórka", "komorka", "komórkowy", "numer", "numeru", "ringa", "ringer",
            "cellulare", "chiamami", "chiamare", "chiama", "llámame", "llamame", "llamar", "llame", "telefoonnr",
        ],
        refuting:
        [
            "sku", "skus", "part", "parts", "pn", "item", "items", "catalog", "catalogue", "katalog", "cat", "model",
            "models", "lot", "lots", "batch", "order", "orders", "bestelling", "bestelnummer", "bestellnummer",
            "commande", "bestellung", "auftrag", "case", "cases", "ticket", "tickets", "incident", "invoice", "invoices",
            "factuur", "facture", "rechnung", "isbn", "issn", "ean", "upc", "gtin", "serial", "serienummer", "sn", "ref",
            "reference", "referentie", "référence", "referenz", "reservation", "reservering", "réservation", "booking",
            "buchung", "parcel", "pakket", "colis", "paket", "shipment", "tracking", "awb", "container", "article",
            "artikel", "product", "produkt", "version", "build", "release", "id", "account", "konto", "rekening",
            "compte", "timestamp", "ts", "epoch", "unix", "issued", "seen", "created", "updated", "modified",
            "expires", "date", "datum", "time", "zeit", "patent", "policy", "claim", "license", "licence", "voucher",
            "coupon", "transaction", "txn", "receipt", "pin", "zip", "postcode", "plz", "iban", "bic", "swift", "vat",
            "btw", "tva", "siret", "kvk", "amount", "total", "price", "prijs", "prix", "preis", "betrag", "bedrag",
            "eur", "usd", "gbp", "ssn", "page", "membership", "count", "qty", "quantity",
        ]);

    /// <summary>Returns the score of an accepted candidate, or 0 when it is not a phone number.</summary>
    public static double Evaluate(string text, int start, int length)
    {
        ReadOnlySpan<char> s = text.AsSpan(start, length);
        Span<char> digits = stackalloc char[24];
        Span<int> groups = stackalloc int[16];
        int nd = 0;
        int ng = 0;
        int cur = 0;
        bool plus = false;
        int slashes = 0;
        int slashAfterGroup = -1;
        bool sepSpace = false, sepDot = false, sepDash = false;
        bool firstGroupParen = false;

        for (int k = 0; k < s.Length; k++)
        {
            char c = s[k];
            if (c is >= '0' and <= '9')
            {
                if (nd == digits.Length)
                {
                    return 0;
                }

                digits[nd++] = c;
                cur++;
                continue;
            }

            if (cur > 0)
            {
                if (ng == groups.Length)
                {
                    return 0;
                }

                groups[ng++] = cur;
                cur = 0;
            }

            switch (c)
            {
                case '+':
                    plus = true;
                    break;
                case '(':
                    // "(0)" after an international prefix is the optional trunk prefix: not dialled.
                    if ((plus || (nd >= 2 && digits[0] == '0' && digits[1] == '0')) && k + 2 < s.Length && s[k + 1] == '0' && s[k + 2] == ')')
                    {
                        k += 2;
                    }
                    else if (ng == 0)
                    {
                        firstGroupParen = true;
                    }

                    break;
                case ')':
                    break;
                case ' ':
                    sepSpace = true;
                    break;
                case '.':
                    sepDot = true;
                    break;
                case '-':
                    sepDash = true;
                    break;
                case '/':
                    slashes++;
                    slashAfterGroup = ng;
                    break;
                default:
                    return 0;
            }
        }

        if (cur > 0)
        {
            if (ng == groups.Length)
            {
                return 0;
            }

            groups[ng++] = cur;
        }

        ReadOnlySpan<char> d = digits[..nd];
        bool doubleZero = !plus && nd > 2 && ng > 0 && groups[0] >= 2 && d[0] == '0' && d[1] == '0';
        bool international = plus || doubleZero;
        ReadOnlySpan<char> significant = doubleZero ? d[2..] : d;
        int n = significant.Length;
        if (n < 7 || n > 15)
        {
            return 0;
        }

        // '/' only once, right after the area code (02/123.45.67, 030/1234567).
        if (slashes > 1 || (slashes == 1 && slashAfterGroup != 1))
        {
            return 0;
        }

        int kinds = (sepSpace ? 1 : 0) + (sepDot ? 1 : 0) + (sepDash ? 1 : 0) + (slashes > 0 ? 1 : 0);
        if (kinds > 2)
        {
            return 0;
        }

        ReadOnlySpan<int> g = groups[..ng];
        if (!international)
        {
            if (LooksLikeDate(d, g) || (sepDot && !sepSpace && !sepDash && slashes == 0 && g.Length == 4 && AllAtMost(g, 3)))
            {
                return 0;
            }

            if (n == 13 && (d.StartsWith("978") || d.StartsWith("979")))
            {
                return 0;
            }

            if (n >= 13 && g.Length >= 3 && AllEqual(g[..^1], 4))
            {
                return 0;
            }
        }

        // The keyword must label this candidate, not a value between them ("SSN 123-45-6789, call 212-…").
        ContextVerdict context = s_context.SqlColumnVerdict(text, start)
            ?? (s_context.TableColumnVerdict(text, start) is ContextVerdict column and not ContextVerdict.None ? column
                : HasLetterLabel(text, start) ? ContextVerdict.Supports
                : s_context.Nearest(text, start, ContextDistance, int.MaxValue, stopAtValue: true));
        if (context == ContextVerdict.Refutes && international
            && s_context.Nearest(text, start, ContextDistance, MaxWordsBeforeInternational, stopAtValue: true) != ContextVerdict.Refutes)
        {
            // An international number (+ or 00 and a country code) is refused only by a refuting keyword
            // right before it ("Order no. 0044 …"), not by one further back in the sentence or a column
            // list ("your account manager can be reached at +44 …", "(name, tel, konto) VALUES ('…', '0048 …'").
            context = ContextVerdict.None;
        }

        if (context == ContextVerdict.Refutes || GluedToPrecedingCode(text, start))
        {
            return 0;
        }

        if (international)
        {
            // The country code is the start of the first group after the prefix ("+32 470…", "0032 470…",
            // "00 32 470…", "+32470…"); "009-61-1484" has none.
            int first = doubleZero ? g[0] - 2 : g[0];
            if (first == 0 && g.Length > 1)
            {
                first = g[1];
            }

            return first > 0 && IsCountryCode(significant[..Math.Min(first, 3)]) ? 0.95 : 0;
        }

        if (IsSsnShaped(s, g))
        {
            return 0;
        }

        if (IsNanp(d, g, firstGroupParen))
        {
            return 0.85;
        }

        if (d[0] == '0' && d[1] != '0')
        {
            if (n is >= 9 and <= 12 && g.Length >= 2)
            {
                return 0.8;
            }

            if (n is >= 7 and <= 12 && context == ContextVerdict.Supports)
            {
                return 0.7;
            }

            return 0;
        }

        return n <= 12 && context == ContextVerdict.Supports ? 0.6 : 0;
    }

    /// <summary>
    /// A one-letter label right before the number, as in e-mail signatures and letterheads:
    /// "T +41 44 …", "M: 0470 …", "F. 02 …" (T, M, F, P, W, H, C: telephone, mobile, fax, phone, work,
    /// home, cell). The letter is upper case and a word of its own.
    /// </summary>
    private static bool HasLetterLabel(string text, int start)
    {
        int p = start - 1;
        int skipped = 0;
        while (p >= 0 && skipped < 3 && text[p] is ' ' or ':' or '.' or '\t')
        {
            p--;
            skipped++;
        }

        return skipped > 0 && p >= 0 && text[p] is 'T' or 'M' or 'F' or 'P' or 'W' or 'H' or 'C'
            && (p == 0 || text[p - 1] is ' ' or '\n' or '\t' or '|' or '(' or ',' or ';' or '/');
    }

    private static bool IsNanp(ReadOnlySpan<char> d, ReadOnlySpan<int> g, bool firstGroupParen)
    {
        int offset;
        if (g.Length == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4)
        {
            offset = 0;
        }
        else if (!firstGroupParen && g.Length == 4 && g[0] == 1 && d[0] == '1' && g[1] == 3 && g[2] == 3 && g[3] == 4)
        {
            offset = 1;
        }
        else
        {
            return false;
        }

        return d[offset] is >= '2' and <= '9' && d[offset + 3] is >= '2' and <= '9';
    }

    private static bool LooksLikeDate(ReadOnlySpan<char> d, ReadOnlySpan<int> g)
    {
        if (g.Length < 3)
        {
            return false;
        }

        // yyyy-mm-dd (possibly followed by a time), dd/mm/yyyy, d.m.yyyy
        if (g[0] == 4 && g[1] <= 2 && g[2] <= 2)
        {
            int year = Number(d[..4]);
            int month = Number(d.Slice(4, g[1]));
            return year is >= 1900 and <= 2099 && month is >= 1 and <= 12;
        }

        if (g[0] <= 2 && g[1] <= 2 && g[2] == 4)
        {
            int year = Number(d.Slice(g[0] + g[1], 4));
            return year is >= 1900 and <= 2099;
        }

        return false;
    }

    private static bool GluedToPrecedingCode(string text, int start)
    {
        // "BE71 0961 2345 6769" or "x1234 0470 12 34 56": the digit groups continue a longer code.
        int p = start - 1;
        if (p < 1 || text[p] != ' ' || !char.IsAsciiLetterOrDigit(text[p - 1]))
        {
            return false;
        }

        for (int hops = 0; hops < 10; hops++)
        {
            int end = p;
            int b = end - 1;
            while (b >= 0 && end - b <= 40 && char.IsAsciiLetterOrDigit(text[b]))
            {
                b--;
            }

            ReadOnlySpan<char> token = text.AsSpan(b + 1, end - (b + 1));
            if (token.ContainsAnyInRange('0', '9'))
            {
                return true;
            }

            bool codeGroup = token.Length <= 4 && !token.ContainsAnyExceptInRange('A', 'Z');
            if (!codeGroup || b < 1 || text[b] != ' ' || !char.IsAsciiLetterOrDigit(text[b - 1]))
            {
                return false;
            }

            p = b;
        }

        return false;
    }

    // AAA-GG-SSSS or AAA GG SSSS: a social security number's shape, never a phone's.
    private static bool IsSsnShaped(ReadOnlySpan<char> s, ReadOnlySpan<int> g) =>
        g.Length == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4 && s.Length == 11 && s[3] == s[6] && s[3] is '-' or ' ';

    /// <summary>Whether a prefix of <paramref name="d"/> (1–3 digits) is an ITU country calling code.</summary>
    private static bool IsCountryCode(ReadOnlySpan<char> d)
    {
        if (d.Length == 0)
        {
            return false;
        }

        if (d[0] is '1' or '7')
        {
            return true;
        }

        if (d.Length < 2)
        {
            return false;
        }

        int two = Number(d[..2]);
        return two switch
        {
            20 or 27 or (>= 30 and <= 34) or 36 or 39 or 40 or 41 or (>= 43 and <= 49) or (>= 51 and <= 58)
                or (>= 60 and <= 66) or 81 or 82 or 84 or 86 or (>= 90 and <= 95) or 98 => true,
            21 or 22 or 23 or 24 or 25 or 26 or 29 or 35 or 37 or 38 or 42 or 50 or 59 or 67 or 68 or 69 or 80 or 85
                or 87 or 88 or 96 or 97 or 99 => d.Length > 2,
            _ => false,
        };
    }

    private static bool AllAtMost(ReadOnlySpan<int> g, int max)
    {
        foreach (int x in g)
        {
            if (x > max)
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllEqual(ReadOnlySpan<int> g, int value)
    {
        foreach (int x in g)
        {
            if (x != value)
            {
                return false;
            }
        }

        return true;
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
}
