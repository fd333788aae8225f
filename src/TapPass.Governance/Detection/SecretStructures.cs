using static TapPass.Governance.Detection.SecretHeuristics;

namespace TapPass.Governance.Detection;

/// <summary>
/// Credentials with structure rather than a vendor prefix: PEM private keys, PuTTY keys, JWTs,
/// URIs with <c>user:password@</c> (or a password query parameter) and <c>mysql -p'…'</c>.
/// Each method is applied at an anchor position found by the prefilter and returns the candidate's end or -1.
/// </summary>
internal static class SecretStructures
{
    public const int PrivateKeyPriority = 100;
    public const int UriPriority = 90;
    public const int VendorPriority = 80;
    public const int JwtPriority = 75;
    public const int CliPasswordPriority = 55;
    private const int MaxPem = 64 * 1024;

    /// <summary>PEM private key: <c>-----BEGIN … PRIVATE KEY-----</c> through the END line, <c>\n</c> escapes included.</summary>
    public static bool TryPrivateKey(string text, int p, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan();
        const string Begin = "-----BEGIN ";
        var labelStart = p + Begin.Length;
        var labelLen = s[labelStart..].IndexOf("-----", StringComparison.Ordinal);
        if (labelLen is <= 0 or > 64) return false;
        var label = s.Slice(labelStart, labelLen);
        if (!label.Contains("PRIVATE KEY", StringComparison.Ordinal) || label.ContainsAny('\n', '\r')) return false;
        var bodyStart = labelStart + labelLen + 5;
        var window = s[bodyStart..Math.Min(s.Length, bodyStart + MaxPem)];
        var endAt = window.IndexOf("-----END ", StringComparison.Ordinal);
        var nextBegin = window.IndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (endAt >= 0 && (nextBegin < 0 || nextBegin > endAt))
        {
            var closeSearch = window[(endAt + 9)..];
            var close = closeSearch.IndexOf("-----", StringComparison.Ordinal);
            if (close is >= 0 and <= 64 && !closeSearch[..close].ContainsAny('\n', '\r'))
            {
                var body = window[..endAt];
                if (!BodyLooksReal(body)) return false;
                var end = bodyStart + endAt + 9 + close + 5;
                candidate = new SecretCandidate(p, end - p, "private_key", PrivateKeyPriority, 0.99);
                return true;
            }
        }

        // Truncated key (no END line): the header plus the base64 body as far as it goes.
        var i = bodyStart;
        var lastData = -1;
        var b64 = 0;
        while (i < s.Length && i - bodyStart < MaxPem)
        {
            var c = s[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=')
            {
                b64++;
                lastData = i;
                i++;
            }
            else if (c is ' ' or '\t' or '\n' or '\r')
            {
                i++;
            }
            else if (c == '\\' && i + 1 < s.Length && s[i + 1] is 'n' or 'r')
            {
                i += 2;
            }
            else
            {
                break;
            }
        }

        if (b64 < 64 || lastData < 0) return false;
        candidate = new SecretCandidate(p, lastData + 1 - p, "private_key", PrivateKeyPriority, 0.95);
        return true;
    }

    private static bool BodyLooksReal(ReadOnlySpan<char> body)
    {
        if (body.Contains("...", StringComparison.Ordinal) || body.Contains('…')) return false;
        var n = 0;
        foreach (var c in body)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/') n++;
        }

        return n >= 32;
    }

    /// <summary>PuTTY private key file, from its header through the Private-MAC line.</summary>
    public static bool TryPuttyKey(string text, int p, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan(p, Math.Min(text.Length - p, 16 * 1024));
        var mac = s.IndexOf("Private-MAC:", StringComparison.Ordinal);
        if (mac < 0 || s[..mac].IndexOf("Private-Lines:", StringComparison.Ordinal) < 0) return false;
        var i = mac + "Private-MAC:".Length;
        while (i < s.Length && s[i] == ' ') i++;
        var hexStart = i;
        while (i < s.Length && char.IsAsciiHexDigit(s[i])) i++;
        if (i - hexStart < 32) return false;
        candidate = new SecretCandidate(p, i, "private_key", PrivateKeyPriority, 0.99);
        return true;
    }

