namespace TapPass.Governance.Detection;

/// <summary>
/// A text and its detection view (see <see cref="TextNormalizer"/>), with the map from view offsets
/// back to offsets in the original (UTF-16 code units).
/// </summary>
internal sealed class NormalizedText
{
    // For view char i: the original range [_starts[i], _ends[i]) it was produced from.
    // Several view chars may share one source range (an expansion such as "ﬁ" -> "fi"); a removed
    // invisible character has no view char, so a span crossing it covers it in the original.
    private readonly int[]? _starts;
    private readonly int[]? _ends;

    /// <summary>Identity view: the text is already its own detection view (pure ASCII).</summary>
    internal NormalizedText(string original)
    {
        Original = original;
        View = original;
    }

    internal NormalizedText(string original, string view, int[] starts, int[] ends)
    {
        Original = original;
        View = view;
        _starts = starts;
        _ends = ends;
    }

    /// <summary>The text as written.</summary>
    public string Original { get; }

    /// <summary>The normalised text the detectors read.</summary>
    public string View { get; }

    /// <summary>True when the view is the original itself and offsets need no mapping.</summary>
    public bool IsIdentity => _starts is null;

    /// <summary>
    /// Maps the view span [<paramref name="viewStart"/>, <paramref name="viewStart"/> + <paramref name="viewLength"/>)
    /// to the original span that produced it: from the start of the source of its first char to the end of the
    /// source of its last char, so invisible characters removed inside the span are covered.
    /// </summary>
    public (int Start, int Length) ToOriginal(int viewStart, int viewLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(viewStart);
        ArgumentOutOfRangeException.ThrowIfNegative(viewLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(viewStart + viewLength, View.Length, nameof(viewLength));
        if (_starts is null || _ends is null)
        {
            return (viewStart, viewLength);
        }

        if (viewLength == 0)
        {
            int at = viewStart < _starts.Length ? _starts[viewStart] : Original.Length;
            return (at, 0);
        }

        int start = _starts[viewStart];
        int end = _ends[viewStart + viewLength - 1];
        return (start, end - start);
    }

    /// <summary>Maps a finding in view coordinates to original coordinates.</summary>
    public Finding ToOriginal(Finding finding)
    {
        if (IsIdentity)
        {
            return finding;
        }

        var (start, length) = ToOriginal(finding.Start, finding.Length);
        return finding with { Start = start, Length = length };
    }
}
