using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Detection;

/// <summary>The default wiring of the detection layer: one place that decides which detectors a scanner runs.</summary>
internal static class DetectionDefaults
{
    /// <summary>The default entity detectors, in the order they run.</summary>
    public static IReadOnlyList<IEntityDetector> CreateEntityDetectors() =>
    [
        new PiiDetector(),
        // Secret detector (Step "detect_secrets") is added here when it is merged.
    ];

    /// <summary>
    /// Creates the scanner with every detector available in this build. The injection and exfiltration
    /// detectors are added here when they are merged; until then the scanner reports no injection.
    /// Throws at startup when Unicode normalisation is unavailable (see <see cref="TextNormalizer.EnsureNfkcAvailable"/>).
    /// </summary>
    public static ContentScanner CreateScanner(ContentScannerOptions? options = null) =>
        new(CreateEntityDetectors(), injection: null, exfiltration: null, options);
}
