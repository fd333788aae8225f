using System.Diagnostics;

namespace TapPass.Governance.Detection;

/// <summary>Options of <see cref="ContentScanner"/>.</summary>
internal sealed class ContentScannerOptions
{
    /// <summary>Longest text accepted, in UTF-16 code units. Default 8 Mi (the gateway caps bodies at 5 MiB).</summary>
    public int MaxTextLength { get; set; } = 8 * 1024 * 1024;

    /// <summary>Injection score at or above which <see cref="ScanResult.IsInjection"/> is true. Default 0.5.</summary>
    public double InjectionThreshold { get; set; } = 0.5;

    /// <summary>Markers and internal domains for classification.</summary>
    public DataClassifierOptions Classification { get; } = new();
}

/// <summary>The outcome of scanning one text. Offsets are UTF-16 code units into the original text.</summary>
/// <param name="Findings">Entities, sorted by start, non-overlapping (outer entities win).</param>
/// <param name="Classification">The text's sensitivity.</param>
/// <param name="Injection">The injection detector's verdict (<see cref="InjectionResult.None"/> without a detector).</param>
/// <param name="IsInjection">Whether the injection score reaches the configured threshold.</param>
/// <param name="Exfiltration">Exfiltration findings (empty without a detector).</param>
internal sealed record ScanResult(
    IReadOnlyList<Finding> Findings,
    DataClassification Classification,
    InjectionResult Injection,
    bool IsInjection,
    IReadOnlyList<ExfiltrationResult> Exfiltration);

/// <summary>
/// Scans a text: builds its detection view (<see cref="TextNormalizer"/>), runs the entity detectors on
/// the view, removes overlaps (the outer entity wins), maps findings back to the original text, classifies,
/// and runs the injection and exfiltration detectors on the view. Thread-safe.
/// </summary>
internal sealed class ContentScanner
{
    [ThreadStatic]
    private static List<Finding>? t_scratch;

    private readonly IEntityDetector[] _detectors;
    private readonly IInjectionDetector? _injection;
    private readonly IExfiltrationDetector? _exfiltration;
    private readonly DataClassifier _classifier;
    private readonly ContentScannerOptions _options;

    public ContentScanner(
        IEnumerable<IEntityDetector> detectors,
        IInjectionDetector? injection,
        IExfiltrationDetector? exfiltration,
        ContentScannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(detectors);
        TextNormalizer.EnsureNfkcAvailable();
        _detectors = [.. detectors];
        foreach (var d in _detectors)
        {
            ArgumentNullException.ThrowIfNull(d, nameof(detectors));
        }

        _injection = injection;
        _exfiltration = exfiltration;
        _options = options ?? new ContentScannerOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxTextLength);
        if (_options.InjectionThreshold is < 0 or > 1 || double.IsNaN(_options.InjectionThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "InjectionThreshold must be within 0..1.");
        }

