using System.Text;

namespace TapPass.Governance.Tests.Detection;

/// <summary>Builds random texts mixing prose, tricky filler and format-valid entities (for property tests).</summary>
internal static class TextFactory
{
    private static readonly string[] Words =
    [
        "hello", "the", "and", "please", "call", "me", "at", "Tel:", "phone", "mail", "version", "SKU", "card",
        "IBAN", "ssn", "ip", "2024", "12", "7", "0470", "v1.2", "🙂", "—", ",", ".", ":", "(", ")", "x@", "@home",
        "Order", "note", "Ünïcødé", "слово", "a::b", "key", "Server", "Password=", "ok;", "BE", "NL91", "ABCD",
        "+", "(0)", "34", "56", "4111", "BE71", "12:30", "1.2.3", "ISBN", "section", "10.0", "::", "-----", "=",
    ];

    private static readonly string[] Separators = [" ", " ", " ", " ", "\n", ", ", "  ", "\u00A0", "\t", " - ", "", "\u200B", "-", "."];

    private const string Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string Text(Random rng, int pieces)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pieces; i++)
        {
            if (i > 0)
            {
                sb.Append(Separators[rng.Next(Separators.Length)]);
            }

            sb.Append(rng.Next(3) == 0 ? Entity(rng) : Words[rng.Next(Words.Length)]);
        }

        return sb.ToString();
    }

    public static string Entity(Random rng) => rng.Next(11) switch
    {
        0 => Email(rng),
        1 => Phone(rng),
        2 => Ssn(rng),
        3 => Card(rng),
        4 => Iban(rng),
        5 => Ipv4(rng),
        6 => Ipv6(rng),
        7 => "sk_live_" + Chars(rng, Alnum, 24),
        8 => $"Server=db{rng.Next(9)}.lan;User Id=app;Password={Chars(rng, Alnum, 10)};",
        9 => Evasive(rng, Card(rng)),
        _ => Evasive(rng, Email(rng)),
    };

    public static string Email(Random rng) =>
        $"{Chars(rng, "abcdefghij", 5)}.{Chars(rng, "klmnop", 4)}@{Chars(rng, "qrstuv", 6)}.{(rng.Next(2) == 0 ? "be" : "co.uk")}";

    public static string Phone(Random rng) => rng.Next(5) switch
    {
        0 => $"+32 470 {D(rng, 2)} {D(rng, 2)} {D(rng, 2)}",
        1 => $"({rng.Next(2, 10)}{D(rng, 2)}) {rng.Next(2, 10)}{D(rng, 2)}-{D(rng, 4)}",
        2 => $"04{D(rng, 2)} {D(rng, 3)} {D(rng, 3)}",
        3 => $"+49 (0)40 {D(rng, 3)} {D(rng, 4)}",
        _ => $"{rng.Next(2, 10)}{D(rng, 2)}-{rng.Next(2, 10)}{D(rng, 2)}-{D(rng, 4)}",
    };

    public static string Ssn(Random rng) => $"{rng.Next(1, 666):000}-{rng.Next(1, 100):00}-{rng.Next(1, 10000):0000}";

    public static string Card(Random rng)
    {
        string body = "4" + D(rng, 14);
        for (char c = '0'; c <= '9'; c++)
        {
            if (TapPass.Governance.Detection.Pii.Checksums.Luhn(body + c))
            {
                body += c;
                break;
            }
        }

        string sep = rng.Next(3) switch { 0 => " ", 1 => "-", _ => "" };
        return string.Join(sep, Enumerable.Range(0, 4).Select(i => body.Substring(i * 4, 4)));
    }

    public static string Iban(Random rng)
    {
        string bban = D(rng, 12);
        string rearranged = bban + "BE00";
        int rem = 0;
        foreach (char c in rearranged)
        {
            rem = c is >= 'A' and <= 'Z' ? ((rem * 100) + (c - 'A' + 10)) % 97 : ((rem * 10) + (c - '0')) % 97;
        }

        string iban = $"BE{98 - rem:00}{bban}";
        return rng.Next(2) == 0 ? iban : string.Join(" ", Enumerable.Range(0, 4).Select(i => iban.Substring(i * 4, 4)));
    }

    public static string Ipv4(Random rng) => $"10.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(1, 255)}";

    public static string Ipv6(Random rng) => $"2001:db8:{rng.Next(1, 0xfff):x}::{rng.Next(1, 0xff):x}";

    private static string Evasive(Random rng, string value)
    {
        var sb = new StringBuilder();
        foreach (char c in value)
        {
            sb.Append(c is >= '0' and <= '9' && rng.Next(3) == 0 ? (char)(0xFF10 + (c - '0')) : c);
            if (rng.Next(6) == 0)
            {
                sb.Append('\u200B');
            }
        }

        return sb.ToString();
    }

    private static string D(Random rng, int n) => Chars(rng, "0123456789", n);

    private static string Chars(Random rng, string alphabet, int n)
    {
        var c = new char[n];
        for (int i = 0; i < n; i++)
        {
            c[i] = alphabet[rng.Next(alphabet.Length)];
        }

        return new string(c);
    }
}
