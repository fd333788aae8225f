using System.Text;

namespace TapPass.Governance.Detection;

/// <summary>What the streaming masker does with an entity of a given type.</summary>
internal enum StreamingAction
{
    /// <summary>Replace it (<c>[MASKED_&lt;TYPE&gt;]</c> or <c>[REDACTED]</c>).</summary>
    Mask,

    /// <summary>Stop the stream before any of it is emitted.</summary>
    Block,

    /// <summary>Let it through unchanged (the policy only flags it).</summary>
    Keep,
}

/// <summary>Text released by one call of the streaming masker.</summary>
/// <param name="Text">Masked text safe to send; may be empty.</param>
/// <param name="Blocked">True once a blocking entity was found: nothing of it was emitted and nothing more will be.</param>
internal readonly record struct StreamingOutput(string Text, bool Blocked);

/// <summary>
/// Incremental output scanner. Fed chunks of a streamed answer, it releases only text that can no
/// longer become part of an entity, masked exactly as <see cref="Masker"/> masks the whole text.
/// <para>
/// It holds back the shortest tail that could still grow into a match: the trailing word (any word can
/// become an e-mail, a key, an address), extended backwards over digit groups joined by single spaces
/// (phone, card, SSN and IBAN groups such as <c>+32 470 12 34</c>), over <c>Key=Value;</c> tokens and
/// the key words before them (connection strings such as <c>Data Source=…; User Id=…</c>), and from an
/// unterminated <c>-----BEGIN</c> line. Entities are assumed never to span a line break or more than two
/// spaces, except PEM blocks. The look-ahead is bounded: at most <see cref="MaxHoldBack"/> characters are held; when the
/// tail grows beyond that, the oldest text is released anyway (entities already complete are masked
/// whole). So a value split across chunks is masked exactly as when unsplit whenever the value is at most
/// <see cref="MaxHoldBack"/> characters long. A private-key PEM block longer than the bound fails closed:
/// <c>[REDACTED]</c> is emitted at its <c>-----BEGIN</c> line and everything up to the end of its
/// <c>-----END … -----</c> line is dropped (which equals the whole-text masking when the block is complete).
/// </para>
/// <para>
/// Detectors read up to <see cref="ContextChars"/> characters of already-released text as left context
/// (keywords such as "SKU" or "version", URL user-info), so decisions match the whole-text scan.
/// Not thread-safe: one instance per stream.
/// </para>
/// </summary>
internal sealed class StreamingMasker
{
    /// <summary>Most characters held back at any time (the look-ahead bound).</summary>
    public const int MaxHoldBack = 512;

    /// <summary>Characters of released text kept as left context for the detectors.</summary>
    public const int ContextChars = 256;

    /// <summary>
    /// Fewest characters of released text kept as context (once that much was released): more than the farthest
    /// any detector looks back from a candidate (<see cref="Pii.ContextKeywords.MaxTableLookBack"/>, a table header),
    /// so a decision that depends on earlier text is the same as in the whole text.
    /// </summary>
    public const int MinContextChars = Pii.ContextKeywords.MaxTableLookBack + 8;

    private const int MaxChain = 96;
    private const int MaxGroupToken = 34;
    private const int MaxJoinSpaces = 2;
    private const int MaxKeyWords = 2;
    private const int PemEndTail = 96;

    private readonly ContentScanner _scanner;
    private readonly Func<Finding, StreamingAction> _policy;
    private readonly StringBuilder _pending = new();
    private readonly List<Redaction> _redactions = [];
    private readonly List<Finding> _findings = [];
    private readonly List<Finding> _candidates = [];
    private readonly List<string> _blockingTypes = [];
    private string _context = string.Empty;
    private long _consumed;
    private bool _inPrivateKey;
    private long _privateKeyStart;
    private bool _blocked;

    /// <summary>Creates a masker that masks every entity.</summary>
    public StreamingMasker(ContentScanner scanner)
        : this(scanner, static _ => StreamingAction.Mask)
    {
    }

    /// <summary>Creates a masker whose <paramref name="policy"/> decides per finding: mask, block or keep.</summary>
    public StreamingMasker(ContentScanner scanner, Func<Finding, StreamingAction> policy)
    {
        ArgumentNullException.ThrowIfNull(scanner);
        ArgumentNullException.ThrowIfNull(policy);
        _scanner = scanner;
        _policy = policy;
    }

    /// <summary>True once a blocking entity was found.</summary>
    public bool IsBlocked => _blocked;

