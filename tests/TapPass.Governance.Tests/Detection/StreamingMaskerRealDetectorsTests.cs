using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection;

/// <summary>
/// The streaming masker over the production scanner (every detector, real secret formats): a value split across
/// chunks is masked exactly as in the whole text, and no emitted prefix is ever taken back.
/// </summary>
public sealed class StreamingMaskerRealDetectorsTests
{
    private static readonly ContentScanner Scanner = DetectionDefaults.CreateScanner();

    // Format-valid fakes assembled at run time so no scanner flags this source file.
    private static readonly string[] Samples =
    [
        "aws key " + "AKIA" + "QX7PZ2LM4N8R6TVB" + " and secret " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz".Replace('z', 'q') + " end",
        "token " + "ghp_" + "R8s2Kq9LmT4vWx7YzA1bC3dE5fG6hJ0kN2pQ" + ", mail ava.dumont@ostara.be",
        "Authorization: Bearer " + "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk" + " ok",
        "DATABASE_URL=" + "postgresql://app:S3cr3t-Pa55@db.internal:5432/orders?sslmode=require" + " # prod",
        "Server=db1.lan;Database=app;User Id=svc;" + "Password=Hunter2!xyz;" + " then card 4111 1111 1111 1111.",
        "password=\"" + "Summer2024!" + "\" and SSN 856-60-8919",
        "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA " + "PRIVATE KEY-----\nafter",
        "stripe " + "sk_live_" + "51HqLyjWDarjtT1zdp7dcXYZ" + " and slack " + "xoxb-" + "1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ];

    [Fact]
    public void Samples_ContainTheSecretsTheyAreMeantTo()
    {
        foreach (var text in Samples)
        {
            Scanner.FindEntities(text).Should().Contain(f => f.Type == EntityTypes.Secret, text);
        }
    }

    [Fact]
    public void Write_SplitAtEveryOffset_EqualsWholeTextMasking()
    {
        foreach (var text in Samples)
        {
            var expected = Masker.Mask(Scanner, text).Text;
            for (var k = 0; k <= text.Length; k++)
            {
                Stream(text, [k], expected).Should().Be(expected, $"split at {k} of \"{text}\"");
            }
        }
    }

    [Fact]
    public void Write_RandomChunkings_EqualWholeTextMasking()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            var text = string.Join(' ', Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Samples[rng.Next(Samples.Length)]));
            var expected = Masker.Mask(Scanner, text).Text;
            var cuts = new SortedSet<int>();
            for (var i = rng.Next(0, 20); i > 0; i--)
            {
                cuts.Add(rng.Next(0, text.Length + 1));
            }

            return Stream(text, [.. cuts], expected) == expected;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Fact]
    public void Write_TablesWithPhoneColumns_RandomChunkings_EqualWholeTextMasking()
    {
        // Phone-shaped values are judged by their column's header (phone: masked, sku: kept), which can sit rows
        // above them: the streamed answer must decide exactly like the whole text, however it is chunked.
        var sawMaskedRow = false;
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            var text = Table(rng);
            var expected = Masker.Mask(Scanner, text).Text;
            sawMaskedRow |= expected.Contains("[MASKED_PHONE_NUMBER]", StringComparison.Ordinal);
            var cuts = new SortedSet<int>();
            for (var i = rng.Next(0, 40); i > 0; i--)
            {
                cuts.Add(rng.Next(0, text.Length + 1));
            }

            return Stream(text, [.. cuts], expected) == expected;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
        sawMaskedRow.Should().BeTrue("the generated tables must exercise the header rule");
    }

    [Fact]
    public void Write_ShortPhoneTable_MasksTheRowsNumberByItsHeader()
    {
        const string text = "name;tel\nAnn Lee;625 357 597\nBo Ek;612 345 678\n";
        var expected = Masker.Mask(Scanner, text).Text;
        expected.Should().Be("name;tel\nAnn Lee;[MASKED_PHONE_NUMBER]\nBo Ek;[MASKED_PHONE_NUMBER]\n");
        Stream(text, [3, 9, 17, 20, 33], expected).Should().Be(expected);
    }

    private static string Table(Random rng)
    {
        string[] names = ["Ann Lee", "Bo Ek", "Kenji Haugen", "Niamh Brien", "Jakub Gruber", "Ines Moreau"];
        string[] columns = ["phone", "tel", "sku", "part", "notes", "mobile"];
        var delimiter = rng.Next(4) switch
        {
            0 => ",",
            1 => ";",
            2 => "\t",
            _ => " | ",
        };
        var markdown = delimiter == " | ";
        var column = columns[rng.Next(columns.Length)];
        var sb = new StringBuilder();
        if (rng.Next(2) == 0)
        {
            sb.Append("Here is the list you asked for:").Append(rng.Next(2) == 0 ? "\n\n" : "\n");
        }

        sb.Append(markdown ? "| name | " + column + " |\n|---|---|\n" : "name" + delimiter + column + "\n");
        for (var r = rng.Next(1, 14); r > 0; r--)
        {
            var value = rng.Next(3) switch
            {
                0 => $"{rng.Next(600, 699)} {rng.Next(100, 999)} {rng.Next(100, 999)}",
                1 => $"({rng.Next(10, 99)}) {rng.Next(100, 999)}-{rng.Next(10, 99)}-{rng.Next(10, 99)}",
                _ => $"0{rng.Next(20, 99)} {rng.Next(1000, 9999)} {rng.Next(1000, 9999)}",
            };
            var name = names[rng.Next(names.Length)];
            sb.Append(markdown ? "| " + name + " | " + value + " |" : name + delimiter + value).Append('\n');
            if (rng.Next(12) == 0)
            {
                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string Stream(string text, IReadOnlyList<int> cuts, string expected)
    {
        var masker = new StreamingMasker(Scanner);
        var output = new StringBuilder();
        var pos = 0;
        foreach (var cut in cuts.Append(text.Length))
        {
            output.Append(masker.Write(text[pos..cut]).Text);
            pos = cut;
            expected.StartsWith(output.ToString(), StringComparison.Ordinal).Should().BeTrue("nothing is sent and taken back");
        }

        return output.Append(masker.Flush().Text).ToString();
    }
}
