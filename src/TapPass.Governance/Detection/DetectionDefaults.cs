using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Detection;

/// <summary>The default wiring of the detection layer: one place that decides which detectors a scanner runs.</summary>
internal static class DetectionDefaults
{
    /// <summary>The default entity detectors, in the order they run.</summary>
    public static IReadOnlyList<IEntityDetector> CreateEntityDetectors() =>
    [
        new PiiDetector(),
        new SecretDetector(),
    ];

    /// <summary>
    /// Creates the scanner with every detector: PII, secrets, prompt injection (threshold from
    /// <paramref name="options"/>) and exfiltration. Throws at startup when Unicode normalisation is unavailable
    /// (see <see cref="TextNormalizer.EnsureNfkcAvailable"/>).
    /// </summary>
    public static ContentScanner CreateScanner(ContentScannerOptions? options = null)
    {
        options ??= new ContentScannerOptions();
        var injection = new InjectionDetector(new InjectionDetectorOptions { Threshold = Math.Max(options.InjectionThreshold, 0.01) });
        return new ContentScanner(CreateEntityDetectors(), injection, new ExfiltrationDetector(), options);
    }
}
