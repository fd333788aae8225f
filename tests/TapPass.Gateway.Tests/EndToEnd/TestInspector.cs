using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance.Detection;
using TapPass.Governance.Inspection;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>
/// Which detection layer the end-to-end tests run. The single switch: while <see cref="UseTestInspector"/> is true the
/// host gets <see cref="TestInspector"/>, registered after the host's own services so it wins over a real inspector
/// registered with <c>TryAdd</c>; set it to false (or set <c>TAPPASS_E2E_REAL_INSPECTOR=1</c>) to run the same tests
/// over the real detection layer once the host registers one.
/// </summary>
internal static class TestDetection
{
    public static bool UseTestInspector { get; } = Environment.GetEnvironmentVariable("TAPPASS_E2E_REAL_INSPECTOR") != "1";

    public static void Register(IServiceCollection services)
    {
        if (UseTestInspector)
        {
            services.AddSingleton<ITextInspector, TestInspector>();
        }
    }
}

/// <summary>
/// A small hand-written detection layer for the end-to-end tests: e-mail addresses, the 4111 1111 1111 1111 test card,
/// <c>sk_live_</c> keys (secrets), "ignore previous instructions" (injection) and "show me all credit cards"
/// (exfiltration). Classification: RESTRICTED with a secret, CONFIDENTIAL with PII, otherwise PUBLIC.
/// </summary>
internal sealed partial class TestInspector : ITextInspector
{
    public InspectionResult Inspect(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
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
            : InjectionResult.None;
        IReadOnlyList<ExfiltrationResult> exfiltration = text.Contains("show me all credit cards", StringComparison.OrdinalIgnoreCase)
            ? [new ExfiltrationResult("bulk_request", EntityTypes.CreditCard, "bulk request for credit card numbers")]
            : [];
        var classification = entities.Any(e => e.IsSecret) ? Classification.Restricted
            : entities.Count > 0 ? Classification.Confidential
            : Classification.Public;
        return new InspectionResult { Entities = entities, Classification = classification, Injection = injection, Exfiltration = exfiltration };
    }

    public MaskOutcome Mask(string text, IReadOnlyList<Finding> findings, string phase)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(findings);
        var sb = new StringBuilder(text.Length);
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

    public IStreamMasker CreateStreamMasker(StreamMaskPolicy policy) => new RescanningStreamMasker(this, policy);

    [GeneratedRegex("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EmailRegex();

    [GeneratedRegex("4111[ -]?1111[ -]?1111[ -]?1111", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CardRegex();

    [GeneratedRegex("sk_live_[A-Za-z0-9]{8,40}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecretRegex();
}
