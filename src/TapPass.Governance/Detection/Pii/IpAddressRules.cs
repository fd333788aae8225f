namespace TapPass.Governance.Detection.Pii;

/// <summary>
/// Validation of IP address candidates: IPv4 dotted quads outside version, build and section
/// contexts, and IPv6 in every textual form of RFC 4291 (full, <c>::</c>-compressed, IPv4-embedded).
/// </summary>
internal static class IpAddressRules
{
    private const int ContextDistance = 40;

    private static readonly ContextKeywords s_context = new(
        supporting:
        [
            "ip", "ips", "ipv", "ipaddress", "address", "addresses", "addr", "adres", "adresse", "host", "hosts",
            "hostname", "server", "servers", "client", "router", "gateway", "gw", "bastion", "proxy", "dns",
            "nameserver", "resolver", "ping", "ssh", "connect", "connected", "connection", "refused", "peer", "remote",
            "forwarded", "blocklist", "blacklist", "allowlist", "whitelist", "firewall", "subnet", "netmask", "listen",
            "listening", "bind", "inet", "src", "dst", "source", "destination", "endpoint", "node", "lan", "wan", "vpn",
            "nat", "dhcp", "attacker", "ipadres", "ipadresse", "rdp", "smtp", "http", "https", "tcp", "udp",
        ],
        refuting:
        [
            "*version", "versions", "ver", "v", "build", "builds", "release", "releases", "released", "rel", "section",
            "sections", "sect", "chapter", "clause", "article", "paragraph", "para", "driver", "drivers", "firmware",
            "fw", "bios", "kernel", "chrome", "chromium", "firefox", "safari", "edge", "opera", "msie", "gecko",
            "webkit", "applewebkit", "latest", "upgrade", "upgraded", "downgrade", "patch", "hotfix", "sdk", "runtime",
            "nuget", "package", "assembly", "rev", "revision", "edition", "oid", "changelog", "tag", "semver",
            "versie", "fassung", "abschnitt", "hoofdstuk", "kapitel", "artikel", "paragraaf",
        ]);

    /// <summary>Score of an IPv4 candidate (four dot-separated groups of 1–3 digits), or 0.</summary>
    public static double EvaluateV4(string text, int start, int length)
    {
        ReadOnlySpan<char> s = text.AsSpan(start, length);
        int value = 0;
        int digitsInOctet = 0;
        foreach (char c in s)
        {
            if (c == '.')
            {
                if (digitsInOctet == 0 || value > 255)
                {
                    return 0;
                }

                value = 0;
                digitsInOctet = 0;
                continue;
            }

            value = (value * 10) + (c - '0');
            digitsInOctet++;
        }

        if (digitsInOctet == 0 || value > 255)
        {
            return 0;
        }

        // "Chrome/120.0.0.1", "Mozilla/5.0.0.1": a product token, not a URL ("//10.0.0.1").
        if (start >= 2 && text[start - 1] == '/' && char.IsAsciiLetterOrDigit(text[start - 2]))
        {
            return 0;
        }

        return s_context.Nearest(text, start, ContextDistance) == ContextVerdict.Refutes ? 0 : 0.9;
    }

    /// <summary>
    /// Finds the IPv6 address in the run [<paramref name="start"/>, <paramref name="end"/>) of hex
    /// digits, colons and dots, trimming a trailing sentence dot or a single trailing colon.
    /// Returns the length of the address from <paramref name="start"/>, or 0.
    /// </summary>
    public static int MatchV6(string text, int start, int end)
    {
        ReadOnlySpan<char> run = text.AsSpan(start, end - start);
        while (run.Length > 0 && run[^1] == '.')
        {
            run = run[..^1];
        }

        if (run.Length >= 2 && run[^1] == ':' && run[^2] != ':')
        {
            run = run[..^1];
        }

        return IsValidV6(run) ? run.Length : 0;
    }

    /// <summary>
    /// True for a textual IPv6 address (RFC 4291 §2.2) that contains a decimal digit (so that
    /// <c>a::b</c> and other scope operators in code are not addresses).
    /// </summary>
    public static bool IsValidV6(ReadOnlySpan<char> s)
    {
        if (s.Length is < 3 or > 45 || !s.ContainsAnyInRange('0', '9'))
        {
            return false;
        }

        int dbl = s.IndexOf("::");
        if (dbl >= 0 && s[(dbl + 1)..].IndexOf("::") >= 0)
        {
            return false;
        }

        int groups;
        if (dbl < 0)
        {
            if (!ParseGroups(s, out groups, out _))
            {
                return false;
            }

            return groups == 8;
        }

        ReadOnlySpan<char> head = s[..dbl];
        ReadOnlySpan<char> tail = s[(dbl + 2)..];
        int headGroups = 0;
        if (head.Length > 0 && (!ParseGroups(head, out headGroups, out bool headV4) || headV4))
        {
            return false;
        }

        int tailGroups = 0;
        if (tail.Length > 0 && !ParseGroups(tail, out tailGroups, out _))
        {
            return false;
        }

        return headGroups + tailGroups <= 7;
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    // Colon-separated groups of 1-4 hex digits; the last may be an IPv4 dotted quad (counts as 2).
    private static bool ParseGroups(ReadOnlySpan<char> s, out int groups, out bool endsWithV4)
    {
        groups = 0;
        endsWithV4 = false;
        while (true)
        {
            int colon = s.IndexOf(':');
            ReadOnlySpan<char> part = colon < 0 ? s : s[..colon];
            if (colon < 0 && part.Contains('.'))
            {
                if (!IsDottedQuad(part))
                {
                    return false;
                }

                groups += 2;
                endsWithV4 = true;
                return true;
            }

            if (part.Length is 0 or > 4 || part.ContainsAnyExcept(HexDigits))
            {
                return false;
            }

            groups++;
            if (colon < 0)
            {
                return true;
            }

            s = s[(colon + 1)..];
        }
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> s)
    {
        int parts = 0;
        foreach (Range r in s.Split('.'))
        {
            ReadOnlySpan<char> p = s[r];
            if (p.Length is 0 or > 3 || p.ContainsAnyExceptInRange('0', '9') || int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }

            parts++;
        }

        return parts == 4;
    }
}
