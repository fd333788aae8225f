using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection;

/// <summary>Helpers that run the PII scanner and return (type, value as written) pairs.</summary>
internal static class Scan
{
    public static readonly ContentScanner Pii = new([new PiiDetector()], null, null);

    public static List<(string Type, string Value)> Entities(string text) =>
        Pii.FindEntities(text).Select(f => (f.Type, text.Substring(f.Start, f.Length))).ToList();

    public static List<string> ValuesOf(string type, string text) =>
        Entities(text).Where(e => e.Type == type).Select(e => e.Value).ToList();
}
