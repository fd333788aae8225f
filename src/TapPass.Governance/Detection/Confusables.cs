namespace TapPass.Governance.Detection;

/// <summary>
/// Cyrillic, Greek and Armenian letters that look like Latin letters (a conservative subset of the
/// Unicode confusables list: only letters that are near-identical in common fonts).
/// </summary>
internal static class Confusables
{
    private const int First = 0x0370;
    private const int Last = 0x058F;

    private static readonly char[] s_table = Build();

    /// <summary>The Latin letter <paramref name="cp"/> imitates, or -1.</summary>
    public static int ToLatin(int cp)
    {
        if (cp < First || cp > Last)
        {
            return -1;
        }

        char c = s_table[cp - First];
        return c == '\0' ? -1 : c;
    }

    private static char[] Build()
    {
        var t = new char[Last - First + 1];
        void Map(int cp, char latin) => t[cp - First] = latin;

        // Greek capitals and a few lower-case letters.
        Map(0x0391, 'A'); Map(0x0392, 'B'); Map(0x0395, 'E'); Map(0x0396, 'Z'); Map(0x0397, 'H');
        Map(0x0399, 'I'); Map(0x039A, 'K'); Map(0x039C, 'M'); Map(0x039D, 'N'); Map(0x039F, 'O');
        Map(0x03A1, 'P'); Map(0x03A4, 'T'); Map(0x03A5, 'Y'); Map(0x03A7, 'X');
        Map(0x03B1, 'a'); Map(0x03B9, 'i'); Map(0x03BA, 'k'); Map(0x03BD, 'v'); Map(0x03BF, 'o');
        Map(0x03C1, 'p'); Map(0x03C5, 'u'); Map(0x03F3, 'j');

        // Cyrillic capitals.
        Map(0x0405, 'S'); Map(0x0406, 'I'); Map(0x0408, 'J'); Map(0x0410, 'A'); Map(0x0412, 'B');
        Map(0x0415, 'E'); Map(0x041A, 'K'); Map(0x041C, 'M'); Map(0x041D, 'H'); Map(0x041E, 'O');
        Map(0x0420, 'P'); Map(0x0421, 'C'); Map(0x0422, 'T'); Map(0x0423, 'Y'); Map(0x0425, 'X');
        Map(0x04AE, 'Y'); Map(0x04C0, 'I'); Map(0x051A, 'Q'); Map(0x051C, 'W');

        // Cyrillic lower case.
        Map(0x0430, 'a'); Map(0x0435, 'e'); Map(0x043A, 'k'); Map(0x043E, 'o'); Map(0x0440, 'p');
        Map(0x0441, 'c'); Map(0x0443, 'y'); Map(0x0445, 'x'); Map(0x0455, 's'); Map(0x0456, 'i');
        Map(0x0458, 'j'); Map(0x04BB, 'h'); Map(0x04CF, 'l'); Map(0x0501, 'd'); Map(0x051B, 'q');
        Map(0x051D, 'w');

        // Armenian.
        Map(0x0570, 'h'); Map(0x0578, 'n'); Map(0x057D, 'u'); Map(0x0585, 'o');
        return t;
    }
}
