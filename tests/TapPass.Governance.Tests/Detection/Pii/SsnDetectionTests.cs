using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class SsnDetectionTests
{
    [Theory]
    [InlineData("full SSN in CRM is 856-60-8919. Call back", "856-60-8919")]
    [InlineData("Applicant: Ava; SSN 123 45 6789; phone", "123 45 6789")]
    [InlineData("Generate test data similar to: Wout Neumann, 009-61-1484, x", "009-61-1484")]
    [InlineData("| Nora Bos | 665-01-0001 |", "665-01-0001")]
    [InlineData("SELECT * FROM users WHERE ssn = '899-99-9999'", "899-99-9999")]
    [InlineData("ssn: 123456789", "123456789")]
    [InlineData("{\"ssn\": \"123456789\"}", "123456789")]
    [InlineData("Social Security Number 123456789", "123456789")]
    public void Detect_ValidSsn_IsFound(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Ssn, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("Serial 000-12-3456 — warranty expired.")]
    [InlineData("Form number 666-12-3456 is obsolete.")]
    [InlineData("Form number 901-12-3456 is obsolete.")]
    [InlineData("id 123-00-4567")]
    [InlineData("id 123-45-0000")]
    [InlineData("Parcel 123456789 delayed.")]
    [InlineData("Order 123-45-6789 shipped")]
    [InlineData("mixed 123-45 6789 separators")]
    [InlineData("phone 1-123-45-6789")]
    public void Detect_InvalidOrUndeclaredSsn_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Ssn, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_SsnWithFullWidthDigits_CoversTheTextAsWritten()
    {
        string text = "ssn=８５６-６０-８９１９";
        Scan.ValuesOf(EntityTypes.Ssn, text).Should().Equal("８５６-６０-８９１９");
    }
}
