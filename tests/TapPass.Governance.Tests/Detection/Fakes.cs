using System.Text.RegularExpressions;
using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection;

/// <summary>
/// A stand-in for the secret detector: finds <c>sk_live_</c> + 24 alphanumerics, <c>Server=…;Password=…;</c>
/// connection strings and RSA PEM private-key blocks.
/// </summary>
internal sealed partial class FakeSecretDetector : IEntityDetector
{
    public string Step => "detect_secrets";

    public List<string> SeenTexts { get; } = [];

    [GeneratedRegex(@"(?<![A-Za-z0-9_])sk_live_[A-Za-z0-9]{24}(?![A-Za-z0-9_])|Server=[^;\s]+;(?: ?(?!Password=)[A-Za-z]+(?: [A-Za-z]+)?=[^;\s]*;)*? ?Password=[^;\s]+;|-----BEGIN RSA PRIVATE KEY-----[\s\S]*?-----END RSA PRIVATE KEY-----", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Secret();

    public void Detect(string text, List<Finding> results)
    {
        lock (SeenTexts)
        {
            SeenTexts.Add(text);
        }

        foreach (ValueMatch m in Secret().EnumerateMatches(text))
        {
            results.Add(new Finding(EntityTypes.Secret, m.Index, m.Length, 1.0, "test"));
        }
    }
}

/// <summary>Returns fixed findings, to test how the scanner treats them.</summary>
internal sealed class FixedDetector(params Finding[] findings) : IEntityDetector
{
    public string Step => "detect_secrets";

    public void Detect(string text, List<Finding> results) => results.AddRange(findings);
}

internal sealed class FakeInjectionDetector(double score, params string[] signals) : IInjectionDetector
{
    public string? SeenText { get; private set; }

    public InjectionResult Score(string text)
    {
        SeenText = text;
        return new InjectionResult(score, signals);
    }
}

internal sealed class FakeExfiltrationDetector : IExfiltrationDetector
{
    public string? SeenText { get; private set; }

    public IReadOnlyList<ExfiltrationResult> Detect(string text)
    {
        SeenText = text;
        return text.Contains("pastebin", StringComparison.Ordinal)
            ? [new ExfiltrationResult("paste_site", null, "paste site")]
            : [];
    }
}
