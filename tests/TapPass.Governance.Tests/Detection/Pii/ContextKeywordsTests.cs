using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class ContextKeywordsTests
{
    private static readonly ContextKeywords Keywords = new(supporting: ["phone", "tel"], refuting: ["sku", "order"]);

    private static int At(string text, string value) => text.IndexOf(value, StringComparison.Ordinal);

    [Fact]
    public void Nearest_StopAtValue_DoesNotReadAKeywordAcrossAnotherNumber()
    {
        const string text = "order 4711 shipped, questions 212-555-0147";
        Keywords.Nearest(text, At(text, "212"), 64).Should().Be(ContextVerdict.Refutes);
        Keywords.Nearest(text, At(text, "212"), 64, int.MaxValue, stopAtValue: true).Should().Be(ContextVerdict.None);
    }

    [Fact]
    public void Nearest_MaxWordsBetween_IgnoresAKeywordFurtherBack()
    {
        const string text = "order for Anna Lee: +44 20 7946 0958";
        Keywords.Nearest(text, At(text, "+44"), 64, 1, stopAtValue: true).Should().Be(ContextVerdict.None);
        Keywords.Nearest(text, At(text, "+44"), 64, 3, stopAtValue: true).Should().Be(ContextVerdict.Refutes);
    }

    [Theory]
    [InlineData("INSERT INTO t (sku, tel) VALUES ('a', 'X');", "Supports")]
    [InlineData("INSERT INTO t (tel, sku) VALUES ('a', 'X');", "Refutes")]
    [InlineData("INSERT INTO t (name, note) VALUES ('a', 'X');", "None")]
    [InlineData("INSERT INTO t (sku, tel) VALUES ('a, b', 'X'), ('c', 'd');", "Supports")]
    [InlineData("INSERT INTO t (tel, sku) VALUES ('a', 'b'), ('X', 'd');", "Supports")]
    public void SqlColumnVerdict_MapsTheTupleItemToItsColumn(string text, string expected) =>
        Keywords.SqlColumnVerdict(text, At(text, "X")).Should().Be(Enum.Parse<ContextVerdict>(expected));

    [Theory]
    [InlineData("call X now")]
    [InlineData("INSERT INTO t VALUES ('a', 'X');")]
    [InlineData("INSERT INTO t (a, b) VALUES ('a', 'b') X")]
    [InlineData("INSERT INTO t (a, b)\nVALUES ('a', 'X');")]
    public void SqlColumnVerdict_WithoutAColumnListOnTheLine_IsNull(string text) =>
        Keywords.SqlColumnVerdict(text, At(text, "X")).Should().BeNull();

    [Theory]
    [InlineData("name,tel\nAnn,X", "Supports")]
    [InlineData("sku;name\nX;gasket", "Refutes")]
    [InlineData("| a | Phone |\n|---|---|\n| b | X |", "Supports")]
    [InlineData("intro\n\nname\tnote\nAnn\tX", "None")]
    public void TableColumnVerdict_UsesTheHeaderOfTheBlock(string text, string expected) =>
        Keywords.TableColumnVerdict(text, At(text, "X")).Should().Be(Enum.Parse<ContextVerdict>(expected));

    [Theory]
    [InlineData("name,tel\nAnn,b,c,X")]
    [InlineData("X,tel")]
    [InlineData("2024,4711\nAnn,X")]
    [InlineData("tel,a@b.ch\nAnn,X")]
    [InlineData("tel,sku\n\nAnn,X")]
    public void TableColumnVerdict_WithoutAMatchingHeader_IsNull(string text) =>
        Keywords.TableColumnVerdict(text, At(text, "X")).Should().BeNull();

    [Fact]
    public void TableColumnVerdict_HeaderBeyondTheLookBack_IsNull()
    {
        string rows = string.Concat(Enumerable.Repeat("Ann Lee,note\n", 20));
        string text = "name,tel\n" + rows + "Bo,X";
        Keywords.TableColumnVerdict(text, At(text, "X")).Should().BeNull();
        Keywords.TableColumnVerdict("name,tel\nBo,X", 12).Should().Be(ContextVerdict.Supports);
    }

    [Fact]
    public void TableColumnVerdict_ReadsOnlyTheLookBackBeforeTheCandidate()
    {
        // The streaming masker's contract: any text holding the MaxTableLookBack characters before the candidate
        // (and more, so that the cut is not mistaken for the start of the text) gives the verdict of the whole text.
        Gen<string> line = Gen.ListOf(Gen.Elements("name", "tel", "sku", "Ann", ",", ";", "|", "\t", " ", "\"", "7", "@", "x"))
            .Select(parts => string.Concat(parts));
        Gen<string> text = Gen.ListOf(Gen.Frequency((4, line), (1, Gen.Constant(""))))
            .Select(lines => string.Join("\n", lines));
        Prop.ForAll(text.ToArbitrary(), Gen.Choose(0, 100_000).ToArbitrary(), Gen.Choose(0, 100_000).ToArbitrary(), (t, a, b) =>
        {
            if (t.Length < ContextKeywords.MaxTableLookBack + 2)
            {
                return true;
            }

            int start = ContextKeywords.MaxTableLookBack + 1 + (a % (t.Length - ContextKeywords.MaxTableLookBack));
            int cut = 1 + (b % (start - ContextKeywords.MaxTableLookBack));
            return Keywords.TableColumnVerdict(t, start) == Keywords.TableColumnVerdict(t[cut..], start - cut);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ColumnVerdicts_OnArbitraryText_NeverThrow()
    {
        Gen<string> text = Gen.ListOf(Gen.Elements("VALUES", "(", ")", ",", ";", "|", "\t", "\n", "\r", "'", "\"", "tel", "sku", " ", "7", "@"))
            .Select(parts => string.Concat(parts));
        Prop.ForAll(text.ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (t, seed) =>
        {
            int start = t.Length == 0 ? 0 : seed % (t.Length + 1);
            _ = Keywords.SqlColumnVerdict(t, start);
            _ = Keywords.TableColumnVerdict(t, start);
            _ = Keywords.Nearest(t, start, 48, 1, stopAtValue: true);
            return true;
        }).QuickCheckThrowOnFailure();
    }
}
