using System.Collections.Frozen;
using System.Text;

namespace TapPass.Governance.Detection;

/// <summary>One replacement made by masking. Never carries the replaced value.</summary>
/// <param name="Type">The entity type (e.g. <c>EMAIL</c>, <c>SECRET</c>).</param>
/// <param name="Replacement">The text put in its place (<c>[MASKED_EMAIL]</c>, <c>[REDACTED]</c>).</param>
internal readonly record struct Redaction(string Type, string Replacement);

/// <summary>The masked text and what was replaced.</summary>
internal sealed record MaskResult(string Text, IReadOnlyList<Redaction> Redactions);

/// <summary>
/// Replaces findings in a text: personal data becomes <c>[MASKED_&lt;TYPE&gt;]</c>, secrets become
/// <c>[REDACTED]</c>.
/// </summary>
internal static class Masker
{
    /// <summary>The replacement for secrets.</summary>
    public const string SecretReplacement = "[REDACTED]";

    private static readonly FrozenDictionary<string, string> s_replacements = new Dictionary<string, string>
    {
        [EntityTypes.Email] = "[MASKED_EMAIL]",
        [EntityTypes.Phone] = "[MASKED_PHONE_NUMBER]",
        [EntityTypes.Ssn] = "[MASKED_SSN]",
        [EntityTypes.CreditCard] = "[MASKED_CREDIT_CARD]",
        [EntityTypes.Iban] = "[MASKED_IBAN]",
        [EntityTypes.IpAddress] = "[MASKED_IP_ADDRESS]",
        [EntityTypes.Secret] = SecretReplacement,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The text that replaces an entity of <paramref name="type"/>.</summary>
    public static string ReplacementFor(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (s_replacements.TryGetValue(type, out string? r))
        {
            return r;
        }

        return type.StartsWith(EntityTypes.Secret, StringComparison.Ordinal) ? SecretReplacement : "[MASKED_" + type + "]";
    }

    /// <summary>
    /// Masks <paramref name="findings"/> (original offsets, as returned by <see cref="ContentScanner"/>) in
    /// <paramref name="text"/>. Overlapping findings are resolved first (the outer one wins).
    /// </summary>
    public static MaskResult Mask(string text, IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(findings);
        if (findings.Count == 0)
        {
            return new MaskResult(text, []);
        }

        var resolved = new List<Finding>(findings.Count);
        foreach (Finding f in findings)
        {
            if (f.Start < 0 || f.Length <= 0 || f.Start > text.Length - f.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(findings), "A finding lies outside the text.");
            }

            resolved.Add(f);
        }

        FindingResolver.Resolve(resolved);
        var sb = new StringBuilder(text.Length);
        var redactions = new Redaction[resolved.Count];
        int pos = 0;
        for (int i = 0; i < resolved.Count; i++)
        {
            Finding f = resolved[i];
            string replacement = ReplacementFor(f.Type);
            sb.Append(text, pos, f.Start - pos).Append(replacement);
            pos = f.End;
            redactions[i] = new Redaction(f.Type, replacement);
        }

        sb.Append(text, pos, text.Length - pos);
        return new MaskResult(sb.ToString(), redactions);
    }

    /// <summary>Scans <paramref name="text"/> with <paramref name="scanner"/> and masks every entity found.</summary>
    public static MaskResult Mask(ContentScanner scanner, string text)
    {
        ArgumentNullException.ThrowIfNull(scanner);
        return Mask(text, scanner.FindEntities(text));
    }
}
