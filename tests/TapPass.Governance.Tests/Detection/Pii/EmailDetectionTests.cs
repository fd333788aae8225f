using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class EmailDetectionTests
{
    [Theory]
    [InlineData("Mijn mailadres is veranderd naar ava.dumont@ostara.be, wil je", "ava.dumont@ostara.be")]
    [InlineData("write to someone@example.com.", "someone@example.com")]
    [InlineData("<JOHN.DOE+news@Mail.Example.CO.UK>", "JOHN.DOE+news@Mail.Example.CO.UK")]
    [InlineData("\"User\": \"jobs@parcel-hub.io\",", "jobs@parcel-hub.io")]
    [InlineData("mailto:dpo@minerva.eu?subject=x", "dpo@minerva.eu")]
    [InlineData("https://example.com/unsubscribe?email=jane_doe@example.org", "jane_doe@example.org")]
    [InlineData("(contact: a.b-c@sub.domain.app)", "a.b-c@sub.domain.app")]
    public void Detect_Email_SpanIsTheAddressOnly(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Email, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("cc @ava_dumont on the PR")]
    [InlineData("yarn add @babel/core")]
    [InlineData("@Inject private Foo foo;")]
    [InlineData("npm i react@18.2.0")]
    [InlineData("ssh admin@localhost")]
    [InlineData("login as user@host please")]
    [InlineData("postgresql://app:s3cret@pg1.ostara.lan:5432/orders")]
    [InlineData("mongodb://report:Pa.ss-w0rd@db.example.com:27017/logs")]
    [InlineData("https://user:pass@example.com/")]
    [InlineData("thanks @here!")]
    [InlineData("<img src=\"icon@2x.png\">")]
    [InlineData("background: url(logo@dark.svg)")]
    public void Detect_NotAnEmail_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Email, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_EmailWithZeroWidthCharacters_CoversThemAsWritten()
    {
        string text = "write me at ava.\u200Bdumont@ost\u2060ara.be please";
        Scan.ValuesOf(EntityTypes.Email, text).Should().Equal("ava.\u200Bdumont@ost\u2060ara.be");
    }

    [Fact]
    public void Detect_EmailWithCyrillicLookAlikes_IsFound()
    {
        string text = "my mail: \u0430va.dum\u043Ent@ostara.be";
        Scan.ValuesOf(EntityTypes.Email, text).Should().Equal("\u0430va.dum\u043Ent@ostara.be");
    }

    [Fact]
    public void Detect_EmailWithFullWidthAtAndDot_IsFound()
    {
        string text = "mail: ava\uFF20ostara\uFF0Ebe";
        Scan.ValuesOf(EntityTypes.Email, text).Should().Equal("ava\uFF20ostara\uFF0Ebe");
    }

    [Fact]
    public void Detect_EmailAfterEmoji_HasUtf16Offsets()
    {
        string text = "🙂🎉 mail jobs@kestrel.nl";
        var f = Scan.Pii.FindEntities(text).Single();
        f.Start.Should().Be(10);
        f.Length.Should().Be(15);
    }
}
