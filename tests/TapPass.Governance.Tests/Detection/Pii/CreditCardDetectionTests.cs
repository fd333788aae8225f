using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class CreditCardDetectionTests
{
    [Theory]
    [InlineData("card 4111 1111 1111 1111 blocked", "4111 1111 1111 1111")]
    [InlineData("Card: 6011-0003-2748-7694", "6011-0003-2748-7694")]
    [InlineData("VALUES (21, '3783 589433 42986', '03/10/2025')", "3783 589433 42986")]
    [InlineData("amex 378282246310005.", "378282246310005")]
    [InlineData("mc 5555555555554444", "5555555555554444")]
    [InlineData("mc2 2221000000000009", "2221000000000009")]
    [InlineData("discover 6445644564456445", "6445644564456445")]
    [InlineData("discover 6500000000000002", "6500000000000002")]
    public void Detect_LuhnValidCard_IsFound(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.CreditCard, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("card 4111 1111 1111 1112 declined as invalid")] // Luhn twin
    [InlineData("Membership card 4539 1234 5678 9012 (checksum fails).")]
    [InlineData("3782 822463 10006")]
    [InlineData("3782-822463 10005")] // mixed separators
    [InlineData("1234 5678 9012 3452")] // Luhn-valid, no issuer
    [InlineData("ref 41111111111111110")] // 17 digits
    [InlineData("5655555555554443")] // 56 is not Mastercard
    [InlineData("3530111333300000")] // JCB: not in scope
    [InlineData("4111 1111 1111 1111 1111")]
    [InlineData("v4111.1111.1111.1111")]
    public void Detect_NotACard_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.CreditCard, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_CardWithFullWidthDigits_IsFound()
    {
        string card = "４１１１ １１１１ １１１１ １１１１";
        Scan.ValuesOf(EntityTypes.CreditCard, "card " + card).Should().Equal(card);
    }

    [Fact]
    public void Detect_CardWithMathematicalDigits_CoversSurrogatePairs()
    {
        // U+1D7D2 MATHEMATICAL BOLD DIGIT FOUR etc.: each digit is two UTF-16 units.
        string card = string.Concat("4111-1111-1111-1111".Select(c => char.IsDigit(c) ? char.ConvertFromUtf32(0x1D7CE + (c - '0')) : c.ToString()));
        string text = "pay using " + card + " please";
        var f = Scan.Pii.FindEntities(text).Single();
        f.Type.Should().Be(EntityTypes.CreditCard);
        f.Start.Should().Be(10);
        f.Length.Should().Be(card.Length);
        card.Length.Should().Be(35);
    }

    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("4111111111111112", false)]
    [InlineData("79927398713", true)]
    public void Luhn_KnownValues(string digits, bool valid)
    {
        Checksums.Luhn(digits).Should().Be(valid);
    }
}
