using System.Text;
using System.Text.RegularExpressions;
using TapPass.Governance.Detection;
using TapPass.Governance.Inspection;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Fakes;

/// <summary>
/// A small hand-written detection layer: e-mails, 4111… test cards, sk_live_ keys, "ignore previous instructions"
/// (injection) and "show me all credit cards" (exfiltration).
/// </summary>
internal sealed partial class FakeInspector : ITextInspector
{
    public int InspectCalls;

    /// <summary>Throw from Inspect when this returns true for the text.</summary>
    public Func<string, bool>? ThrowWhen { get; set; }

    public InspectionResult Inspect(string text)
    {
        Interlocked.Increment(ref InspectCalls);
        if (ThrowWhen?.Invoke(text) == true)
        {
            throw new InvalidOperationException("detector failure");
        }

        var entities = new List<EntityFinding>();
        foreach (Match m in EmailRegex().Matches(text))
        {
            entities.Add(new EntityFinding(new Finding(EntityTypes.Email, m.Index, m.Length), PipelineStepNames.DetectPii));
        }

        foreach (Match m in CardRegex().Matches(text))
        {
            entities.Add(new EntityFinding(new Finding(EntityTypes.CreditCard, m.Index, m.Length, 0.99), PipelineStepNames.DetectPii));
        }

        foreach (Match m in SecretRegex().Matches(text))
        {
            entities.Add(new EntityFinding(new Finding(EntityTypes.Secret, m.Index, m.Length, 1.0, "stripe_key"), PipelineStepNames.DetectSecrets));
        }

        var injection = text.Contains("ignore previous instructions", StringComparison.OrdinalIgnoreCase)
            ? new InjectionResult(0.95, ["direct_override"])
            : text.Contains("pretend you are", StringComparison.OrdinalIgnoreCase)
                ? new InjectionResult(0.4, ["role_hijack"])
                : InjectionResult.None;
        var exfiltration = text.Contains("show me all credit cards", StringComparison.OrdinalIgnoreCase)
            ? new[] { new ExfiltrationResult("bulk_request", EntityTypes.CreditCard, "bulk request for credit card numbers") }
            : [];
        var classification = entities.Any(e => e.IsSecret) ? Classification.Restricted
            : entities.Count > 0 ? Classification.Confidential
            : text.Contains("internal", StringComparison.OrdinalIgnoreCase) ? Classification.Internal
            : Classification.Public;
        return new InspectionResult { Entities = entities, Classification = classification, Injection = injection, Exfiltration = exfiltration };
    }

    public MaskOutcome Mask(string text, IReadOnlyList<Finding> findings, string phase)
    {
        var sb = new StringBuilder();
        var redactions = new List<RedactionInfo>();
        var pos = 0;
        foreach (var f in findings.OrderBy(f => f.Start))
        {
            sb.Append(text, pos, f.Start - pos);
            var replacement = f.Type == EntityTypes.Secret ? "[REDACTED]" : $"[MASKED_{f.Type}]";
            sb.Append(replacement);
            redactions.Add(new RedactionInfo { Type = f.Type, Replacement = replacement, Phase = phase });
            pos = f.End;
        }

        sb.Append(text, pos, text.Length - pos);
        return new MaskOutcome(sb.ToString(), redactions);
    }

    public IStreamMasker CreateStreamMasker(StreamMaskPolicy policy) => new RescanningStreamMasker(this, policy, lookahead: 64, leftContext: 16);

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EmailRegex();

    [GeneratedRegex(@"4111[ \-]?1111[ \-]?1111[ \-]?1111", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CardRegex();

    [GeneratedRegex(@"sk_live_[A-Za-z0-9]{8,40}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecretRegex();
}
