using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class IbanDetectionTests
{
    [Theory]
    [InlineData("stort op BE71 0961 2345 6769 aub", "BE71 0961 2345 6769")]
    [InlineData("IBAN BE71096123456769.", "BE71096123456769")]
    [InlineData("rekening NL91 ABNA 0417 1643 00 t.n.v.", "NL91 ABNA 0417 1643 00")]
    [InlineData("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00")]
    [InlineData("\"iban\": \"GB29NWBK60161331926819\"", "GB29NWBK60161331926819")]
    [InlineData("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606")]
    [InlineData("ES91 2100 0418 4502 0005 1332 EUR", "ES91 2100 0418 4502 0005 1332")]
    [InlineData("IT60 X054 2811 1010 0000 0123 456", "IT60 X054 2811 1010 0000 0123 456")]
    [InlineData("LU28 0019 4006 4475 0000", "LU28 0019 4006 4475 0000")]
    [InlineData("CH93 0076 2011 6238 5295 7", "CH93 0076 2011 6238 5295 7")]
    [InlineData("NO9386011117947", "NO9386011117947")]
    [InlineData("SA03 8000 0000 6080 1016 7519", "SA03 8000 0000 6080 1016 7519")]
    public void Detect_Mod97ValidIban_IsFound(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Iban, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("BE72 0961 2345 6769")] // mod-97 twin
    [InlineData("BE71 0961 2345 6768")]
    [InlineData("Internal account code NL12ABNA0417164300")]
    [InlineData("BE71 0961 2345 676")] // too short
    [InlineData("BE71 0961 2345 67690")] // too long
    [InlineData("BE71 09612345 6769")] // irregular grouping
    [InlineData("XX71 0961 2345 6769")] // unknown country
    [InlineData("ABE71096123456769")] // glued
    public void Detect_InvalidIban_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Iban, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_IbanWithNoBreakSpaces_IsFound()
    {
        string iban = "BE71\u00A00961\u00A02345\u00A06769";
        Scan.ValuesOf(EntityTypes.Iban, "IBAN " + iban).Should().Equal(iban);
    }

    [Fact]
    public void Detect_IbanWithZeroWidthSpace_CoversIt()
    {
        string iban = "BE71\u200B096123456769";
        Scan.ValuesOf(EntityTypes.Iban, "IBAN " + iban + ".").Should().Equal(iban);
    }

    [Theory]
    [InlineData("BE71096123456769", true)]
    [InlineData("GB82WEST12345698765432", true)]
    [InlineData("GB82WEST12345698765433", false)]
    public void Mod97_KnownValues(string iban, bool valid)
    {
        Checksums.IbanMod97(iban).Should().Be(valid);
    }
}