    /// <summary>Types of the entities that blocked the stream (empty unless <see cref="IsBlocked"/>).</summary>
    public IReadOnlyList<string> BlockingTypes => _blockingTypes;

    /// <summary>Replacements made so far (never the values).</summary>
    public IReadOnlyList<Redaction> Redactions => _redactions;

    /// <summary>Entities found so far, with offsets into the whole streamed text (UTF-16 code units).</summary>
    public IReadOnlyList<Finding> Findings => _findings;

    /// <summary>Number of characters currently held back.</summary>
    public int HeldBack => _pending.Length;

    /// <summary>Adds a chunk of the stream and returns the text that can be released now.</summary>
    public StreamingOutput Write(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (_blocked)
        {
            return new StreamingOutput(string.Empty, true);
        }

        _pending.Append(chunk);
        return Process(final: false);
    }

    /// <summary>Ends the stream: releases everything still held, masked.</summary>
    public StreamingOutput Flush()
    {
        if (_blocked)
        {
            return new StreamingOutput(string.Empty, true);
        }

        return Process(final: true);
    }

    private StreamingOutput Process(bool final)
    {
        var output = new StringBuilder();
        while (true)
        {
            if (_inPrivateKey)
            {
                if (!SkipPrivateKey(final))
                {
                    break;
                }

                continue;
            }

            if (!final && _pending.Length <= MaxHoldBack && !ContainsWhiteSpace(_pending))
            {
                break; // one growing word: all of it is held, nothing to scan yet
            }

            string s = _context + _pending.ToString();
            int ctx = _context.Length;
            _candidates.Clear();
            IReadOnlyList<Finding> found = _scanner.FindEntities(s, _candidates);
            int h = final ? s.Length : HoldBackStart(s, ctx);
            bool openPrivateKey = false;
            if (!final)
            {
                // No candidate may straddle the cut, not even one an overlapping finding displaces for now:
                // more text can invalidate the finding that displaced it (a card that grows a 17th digit).
                for (bool moved = true; moved;)
                {
                    moved = false;
                    foreach (Finding f in _candidates)
                    {
                        if (f.Start < h && f.End > h)
                        {
                            h = f.Start;
                            moved = true;
                        }
                    }
                }

                if (s.Length - h > MaxHoldBack)
                {
                    int forced = s.Length - MaxHoldBack;
                    int pem = IndexOfOpenPrivateKey(s, Math.Max(ctx, h));
                    if (pem >= 0 && pem < forced)
                    {
                        h = pem;
                        openPrivateKey = true;
                    }
                    else
                    {
                        h = forced;
                        foreach (Finding f in found)
                        {
                            if (f.Start < h && f.End > h)
                            {
                                h = f.End < s.Length ? f.End : f.Start;
                            }
                        }
                    }
                }

                if (h > 0 && h < s.Length && char.IsLowSurrogate(s[h]) && char.IsHighSurrogate(s[h - 1]))
                {
                    h--;
                }
            }

            h = Math.Max(h, ctx);
            if (Emit(s, ctx, h, found, output))
            {
                return new StreamingOutput(output.ToString(), true);
            }

            if (openPrivateKey)
            {
                output.Append(Masker.SecretReplacement);
                _redactions.Add(new Redaction(EntityTypes.Secret, Masker.SecretReplacement));
                _privateKeyStart = _consumed;
                _inPrivateKey = true;
                continue;
            }

            break;
        }

        return new StreamingOutput(output.ToString(), false);
    }

