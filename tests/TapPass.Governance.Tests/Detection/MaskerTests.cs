using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection;

public sealed class MaskerTests
{
    private static readonly ContentScanner Scanner = new([new PiiDetector(), new FakeSecretDetector()], null, null);

    [Fact]
    public void Mask_ReplacesPiiAndSecrets_AndReportsTypesOnly()
    {
        string text = "Mail ava@ostara.be, key sk_live_AbCdEfGhIjKlMnOpQrStUvWx.";
        var result = Masker.Mask(Scanner, text);
        result.Text.Should().Be("Mail [MASKED_EMAIL], key [REDACTED].");
        result.Redactions.Should().Equal(new Redaction("EMAIL", "[MASKED_EMAIL]"), new Redaction("SECRET", "[REDACTED]"));
    }

    [Fact]
    public void Mask_EvasiveEntity_ReplacesItAsWrittenIncludingInvisibleCharacters()
    {
        string text = "card ４１１１ 1111\u200B 1111 1111!";
        Masker.Mask(Scanner, text).Text.Should().Be("card [MASKED_CREDIT_CARD]!");
    }

    [Fact]
    public void Mask_NoFindings_ReturnsTheSameText()
    {
        string text = "nothing here";
        Masker.Mask(text, []).Text.Should().BeSameAs(text);
    }

    [Fact]
    public void Mask_FindingOutsideText_Throws()
    {
        FluentActions.Invoking(() => Masker.Mask("abc", [new Finding("EMAIL", 2, 5)])).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData("SECRET", "[REDACTED]")]
    [InlineData("SECRET:aws", "[REDACTED]")]
    [InlineData("IBAN", "[MASKED_IBAN]")]
    [InlineData("PASSPORT", "[MASKED_PASSPORT]")]
    public void ReplacementFor_FollowsTheWireFormat(string type, string expected)
    {
        Masker.ReplacementFor(type).Should().Be(expected);
    }

    [Fact]
    public void Mask_KnownSegments_EqualsTheSegmentsWithEntitiesReplaced()
    {
        // Oracle: build the text from segments whose entity positions are known.
        var gen = Gen.Choose(0, int.MaxValue);
        Prop.ForAll(gen.ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            var text = new StringBuilder();
            var expected = new StringBuilder();
            var findings = new List<Finding>();
            for (int i = 0; i < rng.Next(1, 12); i++)
            {
                string filler = new string('x', rng.Next(0, 5)) + " ";
                text.Append(filler);
                expected.Append(filler);
                if (rng.Next(2) == 0)
                {
                    string type = new[] { "EMAIL", "SSN", "SECRET", "IBAN" }[rng.Next(4)];
                    int len = rng.Next(1, 9);
                    findings.Add(new Finding(type, text.Length, len));
                    text.Append('v', len);
                    expected.Append(Masker.ReplacementFor(type));
                }
            }

            var result = Masker.Mask(text.ToString(), findings);
            return result.Text == expected.ToString() && result.Redactions.Count == findings.Count;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Mask_RandomTexts_LeaveNoDetectedValueBehind()
    {
        var gen = Gen.Choose(0, int.MaxValue);
        Prop.ForAll(gen.ToArbitrary(), seed =>
        {
            string text = TextFactory.Text(new Random(seed), 20);
            var findings = Scanner.FindEntities(text);
            string masked = Masker.Mask(text, findings).Text;
            return findings.All(f => f.Length < 6 || !masked.Contains(text.Substring(f.Start, f.Length), StringComparison.Ordinal));
        }).QuickCheckThrowOnFailure();
    }
}
