namespace TapPass.Core.Tests;

public sealed class ClassificationTests
{
    [Theory]
    [InlineData(Classification.Public, "PUBLIC")]
    [InlineData(Classification.Internal, "INTERNAL")]
    [InlineData(Classification.Confidential, "CONFIDENTIAL")]
    [InlineData(Classification.Restricted, "RESTRICTED")]
    public void WireNames_RoundTrip(Classification value, string wire)
    {
        value.ToWire().Should().Be(wire);
        ClassificationNames.TryParse(" " + wire.ToLowerInvariant() + " ", out var parsed).Should().BeTrue();
        parsed.Should().Be(value);
    }

    [Fact]
    public void TryParse_Unknown_IsFalse()
    {
        ClassificationNames.TryParse("SECRET", out _).Should().BeFalse();
        ClassificationNames.TryParse(null, out _).Should().BeFalse();
    }
}
