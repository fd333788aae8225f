using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;
using TapPass.Governance.Inspection;
using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.Inspection;

public sealed class RescanningStreamMaskerTests
{
    private static readonly StreamMaskPolicy MaskAll = new(EntityAction.Mask, EntityAction.Mask);

    private static string MaskWhole(FakeInspector inspector, string text, StreamMaskPolicy policy)
    {
        var entities = FindingOverlap.RemoveOverlaps(inspector.Inspect(text).Entities);
        return inspector.Mask(text, [.. entities.Where(e => policy.For(e) == EntityAction.Mask).Select(e => e.Finding)], "output").Text;
    }

    [Fact]
    public void Push_ValueSplitAcrossChunks_IsHeldBackThenMasked()
    {
        var inspector = new FakeInspector();
        var masker = new RescanningStreamMasker(inspector, MaskAll, lookahead: 32, leftContext: 8);
        var output = new StringBuilder();
        foreach (var chunk in new[] { "write to bo", "b@exam", "ple.com now and then some more text to push it out" })
        {
            var r = masker.Push(chunk);
            r.SafeText.Should().NotContain("bo").And.NotContain("exam");
            output.Append(r.SafeText);
        }

        output.Append(masker.Flush().SafeText);
        output.ToString().Should().Be("write to [MASKED_EMAIL] now and then some more text to push it out");
        masker.Redactions.Should().ContainSingle();
        masker.Findings.Should().ContainSingle().Which.Finding.Start.Should().Be(9);
    }

    [Fact]
    public void Push_BlockingEntity_IsReportedBeforeAnyOfItIsEmitted()
    {
        var inspector = new FakeInspector();
        var masker = new RescanningStreamMasker(inspector, new StreamMaskPolicy(EntityAction.Block, EntityAction.Mask), lookahead: 24, leftContext: 4);
        var emitted = new StringBuilder();
        EntityFinding? blocked = null;
        foreach (var c in "The card 4111 1111 1111 1111 is here and more text".Select(c => c.ToString()))
        {
            var r = masker.Push(c);
            emitted.Append(r.SafeText);
            if (r.Blocked is { } b)
            {
                blocked = b;
                break;
            }
        }

        if (blocked is null)
        {
            var end = masker.Flush();
            emitted.Append(end.SafeText);
            blocked = end.Blocked;
        }

        blocked.Should().NotBeNull();
        blocked!.Value.Finding.Type.Should().Be(EntityTypes.CreditCard);
        emitted.ToString().Should().Be("The card ");
        masker.Push("more").SafeText.Should().BeEmpty();
    }

    [Fact]
    public void Push_PassPolicy_EmitsUnchangedButReportsFindings()
    {
        var inspector = new FakeInspector();
        var masker = new RescanningStreamMasker(inspector, new StreamMaskPolicy(EntityAction.Pass, EntityAction.Pass));
        var text = masker.Push("mail a@b.io").SafeText + masker.Flush().SafeText;
        text.Should().Be("mail a@b.io");
        masker.Findings.Should().ContainSingle();
        masker.Redactions.Should().BeEmpty();
    }

    [Fact]
    public void Concatenation_EqualsWholeTextMasking_ForAnyChunking()
    {
        var words = new[] { "hello", "a@b.io", "4111 1111 1111 1111", "sk_live_ABCDEFGH99", "x", "end.", "bob.smith@mail.example.org" };
        var gen = from parts in Gen.ArrayOf(Gen.Elements(words))
                  from sizes in Gen.ArrayOf(Gen.Choose(1, 12))
                  select (string.Join(" ", parts), sizes);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var inspector = new FakeInspector();
            var masker = new RescanningStreamMasker(inspector, MaskAll, lookahead: 48, leftContext: 8);
            var sb = new StringBuilder();
            var i = 0;
            var k = 0;
            while (i < t.Item1.Length)
            {
                var n = Math.Min(t.sizes.Length == 0 ? 5 : t.sizes[k++ % t.sizes.Length], t.Item1.Length - i);
                sb.Append(masker.Push(t.Item1.Substring(i, n)).SafeText);
                i += n;
            }

            sb.Append(masker.Flush().SafeText);
            return sb.ToString() == MaskWhole(inspector, t.Item1, MaskAll);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Push_HoldsBackAtMostTheLookahead()
    {
        var masker = new RescanningStreamMasker(new FakeInspector(), MaskAll, lookahead: 10, leftContext: 2);
        var emitted = masker.Push(new string('a', 100)).SafeText;
        emitted.Length.Should().Be(90);
    }

    [Fact]
    public void RemoveOverlaps_KeepsEarliestLongest()
    {
        var a = new EntityFinding(new Finding("EMAIL", 0, 10), "detect_pii");
        var b = new EntityFinding(new Finding("SECRET", 5, 10), "detect_secrets");
        var c = new EntityFinding(new Finding("EMAIL", 10, 3), "detect_pii");
        FindingOverlap.RemoveOverlaps([b, c, a]).Should().Equal(a, c);
    }
}
