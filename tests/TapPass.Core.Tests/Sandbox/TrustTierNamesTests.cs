using FsCheck;
using FsCheck.Fluent;

namespace TapPass.Core.Tests.Sandbox;

public sealed class TrustTierNamesTests
{
    [Theory]
    [InlineData(TrustTier.Observer, "observer")]
    [InlineData(TrustTier.Worker, "worker")]
    [InlineData(TrustTier.Standard, "standard")]
    [InlineData(TrustTier.Full, "full")]
    public void ToWireName_EveryTier_MatchesProtocol(TrustTier tier, string expected) =>
        tier.ToWireName().Should().Be(expected);

    [Fact]
    public void Tiers_AreOrderedLowestFirst_AsInProtocol()
    {
        Enum.GetValues<TrustTier>().Should().BeInAscendingOrder();
        ((int)TrustTier.Observer).Should().BeLessThan((int)TrustTier.Worker);
        ((int)TrustTier.Worker).Should().BeLessThan((int)TrustTier.Standard);
        ((int)TrustTier.Standard).Should().BeLessThan((int)TrustTier.Full);
    }

    [Theory]
    [InlineData("observer", TrustTier.Observer)]
    [InlineData(" Worker ", TrustTier.Worker)]
    [InlineData("STANDARD", TrustTier.Standard)]
    [InlineData("full\t", TrustTier.Full)]
    public void TryParse_WireNames_CaseAndSpaceInsensitive(string text, TrustTier expected)
    {
        TrustTierNames.TryParse(text, out var tier).Should().BeTrue();
        tier.Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("3")]
    [InlineData("admin")]
    [InlineData("observerx")]
    [InlineData("default")]
    public void TryParse_UnknownOrNumeric_IsRejected(string? text) =>
        TrustTierNames.TryParse(text, out _).Should().BeFalse();

    [Fact]
    public void TryParse_OverlongInput_IsRejectedWithoutInspection() =>
        TrustTierNames.TryParse(new string(' ', 100) + "full", out _).Should().BeFalse();

    [Fact]
    public void ToWireName_UndefinedValue_Throws() =>
        FluentActions.Invoking(() => ((TrustTier)42).ToWireName()).Should().Throw<ArgumentOutOfRangeException>();

    [Fact]
    public void TryParse_RoundTripsEveryTier_AndAcceptsNothingElse()
    {
        Prop.ForAll<string>(text =>
        {
            var parsed = TrustTierNames.TryParse(text, out var tier);
            return !parsed || string.Equals(text.Trim(), tier.ToWireName(), StringComparison.OrdinalIgnoreCase);
        }).QuickCheckThrowOnFailure();

        foreach (var tier in Enum.GetValues<TrustTier>())
        {
            TrustTierNames.TryParse(tier.ToWireName(), out var back).Should().BeTrue();
            back.Should().Be(tier);
        }
    }
}
