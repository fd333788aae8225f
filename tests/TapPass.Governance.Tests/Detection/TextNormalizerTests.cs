using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection;

public sealed class TextNormalizerTests
{
    [Fact]
    public void Normalize_PureAscii_ReturnsSameInstanceWithIdentityMap()
    {
        string text = "plain ASCII text, 123 @ x";
        var n = TextNormalizer.Normalize(text);
        n.View.Should().BeSameAs(text);
        n.IsIdentity.Should().BeTrue();
        n.ToOriginal(6, 5).Should().Be((6, 5));
    }

    [Theory]
    [InlineData("１２３", "123")]
    [InlineData("\U0001D7D2\U0001D7D3", "45")]
    [InlineData("a\u200Bb\u200Cc\u200Dd\u2060e\uFEFFf\u00ADg", "abcdefg")]
    [InlineData("x\U000E0041\U000E0042y", "xy")]
    [InlineData("1\u00A02\u20093\u202F4\u30005", "1 2 3 4 5")]
    [InlineData("212\u2011555\u20130147\u22121", "212-555-0147-1")]
    [InlineData("ava\uFF20ostara\uFF0Ebe", "ava@ostara.be")]
    [InlineData("\u0430va.dumont@ostara.be", "ava.dumont@ostara.be")]
    [InlineData("\u0410KI\u0410TEST", "AKIATEST")]
    [InlineData("\u0661\u0662\u0663", "123")]
    [InlineData("e\u0301", "é")]
    [InlineData("\uFB01x", "fix")]
    [InlineData("line\u2028next", "line\nnext")]
    public void Normalize_ProducesTheDetectionView(string text, string expected)
    {
        TextNormalizer.Normalize(text).View.Should().Be(expected);
    }

    [Fact]
    public void Normalize_CyrillicWord_IsNotFolded()
    {
        // "сор" is an ordinary Cyrillic word: no ASCII letter or digit in the token.
        TextNormalizer.Normalize("слово сор").View.Should().Be("слово сор");
    }

    [Fact]
    public void ToOriginal_SpanAcrossRemovedZeroWidth_CoversItAsWritten()
    {
        string text = "key A\u200BKI\u200DA";
        var n = TextNormalizer.Normalize(text);
        n.View.Should().Be("key AKIA");
        n.ToOriginal(4, 4).Should().Be((4, 6));
    }

    [Fact]
    public void ToOriginal_AfterEmoji_CountsSurrogatePairsAsTwo()
    {
        string text = "🙂 ＡＢ";
        var n = TextNormalizer.Normalize(text);
        n.View.Should().Be("🙂 AB");
        n.ToOriginal(3, 2).Should().Be((3, 2));
    }

    [Fact]
    public void ToOriginal_NonBmpDigits_MapToTheirSurrogatePairs()
    {
        string text = "n=\U0001D7CF\U0001D7D0";
        var n = TextNormalizer.Normalize(text);
        n.View.Should().Be("n=12");
        n.ToOriginal(2, 1).Should().Be((2, 2));
        n.ToOriginal(2, 2).Should().Be((2, 4));
    }

    [Fact]
    public void CheckNfkc_WhenNormalisationDoesNothing_ExplainsInvariantGlobalization()
    {
        string? problem = TextNormalizer.CheckNfkc(s => s);
        problem.Should().Contain("InvariantGlobalization").And.Contain("ICU");
    }

    [Fact]
    public void CheckNfkc_WhenNormalisationThrows_ReportsIt()
    {
        TextNormalizer.CheckNfkc(_ => throw new PlatformNotSupportedException()).Should().Contain("PlatformNotSupportedException");
    }

    [Fact]
    public void CheckNfkc_InThisProcess_Passes()
    {
        TextNormalizer.CheckNfkc(s => s.Normalize(NormalizationForm.FormKC)).Should().BeNull();
        FluentActions.Invoking(TextNormalizer.EnsureNfkcAvailable).Should().NotThrow();
    }

