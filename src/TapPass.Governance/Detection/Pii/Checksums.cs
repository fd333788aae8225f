namespace TapPass.Governance.Detection.Pii;

/// <summary>Check-digit algorithms used to validate candidates.</summary>
internal static class Checksums
{
    /// <summary>Luhn (mod 10) over the ASCII digits of <paramref name="text"/>; other characters are skipped.</summary>
    public static bool Luhn(ReadOnlySpan<char> text)
    {
        int sum = 0;
        int count = 0;
        bool dbl = false;
        for (int i = text.Length - 1; i >= 0; i--)
        {
            int d = text[i] - '0';
            if ((uint)d > 9)
            {
                continue;
            }

            if (dbl)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            dbl = !dbl;
            count++;
        }

        return count > 1 && sum % 10 == 0;
    }

    /// <summary>
    /// ISO 13616 mod-97 check of a compact IBAN (upper-case letters and digits, no spaces):
    /// the country code and check digits move to the end, letters become 10..35, the number mod 97 must be 1.
    /// </summary>
    public static bool IbanMod97(ReadOnlySpan<char> compact)
    {
        if (compact.Length < 5)
        {
            return false;
        }

        int rem = 0;
        for (int k = 0; k < compact.Length; k++)
        {
            char c = compact[(k + 4) % compact.Length];
            if (c is >= '0' and <= '9')
            {
                rem = ((rem * 10) + (c - '0')) % 97;
            }
            else if (c is >= 'A' and <= 'Z')
            {
                rem = ((rem * 100) + (c - 'A' + 10)) % 97;
            }
            else
            {
                return false;
            }
        }

        return rem == 1;
    }
}
