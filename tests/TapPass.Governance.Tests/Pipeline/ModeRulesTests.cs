using TapPass.Governance.Pipeline;
using TapPass.Governance.Policy;

namespace TapPass.Governance.Tests.Pipeline;

public sealed class ModeRulesTests
{
    [Theory]
    [InlineData("Observe", "block", "flag", true)]
    [InlineData("Observe", "mask", "flag", false)]
    [InlineData("Observe", "redact", "flag", false)]
    [InlineData("Observe", "flag", "flag", false)]
    [InlineData("Observe", "none", "none", false)]
    [InlineData("Warn", "block", "flag", true)]
    [InlineData("Warn", "mask", "mask", false)]
    [InlineData("Warn", "redact", "redact", false)]
    [InlineData("Warn", "flag", "flag", false)]
    [InlineData("Warn", "none", "none", false)]
    [InlineData("Enforce", "block", "block", false)]
    [InlineData("Enforce", "mask", "mask", false)]
    [InlineData("Enforce", "redact", "redact", false)]
    [InlineData("Enforce", "flag", "flag", false)]
    [InlineData("Enforce", "none", "none", false)]
    [InlineData("Lockdown", "block", "block", false)]
    [InlineData("Lockdown", "mask", "block", false)]
    [InlineData("Lockdown", "redact", "block", false)]
    [InlineData("Lockdown", "flag", "block", false)]
    [InlineData("Lockdown", "none", "block", false)]
    public void Apply_EveryModeAndAction(string mode, string configured, string expected, bool wouldBlock)
    {
        ModeRules.Apply(Enum.Parse<GovernanceMode>(mode), blockingSuspended: false, configured, out var would).Should().Be(expected);
        would.Should().Be(wouldBlock);
    }

    [Theory]
    [InlineData("Enforce", "block", "flag")]
    [InlineData("Lockdown", "mask", "flag")]
    [InlineData("Enforce", "mask", "mask")]
    public void Apply_BreakGlassObserve_SuspendsBlockingOnly(string mode, string configured, string expected)
    {
        ModeRules.Apply(Enum.Parse<GovernanceMode>(mode), blockingSuspended: true, configured, out var would).Should().Be(expected);
        if (expected == "flag")
        {
            would.Should().BeTrue();
        }
    }

    [Fact]
    public void Strongest_OrdersBlockMaskFlagPass()
    {
        ModeRules.Strongest([]).Should().Be("pass");
        ModeRules.Strongest(["none", "flag"]).Should().Be("flag");
        ModeRules.Strongest(["flag", "mask", "none"]).Should().Be("mask");
        ModeRules.Strongest(["mask", "block"]).Should().Be("block");
    }
}
