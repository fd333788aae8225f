namespace TapPass.Governance.Detection;

/// <summary>
/// One entity found in a text. Offsets are UTF-16 code units into the text the detector was given.
/// Never carries the matched value itself.
/// </summary>
/// <param name="Type">EMAIL, PHONE_NUMBER, SSN, CREDIT_CARD, IBAN, IP_ADDRESS or SECRET.</param>
/// <param name="Start">Start offset (inclusive).</param>
/// <param name="Length">Length in UTF-16 code units.</param>
/// <param name="Score">Confidence 0..1.</param>
/// <param name="Kind">Optional sub-kind, e.g. <c>aws_access_key</c> for a SECRET.</param>
internal readonly record struct Finding(string Type, int Start, int Length, double Score = 1.0, string? Kind = null)
{
    /// <summary>Exclusive end offset.</summary>
    public int End => Start + Length;
}

/// <summary>Entity type names as they appear on the wire and in masks (<c>[MASKED_&lt;TYPE&gt;]</c>).</summary>
internal static class EntityTypes
{
    public const string Email = "EMAIL";
    public const string Phone = "PHONE_NUMBER";
    public const string Ssn = "SSN";
    public const string CreditCard = "CREDIT_CARD";
    public const string Iban = "IBAN";
    public const string IpAddress = "IP_ADDRESS";
    public const string Secret = "SECRET";
}

/// <summary>
/// Finds entities in an already normalised detection view of a text (see <c>TextNormalizer</c>).
/// Implementations are thread-safe and stateless per call.
/// </summary>
internal interface IEntityDetector
{
    /// <summary>The pipeline step this detector belongs to: <c>detect_pii</c> or <c>detect_secrets</c>.</summary>
    string Step { get; }

    /// <summary>Appends findings (offsets into <paramref name="text"/>) to <paramref name="results"/>.</summary>
    void Detect(string text, List<Finding> results);
}

/// <summary>The prompt-injection detector's verdict.</summary>
/// <param name="Score">0..1, higher means more likely an injection.</param>
/// <param name="Signals">Names of the signals that fired (e.g. <c>direct_override</c>, <c>role_hijack</c>), never text.</param>
internal sealed record InjectionResult(double Score, IReadOnlyList<string> Signals)
{
    public static InjectionResult None { get; } = new(0, []);
}

/// <summary>Scores a text for prompt injection without any model call.</summary>
internal interface IInjectionDetector
{
    InjectionResult Score(string text);
}

/// <summary>A detected request for bulk sensitive data or an exfiltration channel.</summary>
/// <param name="Kind">e.g. <c>bulk_request</c>, <c>paste_site</c>, <c>webhook</c>, <c>markdown_beacon</c>, <c>encoded_dump</c>.</param>
/// <param name="Target">What is being requested in bulk, e.g. <c>CREDIT_CARD</c>, or null.</param>
/// <param name="Reason">Human-readable reason without any matched value, e.g. "bulk request for credit card numbers".</param>
internal sealed record ExfiltrationResult(string Kind, string? Target, string Reason);

/// <summary>Detects bulk-data requests and exfiltration channels.</summary>
internal interface IExfiltrationDetector
{
    /// <summary>Returns every finding in <paramref name="text"/>; empty when nothing is found.</summary>
    IReadOnlyList<ExfiltrationResult> Detect(string text);
}
