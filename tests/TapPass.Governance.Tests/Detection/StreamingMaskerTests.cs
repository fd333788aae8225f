using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection;

public sealed class StreamingMaskerTests
{
    private static readonly ContentScanner Scanner = new([new PiiDetector(), new FakeSecretDetector()], null, null);

    private static readonly string[] Samples =
    [
        "Hi, mail ava.dumont@ostara.be or call +32 470 12 34 56 today.",
        "Card 4111 1111 1111 1111, SSN 856-60-8919, IBAN BE71 0961 2345 6769 please.",
        "Spare part 212-555-0147 in stock; call (737) 607-5253.",
        "Hosts 10.0.0.1 and 2001:db8::1; version 1.2.3.4 stays.",
        "🙂 pay using ４１１１-1111-1111-1111 and write me at ava.\u200Bdumont@ostara.be!",
        "IBAN BE71\u00A00961\u00A02345\u00A06769 and key sk_live_AbCdEfGhIjKlMnOpQrStUvWx end",
        "conn=Server=db1.lan;User Id=app;Password=hunter2; ok",
        "Tel: 0470 12 34\n56 78 is two lines",
    ];

    private static string StreamAll(ContentScanner scanner, string text, IReadOnlyList<int> cuts, string expected)
    {
        var masker = new StreamingMasker(scanner);
        var output = new StringBuilder();
        int pos = 0;
        foreach (int cut in cuts.Append(text.Length))
        {
            output.Append(masker.Write(text[pos..cut]).Text);
            pos = cut;
            expected.StartsWith(output.ToString(), StringComparison.Ordinal).Should().BeTrue(
                "every emitted prefix must be a prefix of the whole-text masking (no value sent and taken back)");
            masker.HeldBack.Should().BeLessThanOrEqualTo(StreamingMasker.MaxHoldBack + cut - pos + 1);
        }

        output.Append(masker.Flush().Text);
        return output.ToString();
    }

    [Fact]
    public void Write_SplitAtEveryOffset_EqualsWholeTextMasking()
    {
        foreach (string text in Samples)
        {
            string expected = Masker.Mask(Scanner, text).Text;
            for (int k = 0; k <= text.Length; k++)
            {
                StreamAll(Scanner, text, [k], expected).Should().Be(expected, $"split at {k} of \"{text}\"");
            }
        }
    }

    [Fact]
    public void Write_OneCharacterAtATime_EqualsWholeTextMasking()
    {
        foreach (string text in Samples)
        {
            string expected = Masker.Mask(Scanner, text).Text;
            StreamAll(Scanner, text, [.. Enumerable.Range(1, text.Length - 1)], expected).Should().Be(expected);
        }
    }

    [Fact]
    public void Write_RandomTextsAndChunkings_EqualWholeTextMasking()
    {
        var gen = Gen.Choose(0, int.MaxValue);
        Prop.ForAll(gen.ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            string text = TextFactory.Text(rng, rng.Next(1, 40));
            string expected = Masker.Mask(Scanner, text).Text;
            var cuts = new SortedSet<int>();
            int n = rng.Next(0, Math.Min(text.Length, 30));
            for (int i = 0; i < n; i++)
            {
                cuts.Add(rng.Next(0, text.Length + 1));
            }

            return StreamAll(Scanner, text, [.. cuts], expected) == expected;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(1000));
    }

