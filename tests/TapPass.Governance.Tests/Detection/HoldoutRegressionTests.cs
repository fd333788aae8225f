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
}
