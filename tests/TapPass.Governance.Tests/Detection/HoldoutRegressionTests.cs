using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection;

/// <summary>
/// Secret-detector errors found on the independent hold-out corpus (bench/holdout): each case states the
/// labelling rule it follows, not a corpus line.
/// </summary>
public sealed class HoldoutRegressionTests
{
    private static readonly ContentScanner Scanner = new([new SecretDetector()], null, null);

    private static List<string> Secrets(string text) =>
        Scanner.FindEntities(text).Where(f => f.Type == EntityTypes.Secret).Select(f => text.Substring(f.Start, f.Length)).ToList();

    [Theory]
    [InlineData("- **Password:** `Qwerty2021!`", "Qwerty2021!")]
    [InlineData("- **Password:** `iC+uptOI$yCI=4d`\n- **User:** `niamh`", "iC+uptOI$yCI=4d")]
    [InlineData("**Password**: z5iac6+_K#X", "z5iac6+_K#X")]
    [InlineData("*pw*: `Tulipan2024!`", "Tulipan2024!")]
    public void Detect_PasswordAfterMarkdownEmphasisedLabel_IsTheValueOnly(string text, string expected) =>
        Secrets(text).Should().Equal(expected);

    [Theory]
    [InlineData("**Password:** ********")]
    [InlineData("**Password:** `${DB_PASSWORD}`")]
    [InlineData("**Password** must be at least 12 characters long.")]
    public void Detect_MarkdownEmphasisedPasswordLabelWithoutARealValue_IsNotReported(string text) =>
        Secrets(text).Should().BeEmpty();

    [Theory]
    [InlineData("creds ASIAUUQTDXTTTMSVAVLU", "ASIAUUQTDXTTTMSVAVLU")]
    [InlineData("aws_access_key_id = AKIAQWERTZXCVBNMLKJH", "AKIAQWERTZXCVBNMLKJH")]
    [InlineData("key: ASIAUUQTDXTTT\u041cSV\u0410VLU", "ASIAUUQTDXTTT\u041cSV\u0410VLU")]
    public void Detect_AwsAccessKeyIdWithoutADigit_IsFound(string text, string expected) =>
        Secrets(text).Should().Equal(expected);

    [Theory]
    [InlineData("team ASIAPACIFICSALESTEAM")]
    [InlineData("AKIANORTHEASTREGIONS")]
    public void Detect_PrefixFollowedByUpperCaseWords_IsNotAnAwsKey(string text) =>
        Secrets(text).Should().BeEmpty();
    [Theory]
    [InlineData("password = \"fIrDFdMdiLYtHLr\"", "fIrDFdMdiLYtHLr")]
    [InlineData("[auth]\nuser = \"ines\"\npassword = \"QmXzRtPLkwHj\"", "QmXzRtPLkwHj")]
    public void Detect_QuotedLettersOnlyPasswordWithRandomCase_IsFound(string text, string expected) =>
        Secrets(text).Should().Equal(expected);

    [Theory]
    [InlineData("password = \"userPassword\"")]
    [InlineData("password = \"Password\"")]
    [InlineData("password = \"required\"")]
    [InlineData("password = userPasswordHASH")]
    public void Detect_QuotedWordOrIdentifierAsPassword_IsNotReported(string text) =>
        Secrets(text).Should().BeEmpty();

    [Theory]
    [InlineData("<appSettings>\n  <add key=\"SmtpPassword\" value=\"Wisla960$4\" />\n</appSettings>", "Wisla960$4")]
    [InlineData("<add key=\"DbPassword\" value=\"Admin2024!!6\"/>", "Admin2024!!6")]
    [InlineData("define( 'DB_PASSWORD', 'copper-river-quartz50' );", "copper-river-quartz50")]
    [InlineData("define('DB_PASSWORD', 'Qwerty2026');", "Qwerty2026")]
    [InlineData("os.Setenv(\"DB_PASSWORD\", \"68vjahWvDT1R0\")", "68vjahWvDT1R0")]
    public void Detect_PasswordInKeyValueAttributesOrSetterCall_IsTheValueOnly(string text, string expected) =>
        Secrets(text).Should().Equal(expected);

    [Theory]
    [InlineData("<add key=\"SmtpPassword\" value=\"\" />")]
    [InlineData("<add key=\"SmtpPassword\" value=\"${SMTP_PASSWORD}\" />")]
    [InlineData("define('DB_PASSWORD', getenv('DB_PASSWORD'));")]
    [InlineData("t(\"password\", \"Mot de passe\")")]
    [InlineData("fields = (\"password\", \"confirm2\")")]
    public void Detect_KeyValueAttributeOrCallWithoutALiteralPassword_IsNotReported(string text) =>
        Secrets(text).Should().BeEmpty();

    [Theory]
    [InlineData("Lösenordet till kontot är Qwerty2025#9 tills vidare.", "Qwerty2025#9")]
    [InlineData("Passordet er Fjord2024! inntil videre.", "Fjord2024!")]
    [InlineData("Haslo do serwera to Midsommar249 i prosze go nikomu nie podawac.", "Midsommar249")]
    [InlineData("Salasana on Sauna1987# huomiseen asti.", "Sauna1987#")]
    public void Detect_PasswordInNordicOrPolishProse_IsTheValueOnly(string text, string expected) =>
        Secrets(text).Should().Equal(expected);

    [Theory]
    [InlineData("Send the password to Anna2024 by mail.")]
    [InlineData("The password to the VPN is in the vault.")]
    public void Detect_EnglishToAfterPassword_IsNotACopula(string text) =>
        Secrets(text).Should().BeEmpty();

    [Fact]
    public void Detect_TwilioAccountSid_IsAnIdentifierNotASecret()
    {
        // A credential is what grants access: the Account SID names the account (like a user name), the auth token
        // is the secret. Values assembled at run time so no scanner flags this file.
        var sid = "AC" + "82e261309e39940e457e361cb1abaf3a";
        var token = "378412a7787bfde15af3d63f" + "07ba5bd3";
        Secrets("[twilio]\naccount = \"" + sid + "\"\nauth_token = \"" + token + "\"").Should().Equal(token);
        Secrets("TWILIO_ACCOUNT_SID=" + sid).Should().BeEmpty();
    }

    [Fact]
    public void Detect_TwilioApiKey_IsStillASecret()
    {
        var key = "SK" + "0219960b3efef55f9292c6107706b42f";
        Secrets("twilio api key " + key).Should().Equal(key);
    }
}