        _classifier = new DataClassifier(_options.Classification);
    }

    /// <summary>Whether an injection detector is configured.</summary>
    public bool HasInjectionDetector => _injection is not null;

    /// <summary>The configured entity detectors.</summary>
    public IReadOnlyList<IEntityDetector> Detectors => _detectors;

    /// <summary>Scans <paramref name="text"/> with every configured detector.</summary>
    public ScanResult Scan(string text) => Scan(text, timings: null);

    /// <summary>
    /// Scans <paramref name="text"/> and, when <paramref name="timings"/> is given, records the time each pipeline step
    /// took (Stopwatch ticks, keyed by step name: <c>normalize_input</c>, <c>detect_pii</c>, <c>detect_secrets</c>,
    /// <c>classify_data</c>, <c>detect_injection</c>, <c>detect_exfiltration</c>).
    /// </summary>
    public ScanResult Scan(string text, IDictionary<string, long>? timings)
    {
        long t0 = Stopwatch.GetTimestamp();
        NormalizedText normalized = Normalize(text);
        Record(timings, "normalize_input", ref t0);
        IReadOnlyList<Finding> viewFindings = DetectInView(normalized.View, null, timings);
        t0 = Stopwatch.GetTimestamp();
        var classification = _classifier.Classify(normalized.View, viewFindings);
        Record(timings, "classify_data", ref t0);
        IReadOnlyList<Finding> findings = ToOriginal(normalized, viewFindings);

        t0 = Stopwatch.GetTimestamp();
        InjectionResult injection = _injection?.Score(normalized.View) ?? InjectionResult.None;
        Record(timings, "detect_injection", ref t0);
        IReadOnlyList<ExfiltrationResult> exfiltration = _exfiltration?.Detect(normalized.View) ?? [];
        Record(timings, "detect_exfiltration", ref t0);
        return new ScanResult(findings, classification, injection, injection.Score >= _options.InjectionThreshold, exfiltration);
    }

    /// <summary>
    /// Like <see cref="Scan(string, IDictionary{string, long})"/> without the injection and exfiltration detectors:
    /// entities and classification only (<see cref="InjectionResult.None"/>, no exfiltration findings). For model
    /// output, where only entities and the classification are acted on.
    /// </summary>
    public ScanResult ScanEntities(string text, IDictionary<string, long>? timings)
    {
        long t0 = Stopwatch.GetTimestamp();
        NormalizedText normalized = Normalize(text);
        Record(timings, "normalize_input", ref t0);
        IReadOnlyList<Finding> viewFindings = DetectInView(normalized.View, null, timings);
        t0 = Stopwatch.GetTimestamp();
        var classification = _classifier.Classify(normalized.View, viewFindings);
        Record(timings, "classify_data", ref t0);
        return new ScanResult(ToOriginal(normalized, viewFindings), classification, InjectionResult.None, false, []);
    }

    private static void Record(IDictionary<string, long>? timings, string step, ref long start)
    {
        if (timings is null)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        timings[step] = (timings.TryGetValue(step, out var sofar) ? sofar : 0) + (now - start);
        start = now;
    }

    /// <summary>Finds the entities in <paramref name="text"/> only (no classification, injection or exfiltration).</summary>
    public IReadOnlyList<Finding> FindEntities(string text)
    {
        NormalizedText normalized = Normalize(text);
        return ToOriginal(normalized, DetectInView(normalized.View, null, null));
    }

    /// <summary>
    /// Finds the entities in <paramref name="text"/>, and adds to <paramref name="candidates"/> every finding
    /// before overlaps were removed (original offsets), including those an overlapping finding displaced.
    /// </summary>
    public IReadOnlyList<Finding> FindEntities(string text, List<Finding> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        NormalizedText normalized = Normalize(text);
        int from = candidates.Count;
        IReadOnlyList<Finding> found = ToOriginal(normalized, DetectInView(normalized.View, candidates, null));
        if (!normalized.IsIdentity)
        {
            for (int i = from; i < candidates.Count; i++)
            {
                candidates[i] = normalized.ToOriginal(candidates[i]);
            }
        }

        return found;
    }

    private NormalizedText Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > _options.MaxTextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(text), text.Length, $"Text exceeds the scanner limit of {_options.MaxTextLength} characters.");
        }

        return TextNormalizer.Normalize(text);
    }

    private Finding[] DetectInView(string view, List<Finding>? candidates, IDictionary<string, long>? timings)
    {
        List<Finding> scratch = t_scratch ??= new List<Finding>(16);
        scratch.Clear();
        try
        {
            foreach (IEntityDetector detector in _detectors)
            {
                long start = Stopwatch.GetTimestamp();
                detector.Detect(view, scratch);
                Record(timings, detector.Step, ref start);
            }

            for (int i = scratch.Count - 1; i >= 0; i--)
            {
                Finding f = scratch[i];
                if (f.Start < 0 || f.Length <= 0 || f.Start > view.Length - f.Length)
                {
                    scratch.RemoveAt(i); // a detector bug must not corrupt masking
                }
            }

            candidates?.AddRange(scratch);
            FindingResolver.Resolve(scratch);
            return scratch.Count == 0 ? [] : [.. scratch];
        }
        finally
        {
            scratch.Clear();
            if (scratch.Capacity > 4096)
            {
                t_scratch = null;
            }
        }
    }

    private static IReadOnlyList<Finding> ToOriginal(NormalizedText normalized, IReadOnlyList<Finding> viewFindings)
    {
        if (normalized.IsIdentity || viewFindings.Count == 0)
        {
            return viewFindings;
        }

        var mapped = new List<Finding>(viewFindings.Count);
        foreach (Finding f in viewFindings)
        {
            mapped.Add(normalized.ToOriginal(f));
        }

        // Two view chars expanded from one source character map to the same source range.
        FindingResolver.Resolve(mapped);
        return mapped;
    }
}
