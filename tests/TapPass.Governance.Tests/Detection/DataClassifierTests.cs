using TapPass.Governance.Detection;

namespace TapPass.Governance.Tests.Detection;

public sealed class DataClassifierTests
{
    private static readonly DataClassifier Classifier = new();

    [Theory]
    [InlineData("SECRET")]
    [InlineData("SSN")]
    [InlineData("CREDIT_CARD")]
    [InlineData("IBAN")]
    public void Classify_CredentialOrRegulatedIdentifier_IsRestricted(string type)
    {
        Classifier.Classify("x", [new Finding(type, 0, 1)]).Should().Be(DataClassification.Restricted);
    }

    [Theory]
    [InlineData("EMAIL")]
    [InlineData("PHONE_NUMBER")]
    [InlineData("IP_ADDRESS")]
    public void Classify_PersonalData_IsConfidential(string type)
    {
        Classifier.Classify("x", [new Finding(type, 0, 1)]).Should().Be(DataClassification.Confidential);
    }

    [Theory]
    [InlineData("What is the capital of Belgium?", "Public")]
    [InlineData("INTERNAL ONLY: roadmap draft", "Internal")]
    [InlineData("Niet doorsturen aub, dit is intern gebruik.", "Internal")]
    [InlineData("the db is pg1.ostara.lan now", "Internal")]
    [InlineData("Confidential — Q3 numbers", "Confidential")]
    [InlineData("Please update the payroll sheet", "Confidential")]
    [InlineData("Strictly confidential: merger memo", "Restricted")]
    [InlineData("our confidentiality policy is public", "Public")]
    [InlineData("see appsettings.local.json", "Public")]
    [InlineData("a .lan suffix", "Public")]
    public void Classify_Markers(string text, string expected)
    {
        Classifier.Classify(text, []).ToString().Should().Be(expected);
    }

    [Fact]
    public void Classify_ConfiguredInternalDomain_IsInternal()
    {
        var options = new DataClassifierOptions();
        options.InternalDomains.Add("corp.example.com");
        var classifier = new DataClassifier(options);
        classifier.Classify("deploy to build7.corp.example.com tonight", []).Should().Be(DataClassification.Internal);
        classifier.Classify("see www.example.com", []).Should().Be(DataClassification.Public);
        classifier.Classify("corp.example.com.evil.io", []).Should().Be(DataClassification.Public);
    }

    [Fact]
    public void Classify_HighestLevelWins()
    {
        Classifier.Classify("internal only", [new Finding("EMAIL", 0, 1)]).Should().Be(DataClassification.Confidential);
        Classifier.Classify("internal only", [new Finding("EMAIL", 0, 1), new Finding("SECRET", 0, 1)]).Should().Be(DataClassification.Restricted);
    }

    [Fact]
    public void Constructor_EmptyMarker_Throws()
    {
        var options = new DataClassifierOptions();
        options.InternalMarkers.Add("  ");
        FluentActions.Invoking(() => new DataClassifier(options)).Should().Throw<ArgumentException>();
    }
}
