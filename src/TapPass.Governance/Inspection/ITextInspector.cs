using TapPass.Governance.Detection;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;

namespace TapPass.Governance.Inspection;

/// <summary>
/// The engine's narrow seam to the detection layer (normaliser, entity detectors, injection and exfiltration
/// detectors, classifier, masker). Implementations are thread-safe. Offsets in every result are UTF-16 offsets into
/// the text that was passed in (not into a normalised view).
/// </summary>
internal interface ITextInspector
{
    /// <summary>Runs every detector over <paramref name="text"/>.</summary>
    /// <exception cref="InspectionException">A detector failed; the engine fails closed.</exception>
    InspectionResult Inspect(string text);

    /// <summary>
    /// Runs the normaliser, the entity detectors and the classifier over <paramref name="text"/>, without the
    /// injection and exfiltration detectors (their verdicts are <see cref="Detection.InjectionResult.None"/> and
    /// empty): what <c>scan_output</c> acts on, as the streaming path does.
    /// </summary>
    /// <exception cref="InspectionException">A detector failed; the engine fails closed.</exception>
    InspectionResult InspectEntities(string text) => Inspect(text);

    /// <summary>
    /// Replaces each of <paramref name="findings"/> in <paramref name="text"/>: secrets (<c>SECRET</c>) with
    /// <c>[REDACTED]</c>, every other type with <c>[MASKED_&lt;TYPE&gt;]</c>. The findings do not overlap.
    /// </summary>
    /// <param name="text">The original text.</param>
    /// <param name="findings">What to replace (a subset of what <see cref="Inspect"/> returned).</param>
    /// <param name="phase"><c>input</c> or <c>output</c>, copied into the redaction records.</param>
    MaskOutcome Mask(string text, IReadOnlyList<Finding> findings, string phase);

    /// <summary>
    /// Creates an incremental masker for one streamed answer. Concatenating everything it returns equals
    /// <see cref="Mask"/> over the whole answer with the same policy; it holds back only a bounded tail.
    /// </summary>
    IStreamMasker CreateStreamMasker(StreamMaskPolicy policy);
}

/// <summary>A detector failed on a text. <see cref="Step"/> names the pipeline step that failed, when known.</summary>
internal sealed class InspectionException : Exception
{
    public InspectionException() : this("Inspection failed.") { }

    public InspectionException(string message) : base(message) { }

    public InspectionException(string message, Exception? innerException) : base(message, innerException) { }

    public InspectionException(string step, string message, Exception? innerException = null) : base(message, innerException) => Step = step;

    /// <summary>e.g. <c>detect_pii</c>.</summary>
    public string? Step { get; }
}

/// <summary>An entity found by <see cref="ITextInspector.Inspect"/>.</summary>
/// <param name="Finding">Type, offsets, score and kind.</param>
/// <param name="Step"><c>detect_pii</c> or <c>detect_secrets</c>.</param>
internal readonly record struct EntityFinding(Finding Finding, string Step)
{
    public bool IsSecret => Step == PipelineStepNames.DetectSecrets;
}

/// <summary>Everything the detection layer found in one text.</summary>
internal sealed record InspectionResult
{
    public static InspectionResult Empty { get; } = new();

    /// <summary>Entities (PII and secrets), offsets into the inspected text.</summary>
    public IReadOnlyList<EntityFinding> Entities { get; init; } = [];

    /// <summary>Classification of the text.</summary>
    public Classification Classification { get; init; } = Classification.Public;

    /// <summary>Prompt-injection verdict.</summary>
    public InjectionResult Injection { get; init; } = InjectionResult.None;

    /// <summary>Bulk-data and exfiltration findings.</summary>
    public IReadOnlyList<ExfiltrationResult> Exfiltration { get; init; } = [];

    /// <summary>
    /// Optional time spent per pipeline step inside the inspector, in <see cref="System.Diagnostics.Stopwatch"/> ticks
    /// (keys: <c>normalize_input</c>, <c>detect_pii</c>, <c>detect_secrets</c>, <c>detect_injection</c>,
    /// <c>detect_exfiltration</c>, <c>classify_data</c>). When absent the engine attributes the whole call to
    /// <c>normalize_input</c>.
    /// </summary>
    public IReadOnlyDictionary<string, long>? StepTicks { get; init; }
}

/// <summary>The outcome of <see cref="ITextInspector.Mask"/>.</summary>
/// <param name="Text">Masked text.</param>
/// <param name="Redactions">One record per replaced finding, in text order (types and replacements, never values).</param>
internal sealed record MaskOutcome(string Text, IReadOnlyList<RedactionInfo> Redactions);

/// <summary>What to do with an entity type in a streamed answer.</summary>
internal enum EntityAction
{
    /// <summary>Emit unchanged (detection still reported).</summary>
    Pass,

    /// <summary>Replace with its mask.</summary>
    Mask,

    /// <summary>Stop the stream before any of it is emitted.</summary>
    Block,
}

/// <summary>The action per entity kind for one streamed answer.</summary>
/// <param name="Pii">Action for every type except SECRET.</param>
/// <param name="Secrets">Action for SECRET.</param>
internal sealed record StreamMaskPolicy(EntityAction Pii, EntityAction Secrets)
{
    public EntityAction For(EntityFinding finding) => finding.IsSecret ? Secrets : Pii;
}

/// <summary>
/// Masks one streamed answer incrementally. Not thread-safe (one stream, one consumer).
/// </summary>
internal interface IStreamMasker
{
    /// <summary>Adds a chunk; returns the text that is now safe to send (possibly empty).</summary>
    StreamMaskResult Push(string chunk);

    /// <summary>Ends the answer; returns the rest.</summary>
    StreamMaskResult Flush();

    /// <summary>Every entity found so far, offsets into the whole answer.</summary>
    IReadOnlyList<EntityFinding> Findings { get; }

    /// <summary>Every replacement made so far.</summary>
    IReadOnlyList<RedactionInfo> Redactions { get; }
}

/// <summary>Text safe to emit, and the blocking entity when the stream must stop.</summary>
/// <param name="SafeText">Text to send now. When <paramref name="Blocked"/> is set, the text before the entity.</param>
/// <param name="Blocked">An entity whose action is <see cref="EntityAction.Block"/>; nothing of it was emitted.</param>
internal readonly record struct StreamMaskResult(string SafeText, EntityFinding? Blocked = null);
