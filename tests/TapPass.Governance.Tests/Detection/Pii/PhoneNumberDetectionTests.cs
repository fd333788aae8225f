using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class PhoneNumberDetectionTests
{
    [Theory]
    [InlineData("Call back (737) 607-5253.", "(737) 607-5253")]
    [InlineData("on-call: 212-555-0147", "212-555-0147")]
    [InlineData("cell 415.555.2671 after 6", "415.555.2671")]
    [InlineData("Phone: +1 212-555-0147", "+1 212-555-0147")]
    [InlineData("dial 1-800-555-0199 now", "1-800-555-0199")]
    [InlineData("US office: +1 (415) 555-2671", "+1 (415) 555-2671")]
    [InlineData("bel me op +32 470 12 34 56 als", "+32 470 12 34 56")]
    [InlineData("GSM 0470 12 34 56", "0470 12 34 56")]
    [InlineData("kantoor 02/123.45.67", "02/123.45.67")]
    [InlineData("Tel. +32 (0)2 123 45 67", "+32 (0)2 123 45 67")]
    [InlineData("mobiel 06 12345678", "06 12345678")]
    [InlineData("+31 20 123 4567", "+31 20 123 4567")]
    [InlineData("Rückfragen unter +49 (0)40 123 4567.", "+49 (0)40 123 4567")]
    [InlineData("Büro 0221 123456", "0221 123456")]
    [InlineData("+49 151 12345678", "+49 151 12345678")]
    [InlineData("mon numéro est le 06 12 34 56 78 et", "06 12 34 56 78")]
    [InlineData("+33 6 12 34 56 78", "+33 6 12 34 56 78")]
    [InlineData("London +44 20 7946 0958", "+44 20 7946 0958")]
    [InlineData("mobile 07700 900123", "07700 900123")]
    [InlineData("Manchester 0161 496 0000", "0161 496 0000")]
    [InlineData("Roma +39 06 1234 5678", "+39 06 1234 5678")]
    [InlineData("móvil +34 612 34 56 78", "+34 612 34 56 78")]
    [InlineData("llámame al móvil 612 34 56 78", "612 34 56 78")]
    [InlineData("Tokyo +81 3-1234-5678", "+81 3-1234-5678")]
    [InlineData("+86 138 0013 8000", "+86 138 0013 8000")]
    [InlineData("+91 98765 43210", "+91 98765 43210")]
    [InlineData("Sydney +61 2 9876 5432", "+61 2 9876 5432")]
    [InlineData("+7 495 123-45-67", "+7 495 123-45-67")]
    [InlineData("0032 2 123 45 67", "0032 2 123 45 67")]
    [InlineData("phone: 0612345678", "0612345678")]
    [InlineData("'+32470123456',", "+32470123456")]
    public void Detect_PhoneNumber_SpanCoversPrefixParenthesesAndSeparators(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("Spare part 212-555-0147 in stock.")]
    [InlineData("SKU 212-555-0147")]
    [InlineData("Catalog item 415-555-2671 discontinued.")]
    [InlineData("Model no. 12.34.56.78.90")]
    [InlineData("Order 1234 5678 90 confirmed.")]
    [InlineData("Order 123456789 confirmed.")]
    [InlineData("Case #212-555-0147 closed")]
    [InlineData("Lot 0470 12 34 56 recalled")]
    [InlineData("ISBN 978-3-16-148410-0")]
    [InlineData("see 978-3-16-148410-0 for the reference edition")]
    [InlineData("last_seen=1712345678")]
    [InlineData("Token issued at 1699999999 (unix).")]
    [InlineData("Due 2024-05-12, reminder sent 2024-06-01.")]
    [InlineData("at 2023-05-12 14:22:01 the job ran")]
    [InlineData("INSERT INTO t VALUES ('03/10/2025')")]
    [InlineData("from 12.05.2023 to 14.05.2023")]
    [InlineData("Installed version 7.14.5.112")]
    [InlineData("server 192.168.1.20 is down")]
    [InlineData("Shipment 4539 1234 5678 9012 left the warehouse.")]
    [InlineData("ref=3782 822463 10005 status=queued")]
    [InlineData("Internal account code NL12ABNA0417164300")]
    [InlineData("IBAN NL12 ABNA 0417 1643 00 fails the check")]
    [InlineData("FR76 3000 6000 0112 3456 7890 18")]
    [InlineData("Serial 000-12-3456 expired")]
    [InlineData("x1234 0470 12 34 56")]
    [InlineData("Total: 1234567 EUR")]
    [InlineData("It costs 12345678 in total")]
    [InlineData("uuid 123e4567-e89b-12d3-a456-426614174000")]
    [InlineData("ratio 1/2/3/4/5/6/7")]
    public void Detect_PhoneShapedCode_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_PhoneWithNonBreakingHyphenAndThinSpace_IsFound()
    {
        string text = "call 212\u2011555\u20110147 or +32\u2009470\u00A012\u00A034\u00A056";
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal("212\u2011555\u20110147", "+32\u2009470\u00A012\u00A034\u00A056");
    }

    [Fact]
    public void Detect_PhoneWithFullWidthDigits_IsFound()
    {
        string text = "tel ０４７０ １２ ３４ ５６";
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal("０４７０ １２ ３４ ５６");
    }
    [Theory]
    [InlineData("Candidate Ann Lee, SSN 123-45-6789, reachable at 1-800-555-0199.", "1-800-555-0199")]
    [InlineData("Candidate Ann Lee, SSN 123 45 6789, reachable at 415.555.2671.", "415.555.2671")]
    [InlineData("Order 4711 shipped. Questions: 212-555-0147", "212-555-0147")]
    public void Detect_KeywordOfAnEarlierValue_DoesNotRefuteTheNextNumber(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("Your account manager can be reached at +44 20 7946 0958", "+44 20 7946 0958")]
    [InlineData("INSERT INTO klienci (imie, telefon, konto) VALUES ('Jan', '0048 512 345 678');", "0048 512 345 678")]
    public void Detect_InternationalNumber_IsRefutedOnlyByAKeywordRightBeforeIt(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("Order no. 0044 2071 8390 12 shipped")]
    [InlineData("SKU +44 2071 8390")]
    [InlineData("Lot: +41 44 668 18 00")]
    public void Detect_InternationalShapeRightAfterARefutingKeyword_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().BeEmpty();
    }

    [Theory]
    [InlineData("TWILIO_FROM=+1 (415) 555-2671", "+1 (415) 555-2671")]
    [InlineData("ONCALL_PHONE=+41 44 668 18 00", "+41 44 668 18 00")]
    [InlineData("TWILIO_FROM=(674)272-7651", "(674)272-7651")]
    [InlineData("SUPPORT_LINE=1-800-965-2395", "1-800-965-2395")]
    [InlineData("DEBUG sms.send to=070-438 88 28 template=otp", "070-438 88 28")]
    [InlineData("DEBUG sms.send to=078/520.42.24 template=otp", "078/520.42.24")]
    public void Detect_NumberAssignedWithEquals_IsFound(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("user_id=0612345678")]
    [InlineData("ORDER_ID=212-555-0147")]
    [InlineData("sku=0470 12 34 56")]
    public void Detect_AssignedDigitsWhoseKeyNamesSomethingElse_AreNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().BeEmpty();
    }

    [Theory]
    [InlineData("Zadzwoń do mnie: 512-345-678, albo napisz.", "512-345-678")]
    [InlineData("Zadzwoń do mnie: (22) 316-26-48", "(22) 316-26-48")]
    [InlineData("Cumprimentos, Ana\nTelm. 912 345 678", "912 345 678")]
    [InlineData("Tlf. 32 12 34 56", "32 12 34 56")]
    [InlineData("Soita minulle numeroon 401234567 huomenna.", "401234567")]
    [InlineData("Il mio cellulare: 347 123 4567", "347 123 4567")]
    public void Detect_NationalNumberAfterAPhoneWordInOtherLanguages_IsFound(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected);
    }
    [Theory]
    [InlineData("INSERT INTO klienci (imie, telefon, konto) VALUES ('Anja', '(22) 673-18-09', 'x');", "(22) 673-18-09")]
    [InlineData("INSERT INTO c (name, phone) VALUES ('A', '512 345 678'), ('B, jr.', '612 345 678');", "512 345 678|612 345 678")]
    [InlineData("INSERT INTO orders (order_no, phone) VALUES ('212-555-0147', '0470 12 34 56');", "0470 12 34 56")]
    public void Detect_ValueInSqlInsertTuple_IsJudgedByItsColumnName(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected.Split('|'));
    }
    [Theory]
    [InlineData("name,email,phone,iban\nKenji Haugen,k.h@bluewin.ch,625 357 597,AT274453063074003132", "625 357 597")]
    [InlineData("name;tel\r\n\"Brien, Niamh\";(22) 989-53-46\r\n", "(22) 989-53-46")]
    [InlineData("| Office | Phone |\n|---|---|\n| HQ | 625 357 597 |\n| Branch | 612 345 678 |", "625 357 597|612 345 678")]
    [InlineData("id\tnotes\n7\tcall 612 345 678 tomorrow", "612 345 678")]
    public void Detect_NumberInATableRow_IsJudgedByItsColumnHeader(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal(expected.Split('|'));
    }

    [Theory]
    [InlineData("sku;name\n212-555-0147;gasket")]
    [InlineData("| Part | Name |\n|---|---|\n| 0470 12 34 56 | gasket |")]
    public void Detect_PhoneShapeInATableColumnThatNamesSomethingElse_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.Phone, text).Should().BeEmpty();
    }

    [Fact]
    public void Detect_NumbersAfterOneLetterSignatureLabels_AreFound()
    {
        string text = "Best regards\nAoife Haugen\nAccounts Payable | Alpenfluss\nT 675-042-801 | M: 22 408 3817\nF. (22) 924-35-83";
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal("675-042-801", "22 408 3817", "(22) 924-35-83");
    }

    [Fact]
    public void Detect_KeywordBeforeAnEmailAddress_DoesNotLabelTheNumberAfterIt()
    {
        string text = "Summarize the ticket: customer Jakub Gruber (kundservice@gmx.at, 020 3428 0393) wants a refund.";
        Scan.ValuesOf(EntityTypes.Phone, text).Should().Equal("020 3428 0393");
    }
}