    /// <summary>JWT (or JWE): dot-separated base64url parts whose header decodes to a JSON object with alg/typ.</summary>
    public static bool TryJwt(string text, int p, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan();
        if (p > 0 && (char.IsAsciiLetterOrDigit(s[p - 1]) || s[p - 1] is '_' or '-')) return false;
        var i = p;
        var parts = 0;
        var headerLen = 0;
        var lastLen = 0;
        while (parts < 5)
        {
            var rest = s[i..];
            var len = rest.IndexOfAnyExcept(Base64Url);
            if (len < 0) len = rest.Length;
            if (parts == 0) headerLen = len;
            lastLen = len;
            parts++;
            i += len;
            if (i + 1 < s.Length && s[i] == '.' && Base64Url.Contains(s[i + 1])) i++;
            else break;
        }

        if (parts is not (3 or 5) || headerLen < 10 || lastLen < 8) return false;
        if (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] is '_' or '-')) return false;
        if (!HeaderIsJson(s.Slice(p, headerLen))) return false;
        var token = s[p..i];
        if (IsLowVarietyBody(token)) return false;
        candidate = new SecretCandidate(p, i - p, "jwt", JwtPriority, 0.95);
        return true;
    }

    private static bool HeaderIsJson(ReadOnlySpan<char> b64url)
    {
        if (b64url.Length > 1024) return false;
        Span<char> buf = stackalloc char[b64url.Length + 3];
        b64url.CopyTo(buf);
        for (var k = 0; k < b64url.Length; k++)
        {
            if (buf[k] == '-') buf[k] = '+';
            else if (buf[k] == '_') buf[k] = '/';
        }

        var n = b64url.Length;
        while (n % 4 != 0) buf[n++] = '=';
        Span<byte> bytes = stackalloc byte[n];
        if (!Convert.TryFromBase64Chars(buf[..n], bytes, out var written)) return false;
        var json = bytes[..written].TrimStart(" \t\r\n"u8);
        if (json.IsEmpty || json[0] != (byte)'{') return false;
        return json.IndexOf("\"alg\""u8) >= 0 || json.IndexOf("\"typ\""u8) >= 0 || json.IndexOf("\"enc\""u8) >= 0
               || json.IndexOf("\"kid\""u8) >= 0;
    }

    /// <summary>
    /// A URI with credentials around the <c>://</c> at <paramref name="p"/>: <c>scheme://user:pass@host…</c> or a
    /// password query parameter. The whole URI is the secret.
    /// </summary>
    public static bool TryCredentialUri(string text, int p, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan();

        // Scheme, possibly with a jdbc: prefix.
        var start = p;
        while (start > 0 && p - start < 32 && (char.IsAsciiLetterOrDigit(s[start - 1]) || s[start - 1] is '+' or '.' or '-')) start--;
        while (start < p && !char.IsAsciiLetter(s[start])) start++;
        if (start == p) return false;
        if (start >= 5 && s[(start - 5)..start].Equals("jdbc:", StringComparison.OrdinalIgnoreCase)) start -= 5;
        if (start > 0 && char.IsAsciiLetterOrDigit(s[start - 1])) return false;

        // Authority.
        var authStart = p + 3;
        var i = authStart;
        var limit = Math.Min(s.Length, authStart + 1024);
        var lastAt = -1;
        while (i < limit && !IsUriTerminator(s[i]) && s[i] is not '/' and not '?' and not '#')
        {
            if (s[i] == '@') lastAt = i;
            i++;
        }

        var authEnd = i;

        // Rest of the URI.
        while (i < limit && !IsUriTerminator(s[i])) i++;
        var end = TrimUriEnd(s, start, i);
        if (end <= authStart) return false;

        var hasCredential = false;
        if (lastAt > authStart)
        {
            var userInfo = s[authStart..lastAt];
            var colon = userInfo.IndexOf(':');
            if (colon >= 0 && colon < userInfo.Length - 1)
            {
                var pw = userInfo[(colon + 1)..];
                hasCredential = !IsStructuralPlaceholder(pw) && lastAt + 1 < end;
            }
        }

        if (!hasCredential && authEnd < end)
        {
            hasCredential = QueryHasPassword(s[authEnd..end]);
        }

        if (!hasCredential) return false;
        var kind = s[start..p].StartsWith("http", StringComparison.OrdinalIgnoreCase) ? "url_credentials" : "connection_string";
        candidate = new SecretCandidate(start, end - start, kind, UriPriority, 0.95);
        return true;
    }

    private static bool IsUriTerminator(char c) =>
        char.IsWhiteSpace(c) || c is '"' or '\'' or '<' or '>' or '`' or '\\' or '|' or '^' or '{' or '}';

    private static int TrimUriEnd(ReadOnlySpan<char> s, int start, int end)
    {
        while (end > start)
        {
            var c = s[end - 1];
            if (c is '.' or ',' or ';' or ':' or '!' or '?' or '*')
            {
                end--;
                continue;
            }

            if (c is ')' or ']')
            {
                var open = c == ')' ? '(' : '[';
                var inner = s[start..(end - 1)];
                if (inner.Count(open) < inner.Count(c) + 1)
                {
                    end--;
                    continue;
                }
            }

            break;
        }

        return end;
    }

    private static bool QueryHasPassword(ReadOnlySpan<char> rest)
    {
        ReadOnlySpan<string> names = ["password=", "passwd=", "pwd=", "pass="];
        foreach (var name in names)
        {
            var at = rest.IndexOf(name, StringComparison.OrdinalIgnoreCase);
            while (at >= 0)
            {
                if (at > 0 && rest[at - 1] is '?' or '&' or ';')
                {
                    var v = rest[(at + name.Length)..];
                    var e = v.IndexOfAny('&', '#');
                    if (e >= 0) v = v[..e];
                    if (v.Length >= 3 && !IsStructuralPlaceholder(v)) return true;
                }

                var next = rest[(at + 1)..].IndexOf(name, StringComparison.OrdinalIgnoreCase);
                at = next < 0 ? -1 : at + 1 + next;
            }
        }

        return false;
    }

    /// <summary>Template and mask shapes only (<c>${X}</c>, <c>&lt;pw&gt;</c>, <c>****</c>, <c>$VAR</c>, <c>%s</c>).</summary>
    public static bool IsStructuralPlaceholder(ReadOnlySpan<char> v)
    {
        if (v.IsEmpty || DistinctChars(v) == 1) return true;
        if (v[0] == '$' || v[0] == '%' || v[0] == '<' || v[0] == '[' || v[0] == '{') return true;
        if (v.Contains("{{", StringComparison.Ordinal) || v.Contains("${", StringComparison.Ordinal)
            || v.Contains("***", StringComparison.Ordinal) || v.Contains("xxx", StringComparison.OrdinalIgnoreCase)
            || v.Contains("...", StringComparison.Ordinal) || v.Contains("%3C", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return v.Equals("YOUR_PASSWORD", StringComparison.OrdinalIgnoreCase) || v.Equals("<password>", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>mysql -u root -p'…'</c>, <c>-pSecret</c>, <c>sshpass -p '…'</c> on a MySQL/MariaDB/sshpass command line.</summary>
    public static bool TryCliPassword(string text, int p, out SecretCandidate candidate)
    {
        candidate = default;
        var s = text.AsSpan();
        if (p == 0 || !(s[p - 1] is ' ' or '\t')) return false;
        var lineStart = s[..p].LastIndexOfAny('\n', '\r') + 1;
        var lineEndRel = s[p..].IndexOfAny('\n', '\r');
        var line = s[lineStart..(lineEndRel < 0 ? s.Length : p + lineEndRel)];
        var sshpass = line.Contains("sshpass", StringComparison.OrdinalIgnoreCase);
        if (!sshpass && !line.Contains("mysql", StringComparison.OrdinalIgnoreCase)
            && !line.Contains("mariadb", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var i = p + 2;
        if (i >= s.Length) return false;
        if (s[i] is ' ' or '\t')
        {
            if (!sshpass) return false;
            while (i < s.Length && s[i] is ' ' or '\t') i++;
            if (i >= s.Length) return false;
        }

        int vStart, vEnd;
        if (s[i] is '\'' or '"')
        {
            var close = s[(i + 1)..].IndexOf(s[i]);
            if (close <= 0 || close > 256) return false;
            vStart = i + 1;
            vEnd = vStart + close;
        }
        else
        {
            if (s[i] == '-') return false;
            vStart = i;
            vEnd = i;
            while (vEnd < s.Length && !char.IsWhiteSpace(s[vEnd]) && vEnd - vStart < 256) vEnd++;
        }

        var v = s[vStart..vEnd];
        if (v.Length < 3 || IsPlaceholderOrReference(v, checkSequences: false)) return false;
        if (v.Length <= 5 && !v.ContainsAnyExceptInRange('0', '9')) return false; // -P3306-style port confusion
        candidate = new SecretCandidate(vStart, vEnd - vStart, "password", CliPasswordPriority, 0.85);
        return true;
    }
}