    [Fact]
    public void Write_EmittedText_NeverContainsAnEntityValue()
    {
        var gen = Gen.Choose(0, int.MaxValue);
        Prop.ForAll(gen.ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            string text = TextFactory.Text(rng, 30);
            var values = Scanner.FindEntities(text).Select(f => text.Substring(f.Start, f.Length)).Where(v => v.Length >= 6).ToList();
            var masker = new StreamingMasker(Scanner);
            var sent = new StringBuilder();
            int pos = 0;
            while (pos < text.Length)
            {
                int len = Math.Min(text.Length - pos, rng.Next(1, 8));
                sent.Append(masker.Write(text.Substring(pos, len)).Text);
                pos += len;
                string soFar = sent.ToString();
                if (values.Any(v => soFar.Contains(v, StringComparison.Ordinal)))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Write_CleanProse_HoldsBackOnlyTheLastWord()
    {
        var masker = new StreamingMasker(Scanner);
        masker.Write("The quick brown fox jum").Text.Should().Be("The quick brown fox ");
        masker.HeldBack.Should().Be(3);
        masker.Write("ps over the lazy dog. ").Text.Should().Be("jumps over the lazy dog. ");
        masker.HeldBack.Should().Be(0);
    }

    [Fact]
    public void Write_DigitGroups_AreHeldUntilTheNumberCanNoLongerGrow()
    {
        var masker = new StreamingMasker(Scanner);
        masker.Write("call 0470 12 ").Text.Should().Be("call ");
        masker.Write("34 56").Text.Should().BeEmpty();
        masker.Write(" thanks").Text.Should().BeEmpty();
        (masker.Write(" a lot").Text + masker.Flush().Text).Should().Be("[MASKED_PHONE_NUMBER] thanks a lot");
        masker.Redactions.Should().Equal(new Redaction("PHONE_NUMBER", "[MASKED_PHONE_NUMBER]"));
        masker.Findings.Should().Equal(new Finding("PHONE_NUMBER", 5, 13, 0.8));
    }

    [Fact]
    public void Write_LongTokenWithoutEntity_IsReleasedWithinTheBound()
    {
        var masker = new StreamingMasker(Scanner);
        string blob = new('a', 3000);
        string sent = masker.Write(blob).Text;
        sent.Length.Should().Be(3000 - StreamingMasker.MaxHoldBack);
        masker.HeldBack.Should().Be(StreamingMasker.MaxHoldBack);
        (sent + masker.Flush().Text).Should().Be(blob);
    }

    [Fact]
    public void Write_PrivateKeyLongerThanTheBound_FailsClosedAndMatchesWholeTextMasking()
    {
        var body = new StringBuilder();
        var rng = new Random(7);
        for (int i = 0; i < 30; i++)
        {
            body.Append(new string(Enumerable.Range(0, 64).Select(_ => (char)rng.Next('A', 'Z' + 1)).ToArray())).Append('\n');
        }

        string text = "deploy_key: |\n-----BEGIN RSA PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----\nnext line 10.0.0.1";
        string expected = Masker.Mask(Scanner, text).Text;
        expected.Should().Be("deploy_key: |\n[REDACTED]\nnext line [MASKED_IP_ADDRESS]");
        for (int chunk = 1; chunk <= 97; chunk += 16)
        {
            var cuts = Enumerable.Range(1, (text.Length - 1) / chunk).Select(i => i * chunk).ToList();
            StreamAll(Scanner, text, cuts, expected).Should().Be(expected);
        }
    }

    [Fact]
    public void Write_BlockingEntity_BlocksBeforeAnyOfItIsEmitted()
    {
        var masker = new StreamingMasker(Scanner, f => f.Type == EntityTypes.CreditCard ? StreamingAction.Block : StreamingAction.Mask);
        var sent = new StringBuilder();
        StreamingOutput last = default;
        foreach (string chunk in new[] { "mail a@b.be, card 4111 ", "1111 1111 ", "1111 and ", "more text" })
        {
            last = masker.Write(chunk);
            sent.Append(last.Text);
        }

        last.Blocked.Should().BeTrue();
        masker.IsBlocked.Should().BeTrue();
        masker.BlockingTypes.Should().Equal("CREDIT_CARD");
        sent.ToString().Should().Be("mail [MASKED_EMAIL], card ");
        masker.Write("x").Should().Be(new StreamingOutput("", true));
        masker.Flush().Should().Be(new StreamingOutput("", true));
    }

    [Fact]
    public void Write_KeepPolicy_LetsFlaggedTypesThroughButRecordsThem()
    {
        var masker = new StreamingMasker(Scanner, f => f.Type == EntityTypes.Email ? StreamingAction.Keep : StreamingAction.Mask);
        string output = masker.Write("mail a@b.be and 10.0.0.1 ").Text + masker.Flush().Text;
        output.Should().Be("mail a@b.be and [MASKED_IP_ADDRESS] ");
        masker.Findings.Select(f => f.Type).Should().Equal("EMAIL", "IP_ADDRESS");
    }

    [Theory]
    [InlineData("call 0470 12", 5)]
    [InlineData("IBAN BE71 0961 2345", 0)]
    [InlineData("pay to BE71 0961 2345", 7)]
    [InlineData("card \uFF14\u200B111 1111 ", 5)]
    [InlineData("x Data Source=srv;User Id=a;Pass", 2)]
    [InlineData("hello world", 6)]
    [InlineData("hello world ", 12)]
    [InlineData("line one\n0470 12 ", 9)]
    [InlineData("key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIE", 5)]
    public void HoldBackStart_CoversWhatCouldStillGrow(string text, int expected)
    {
        StreamingMasker.HoldBackStart(text, 0).Should().Be(expected);
    }
}