    [Fact]
    public void IsKnownNfkcStable_NeverClaimsACodePointThatNfkcChanges()
    {
        var wrong = new List<int>();
        for (int cp = 0; cp <= 0x1FAFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || !TextNormalizer.IsKnownNfkcStable(cp))
            {
                continue;
            }

            string s = char.ConvertFromUtf32(cp);
            if (s.Normalize(NormalizationForm.FormKC) != s)
            {
                wrong.Add(cp);
            }
        }

        wrong.Should().BeEmpty();
    }

    // Atoms: (as written, expected view). Concatenations of atoms never interact.
    private static readonly (string Original, string View)[] Atoms =
    [
        ("a", "a"), ("Z", "Z"), ("7", "7"), (" ", " "), ("@", "@"), (".", "."), ("-", "-"), ("\n", "\n"),
        ("\u200B", ""), ("\u200D", ""), ("\u2060", ""), ("\uFEFF", ""), ("\u00AD", ""), ("\U000E0061", ""),
        ("\uFF14", "4"), ("\U0001D7D0", "2"), ("\u00A0", " "), ("\u2009", " "), ("\u2011", "-"),
        ("\uFF20", "@"), ("é", "é"), ("e\u0301", "é"), ("🙂", "🙂"), ("\uFB01", "fi"), ("中", "中"),
        ("\u0663", "3"), ("\u2028", "\n"),
    ];

    [Fact]
    public void Normalize_AnyAtomSequence_MapsEveryAtomBackToItsOriginalRange()
    {
        var gen = Gen.ListOf(Gen.Choose(0, Atoms.Length - 1), 40).Select(ix => ix.ToArray());
        Prop.ForAll(gen.ToArbitrary(), indexes =>
        {
            var original = new StringBuilder();
            var view = new StringBuilder();
            var ranges = new List<(int VStart, int VLen, int OStart, int OLen)>();
            foreach (int i in indexes)
            {
                var (o, v) = Atoms[i];
                ranges.Add((view.Length, v.Length, original.Length, o.Length));
                original.Append(o);
                view.Append(v);
            }

            var n = TextNormalizer.Normalize(original.ToString());
            if (n.View != view.ToString())
            {
                return false;
            }

            var visible = ranges.Where(r => r.VLen > 0).ToList();
            foreach (var r in visible)
            {
                if (n.ToOriginal(r.VStart, r.VLen) != (r.OStart, r.OLen))
                {
                    return false;
                }
            }

            // Any run of whole atoms maps to the range from the first to the last visible atom.
            for (int a = 0; a < visible.Count; a++)
            {
                for (int b = a; b < visible.Count; b++)
                {
                    var first = visible[a];
                    var last = visible[b];
                    var mapped = n.ToOriginal(first.VStart, last.VStart + last.VLen - first.VStart);
                    if (mapped != (first.OStart, last.OStart + last.OLen - first.OStart))
                    {
                        return false;
                    }
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Normalize_AnyString_MapIsMonotonicAndInBounds()
    {
        var chars = Gen.Elements("aZ9 @.-\u200B\u00A0\uFF11\u0430\u00E9\u0301\uD83D\uDE42\uD835\uDFD2\uFB01\uD800".ToCharArray());
        var gen = Gen.ListOf(chars, 60).Select(cs => new string(cs.ToArray()));
        Prop.ForAll(gen.ToArbitrary(), text =>
        {
            var n = TextNormalizer.Normalize(text);
            int lastStart = 0;
            for (int i = 0; i < n.View.Length; i++)
            {
                var (s, l) = n.ToOriginal(i, 1);
                if (s < lastStart || l <= 0 || s + l > text.Length)
                {
                    return false;
                }

                lastStart = s;
            }

            var (ws, wl) = n.ToOriginal(0, n.View.Length);
            return ws >= 0 && ws + wl <= text.Length;
        }).QuickCheckThrowOnFailure();
    }
}
