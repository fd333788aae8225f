using System.Text;
using TapPass.Governance.Detection;
using TapPass.Protocol;

using TapPass.Governance.Inspection;

namespace TapPass.Governance.Tests.Fakes;

/// <summary>
/// Test support: an <see cref="IStreamMasker"/> for any <see cref="ITextInspector"/>: it re-inspects the unsent tail (plus a little
/// already-sent left context) on every chunk and releases text only once it lies more than <c>lookahead</c>
/// characters before the end and no entity straddles the release point. Provided the inspector's entities are
/// shorter than the look-ahead and depend on no more left context than it keeps, the concatenated output equals
/// masking the whole answer at once. Work per chunk is bounded by look-ahead + chunk size.
/// </summary>
internal sealed class RescanningStreamMasker : IStreamMasker
{
    public const int DefaultLookahead = 256;
    public const int DefaultLeftContext = 64;

    private readonly ITextInspector _inspector;
    private readonly StreamMaskPolicy _policy;
    private readonly int _lookahead;
    private readonly int _leftContextLength;
    private readonly StringBuilder _pending = new();
    private readonly List<EntityFinding> _findings = [];
    private readonly List<RedactionInfo> _redactions = [];
    private string _leftContext = "";
    private int _base;
    private bool _done;

    public RescanningStreamMasker(ITextInspector inspector, StreamMaskPolicy policy, int lookahead = DefaultLookahead, int leftContext = DefaultLeftContext)
    {
        ArgumentNullException.ThrowIfNull(inspector);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lookahead);
        ArgumentOutOfRangeException.ThrowIfNegative(leftContext);
        _inspector = inspector;
        _policy = policy;
        _lookahead = lookahead;
        _leftContextLength = leftContext;
    }

    public IReadOnlyList<EntityFinding> Findings => _findings;

    public IReadOnlyList<RedactionInfo> Redactions => _redactions;

    public StreamMaskResult Push(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (_done)
        {
            return new StreamMaskResult("");
        }

        _pending.Append(chunk);
        return Drain(final: false);
    }

    public StreamMaskResult Flush()
    {
        if (_done)
        {
            return new StreamMaskResult("");
        }

        var result = Drain(final: true);
        _done = true;
        return result;
    }

    private StreamMaskResult Drain(bool final)
    {
        var pending = _pending.ToString();
        if (!final && pending.Length <= _lookahead)
        {
            return new StreamMaskResult("");
        }

        var context = _leftContext;
        var view = context + pending;
        var entities = FindingOverlap.RemoveOverlaps(
            _inspector.Inspect(view).Entities
                .Where(e => e.Finding.Start >= context.Length)
                .Select(e => e with { Finding = e.Finding with { Start = e.Finding.Start - context.Length } }));

        var cut = final ? pending.Length : pending.Length - _lookahead;
        bool moved;
        do
        {
            moved = false;
            foreach (var e in entities)
            {
                if (e.Finding.Start < cut && e.Finding.End > cut)
                {
                    cut = e.Finding.Start;
                    moved = true;
                }
            }
        }
        while (moved);

        var released = new List<EntityFinding>();
        EntityFinding? blocked = null;
        foreach (var e in entities)
        {
            if (e.Finding.End > cut)
            {
                continue;
            }

            if (_policy.For(e) == EntityAction.Block)
            {
                blocked = e;
                cut = e.Finding.Start;
                break;
            }

            released.Add(e);
        }

        var toMask = released.Where(e => _policy.For(e) == EntityAction.Mask).Select(e => e.Finding).ToList();
        var head = pending[..cut];
        var masked = toMask.Count == 0 ? new MaskOutcome(head, []) : _inspector.Mask(head, toMask, "output");
        _redactions.AddRange(masked.Redactions);
        foreach (var e in released)
        {
            _findings.Add(e with { Finding = e.Finding with { Start = e.Finding.Start + _base } });
        }

        var keep = Math.Min(_leftContextLength, context.Length + cut);
        _leftContext = (context + head)[^keep..];
        _pending.Remove(0, cut);
        _base += cut;

        if (blocked is { } b)
        {
            var absolute = b with { Finding = b.Finding with { Start = b.Finding.Start + _base - cut } };
            _findings.Add(absolute);
            _done = true;
            _pending.Clear();
            return new StreamMaskResult(masked.Text, absolute);
        }

        return new StreamMaskResult(masked.Text);
    }
}
