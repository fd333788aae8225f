using TapPass.Sandbox;

namespace TapPass.Core.Tests.Sandbox;

public sealed class SandboxOptionsTests
{
    [Fact]
    public void Defaults_AreTheDefaultProfile()
    {
        var options = new SandboxOptions();

        options.Tier.Should().BeNull();
        options.Workspace.Should().BeNull();
        options.Gateway.Should().BeNull();
        options.BestEffort.Should().BeFalse();
        options.AllowedPrograms.Should().Equal(SandboxOptions.DefaultAllowedPrograms);
        options.AllowedPrograms.Should().Contain(["ls", "cat", "git", "grep"]);
        options.ProtectedPaths.Should().Contain([".ssh", ".aws", ".config/gcloud", ".azure", ".kube", ".docker"]);
        options.AllowedTcpPorts.Should().BeEmpty();
        FluentActions.Invoking(options.Validate).Should().NotThrow();
    }

    [Theory]
    [InlineData("http://localhost:9620", 9620)]
    [InlineData("https://tappass.example.com", 443)]
    [InlineData("http://tappass.example.com", 80)]
    public void GatewayPort_ComesFromTheUri(string uri, int expected) =>
        new SandboxOptions { Gateway = new Uri(uri) }.GatewayPort.Should().Be(expected);

    [Fact]
    public void Validate_ObserverWithWritePaths_IsContradictory()
    {
        var options = new SandboxOptions { Tier = TrustTier.Observer };
        options.ExtraWritePaths.Add("/tmp");

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.ExtraWritePaths));
    }

    [Fact]
    public void Validate_ObserverWithTcpPorts_IsContradictory()
    {
        var options = new SandboxOptions { Tier = TrustTier.Observer };
        options.AllowedTcpPorts.Add(443);

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.AllowedTcpPorts));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Validate_PortOutOfRange_Throws(int port)
    {
        var options = new SandboxOptions();
        options.AllowedTcpPorts.Add(port);

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("bin/ls")]
    [InlineData("l\0s")]
    public void Validate_BadProgram_Throws(string program)
    {
        var options = new SandboxOptions();
        options.AllowedPrograms.Add(program);

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.AllowedPrograms));
    }

    [Fact]
    public void Validate_TooManyEntries_Throws()
    {
        var options = new SandboxOptions();
        for (var i = 0; i <= SandboxOptions.MaxListEntries; i++)
        {
            options.ExtraReadPaths.Add("/srv/" + i);
        }

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.ExtraReadPaths));
    }

    [Fact]
    public void Validate_OverlongPath_Throws()
    {
        var options = new SandboxOptions { Workspace = "/" + new string('a', SandboxOptions.MaxPathLength) };

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.Workspace));
    }

    [Fact]
    public void Validate_RelativeGateway_Throws()
    {
        var options = new SandboxOptions { Gateway = new Uri("/v1", UriKind.Relative) };

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.Gateway));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(61)]
    public void Validate_ThreadTimeoutOutOfRange_Throws(int seconds)
    {
        var options = new SandboxOptions { ThreadConfirmationTimeout = TimeSpan.FromSeconds(seconds) };

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Validate_UndefinedTier_Throws()
    {
        var options = new SandboxOptions { Tier = (TrustTier)9 };

        FluentActions.Invoking(options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(SandboxOptions.Tier));
    }
}
