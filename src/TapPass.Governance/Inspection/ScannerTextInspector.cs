using System.Diagnostics;
using TapPass.Governance.Detection;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;
using DetectionMasker = TapPass.Governance.Detection.Masker;

namespace TapPass.Governance.Inspection;

/// <summary>
/// The engine's detection layer: <see cref="ContentScanner"/> (normaliser, PII, secrets, injection, exfiltration,
/// classification), <see cref="DetectionMasker"/> and <see cref="StreamingMasker"/> behind <see cref="ITextInspector"/>.
/// </summary>
internal sealed class ScannerTextInspector : ITextInspector
{
    private readonly ContentScanner _scanner;

    public ScannerTextInspector(ContentScanner scanner) => _scanner = scanner ?? throw new ArgumentNullException(nameof(scanner));

    public InspectionResult Inspect(string text) => Inspect(text, entitiesOnly: false);

    public InspectionResult InspectEntities(string text) => Inspect(text, entitiesOnly: true);

    private InspectionResult Inspect(string text, bool entitiesOnly)
    {
        var ticks = new Dictionary<string, long>(6, StringComparer.Ordinal);
        ScanResult scan;
        try
        {
            scan = entitiesOnly ? _scanner.ScanEntities(text, ticks) : _scanner.Scan(text, ticks);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Fail closed: the engine blocks with the failing step named.
            throw new InspectionException(StepOf(ticks), "Detection failed.", ex);
        }

        var entities = new EntityFinding[scan.Findings.Count];
        for (var i = 0; i < entities.Length; i++)
        {
            entities[i] = ToEntity(scan.Findings[i]);
        }

        return new InspectionResult
        {
            Entities = entities,
            Classification = (Classification)(int)scan.Classification,
            Injection = scan.Injection,
            Exfiltration = scan.Exfiltration,
            StepTicks = ticks,
        };
    }

    public MaskOutcome Mask(string text, IReadOnlyList<Finding> findings, string phase)
    {
        var masked = DetectionMasker.Mask(text, findings);
        return new MaskOutcome(masked.Text, ToRedactions(masked.Redactions, phase));
    }

    public IStreamMasker CreateStreamMasker(StreamMaskPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new Streaming(_scanner, policy);
    }

    private static EntityFinding ToEntity(Finding finding) =>
        new(finding, finding.Type == EntityTypes.Secret ? PipelineStepNames.DetectSecrets : PipelineStepNames.DetectPii);

    private static List<RedactionInfo> ToRedactions(IReadOnlyList<Redaction> redactions, string phase)
    {
        var list = new List<RedactionInfo>(redactions.Count);
        foreach (var r in redactions)
        {
            list.Add(new RedactionInfo { Type = r.Type, Replacement = r.Replacement, Phase = phase });
        }

        return list;
    }

    // The step that was running when the scanner threw: the first one without a recorded time.
    private static string StepOf(Dictionary<string, long> ticks)
    {
        foreach (var step in (ReadOnlySpan<string>)[PipelineStepNames.NormalizeInput, PipelineStepNames.DetectPii, PipelineStepNames.DetectSecrets,
                     PipelineStepNames.ClassifyData, PipelineStepNames.DetectInjection, PipelineStepNames.DetectExfiltration])
        {
            if (!ticks.ContainsKey(step))
            {
                return step;
            }
        }

        return PipelineStepNames.NormalizeInput;
    }

    private sealed class Streaming : IStreamMasker
    {
        private readonly StreamingMasker _masker;
        private readonly StreamMaskPolicy _policy;

        public Streaming(ContentScanner scanner, StreamMaskPolicy policy)
        {
            _policy = policy;
            _masker = new StreamingMasker(scanner, f => _policy.For(ToEntity(f)) switch
            {
                EntityAction.Block => StreamingAction.Block,
                EntityAction.Mask => StreamingAction.Mask,
                _ => StreamingAction.Keep,
            });
        }

        public IReadOnlyList<EntityFinding> Findings => _masker.Findings.Select(ToEntity).ToList();

        public IReadOnlyList<RedactionInfo> Redactions => ToRedactions(_masker.Redactions, "output");

        public StreamMaskResult Push(string chunk) => ToResult(_masker.Write(chunk));

        public StreamMaskResult Flush() => ToResult(_masker.Flush());

        private StreamMaskResult ToResult(StreamingOutput output)
        {
            if (!output.Blocked)
            {
                return new StreamMaskResult(output.Text);
            }

            // The blocking entity: the last finding whose policy is Block.
            EntityFinding? blocked = null;
            for (var i = _masker.Findings.Count - 1; i >= 0 && blocked is null; i--)
            {
                var entity = ToEntity(_masker.Findings[i]);
                if (_policy.For(entity) == EntityAction.Block)
                {
                    blocked = entity;
                }
            }

            Debug.Assert(blocked is not null, "a blocked stream has a blocking finding");
            return new StreamMaskResult(output.Text, blocked ?? ToEntity(new Finding(_masker.BlockingTypes.FirstOrDefault() ?? EntityTypes.Secret, 0, 0)));
        }
    }
}