    private static bool ContainsWhiteSpace(StringBuilder sb)
    {
        foreach (ReadOnlyMemory<char> chunk in sb.GetChunks())
        {
            foreach (char c in chunk.Span)
            {
                if (char.IsWhiteSpace(c))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Releases s[ctx..h), masked; returns true when a blocking entity stopped the stream.</summary>
    private bool Emit(string s, int ctx, int h, IReadOnlyList<Finding> found, StringBuilder output)
    {
        int pos = ctx;
        foreach (Finding f in found)
        {
            if (f.End <= ctx)
            {
                continue; // already released as context
            }

            if (f.Start >= h)
            {
                break;
            }

            StreamingAction action = _policy(f);
            if (action == StreamingAction.Block)
            {
                int upTo = Math.Max(f.Start, ctx);
                output.Append(s, pos, upTo - pos);
                _consumed += upTo - ctx;
                _blocked = true;
                _blockingTypes.Add(f.Type);
                _pending.Clear();
                return true;
            }

            // A finding that starts in released text can only come from a hold-back miss: fail closed.
            int start = Math.Max(f.Start, ctx);
            _findings.Add(f with { Start = (int)Math.Min(_consumed + (start - ctx), int.MaxValue), Length = f.End - start });
            if (action == StreamingAction.Keep)
            {
                continue;
            }

            string replacement = Masker.ReplacementFor(f.Type);
            output.Append(s, pos, start - pos).Append(replacement);
            _redactions.Add(new Redaction(f.Type, replacement));
            pos = f.End;
        }

        if (pos < h)
        {
            output.Append(s, pos, h - pos);
        }

        int released = h - ctx;
        _consumed += released;
        _pending.Remove(0, released);
        _context = ContextTail(s, h);
        return false;
    }

    /// <summary>Drops the body of an open private-key block; returns true when its end was found.</summary>
    private bool SkipPrivateKey(bool final)
    {
        string p = _pending.ToString();
        int end = IndexAfterPemEnd(p);
        if (end < 0)
        {
            int keep = final ? 0 : Math.Min(p.Length, PemEndTail);
            int drop = p.Length - keep;
            _pending.Remove(0, drop);
            _consumed += drop;
            return false;
        }

        _pending.Remove(0, end);
        _consumed += end;
        _context = ContextTail(p, end);
        _inPrivateKey = false;
        _findings.Add(new Finding(
            EntityTypes.Secret,
            (int)Math.Min(_privateKeyStart, int.MaxValue),
            (int)Math.Min(_consumed - _privateKeyStart, int.MaxValue),
            1.0,
            "private_key"));
        return true;
    }

    /// <summary>Start of the tail of <paramref name="s"/> that could still become (part of) an entity.</summary>
    internal static int HoldBackStart(string s, int floor)
    {
        int end = s.Length;
        int h = end;
        while (h > floor && !char.IsWhiteSpace(s[h - 1]))
        {
            h--;
        }

        int chainFloor = Math.Max(floor, end - MaxChain);
        int keyWords = 0;
        while (h > chainFloor)
        {
            int sep = h;
            while (sep > floor && IsHorizontalSpace(s[sep - 1]))
            {
                sep--;
            }

            if (sep == h || h - sep > MaxJoinSpaces || sep == floor || char.IsWhiteSpace(s[sep - 1]))
            {
                break; // a line break, a wider gap or the start: no entity spans it
            }

            int ts = sep;
            while (ts > floor && !char.IsWhiteSpace(s[ts - 1]))
            {
                ts--;
            }

            ReadOnlySpan<char> prev = s.AsSpan(ts, sep - ts);
            bool join = IsDigitGroup(prev) || prev.ContainsAny('=', ';');
            if (!join && keyWords < MaxKeyWords && IsWord(prev) && FirstTokenHasKey(s, h))
            {
                keyWords++;
                join = true;
            }

            if (!join)
            {
                // An entity can start inside the previous token after punctuation ("Order.BE57 2706…"):
                // hold its digit-group-like suffix, and stop there.
                int k = sep;
                while (k > ts && sep - k < MaxGroupToken)
                {
                    int width = k - 1 > ts && char.IsLowSurrogate(s[k - 1]) && char.IsHighSurrogate(s[k - 2]) ? 2 : 1;
                    if (!IsGroupCodePoint(width == 2 ? char.ConvertToUtf32(s[k - 2], s[k - 1]) : s[k - 1]))
                    {
                        break;
                    }

                    k -= width;
                }

                if (k < sep && IsDigitGroup(s.AsSpan(k, sep - k)))
                {
                    h = k;
                }

                break;
            }

            h = ts;
        }

        int begin = s.AsSpan(floor).LastIndexOf("-----BEGIN", StringComparison.Ordinal);
        if (begin >= 0 && !HasClosedPemEnd(s.AsSpan(floor + begin)))
        {
            h = Math.Min(h, floor + begin);
        }

        return h;
    }

    // Digit groups and IBAN/phone/card pieces: "0470", "(0)", "+32", "12-34", "49HP", "ABNA",
    // "4111-1111-1111-1111" (a detector may look at the group after it), judged on the
    // detection view so that full-width digits and zero-width characters count as the detectors see them.
    private static bool IsDigitGroup(ReadOnlySpan<char> token)
    {
        if (!System.Text.Ascii.IsValid(token))
        {
            if (token.Length > 64)
            {
                return false;
            }

            token = TextNormalizer.Normalize(token.ToString()).View;
        }

        if (token.Length is 0 or > MaxGroupToken)
        {
            return false;
        }

        bool digit = false;
        foreach (char c in token)
        {
            if (c is >= '0' and <= '9')
            {
                digit = true;
            }
            else if (c is not ((>= 'A' and <= 'Z') or '(' or ')' or '+' or '.' or '/' or '-'))
            {
                return false;
            }
        }

        return digit || (token.Length <= 4 && !token.ContainsAnyExceptInRange('A', 'Z'));
    }

    // A code point whose detection view is a digit-group character (or nothing): ASCII digits, capitals
    // and separators, other digits (full-width, mathematical), full-width capitals, dashes, invisibles.
    private static bool IsGroupCodePoint(int cp)
    {
        if (cp < 0x80)
        {
            return cp is (>= '0' and <= '9') or (>= 'A' and <= 'Z') or '(' or ')' or '+' or '.' or '/' or '-';
        }

        return TextNormalizer.IsInvisible(cp)
            || cp is (>= 0xFF21 and <= 0xFF3A) or (>= 0x2010 and <= 0x2013) or 0x2212 or 0xFF0D or 0xFF0E
            || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp) == System.Globalization.UnicodeCategory.DecimalDigitNumber;
    }

    private static bool IsWord(ReadOnlySpan<char> token)
    {
        if (token.Length is 0 or > 24)
        {
            return false;
        }

        foreach (char c in token)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool FirstTokenHasKey(string s, int start)
    {
        int end = start;
        while (end < s.Length && !char.IsWhiteSpace(s[end]))
        {
            end++;
        }

        return s.AsSpan(start, end - start).Contains('=');
    }

    private static bool IsHorizontalSpace(char c) => c is ' ' or '\t' || (c > 0x7F && char.IsWhiteSpace(c) && c is not ('\u0085' or '\u2028' or '\u2029'));

    /// <summary>Index of an unterminated private-key <c>-----BEGIN … PRIVATE KEY…-----</c> at or after <paramref name="from"/>, or -1.</summary>
    private static int IndexOfOpenPrivateKey(string s, int from)
    {
        ReadOnlySpan<char> span = s.AsSpan(from);
        int begin = span.LastIndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (begin < 0)
        {
            return -1;
        }

        ReadOnlySpan<char> header = span[(begin + 11)..];
        int close = header.IndexOf("-----", StringComparison.Ordinal);
        if (close < 0 || close > 64 || !header[..close].Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            return -1;
        }

        return HasClosedPemEnd(span[begin..]) ? -1 : from + begin;
    }

    /// <summary>
    /// True when <paramref name="s"/> holds a complete <c>-----END … -----</c> marker. A marker cut by a chunk boundary
    /// (<c>-----END RSA PRI</c>) does not end the block yet: releasing it then would mask the block twice.
    /// </summary>
    private static bool HasClosedPemEnd(ReadOnlySpan<char> s)
    {
        int end = s.IndexOf("-----END", StringComparison.Ordinal);
        return end >= 0 && s[(end + 8)..].IndexOf("-----", StringComparison.Ordinal) >= 0;
    }

    /// <summary>Index just after the <c>-----END … -----</c> marker in <paramref name="s"/>, or -1.</summary>
    private static int IndexAfterPemEnd(string s)
    {
        int end = s.IndexOf("-----END", StringComparison.Ordinal);
        if (end < 0)
        {
            return -1;
        }

        int close = s.IndexOf("-----", end + 8, StringComparison.Ordinal);
        return close < 0 ? -1 : close + 5;
    }

    /// <summary>
    /// The last <see cref="ContextChars"/> characters of s[..end], cut after a whitespace when possible, but never
    /// fewer than <see cref="MinContextChars"/>.
    /// </summary>
    private static string ContextTail(string s, int end)
    {
        int from = Math.Max(0, end - ContextChars);
        if (from > 0)
        {
            // Cut after a line break, or after a space that does not continue a run of digit groups, so
            // the detectors see the context's first token whole, as they do in the whole text.
            int cut = -1;
            int cutLimit = Math.Min(end, end - MinContextChars);
            for (int i = from; i < cutLimit && cut < 0; i++)
            {
                char c = s[i];
                if (c is '\n' or '\r')
                {
                    cut = i + 1;
                }
                else if (c is ' ' or '\t')
                {
                    int ts = i;
                    while (ts > from && !char.IsWhiteSpace(s[ts - 1]))
                    {
                        ts--;
                    }

                    if (!IsDigitGroup(s.AsSpan(ts, i - ts)))
                    {
                        cut = i + 1;
                    }
                }
            }

            from = cut >= 0 ? cut : from;
            if (from < end && char.IsLowSurrogate(s[from]))
            {
                from++;
            }
        }

        return s.Substring(from, end - from);
    }
}
