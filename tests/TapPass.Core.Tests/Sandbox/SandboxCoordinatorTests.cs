using FsCheck;
using FsCheck.Fluent;
using TapPass.Sandbox;

namespace TapPass.Core.Tests.Sandbox;

/// <summary>
/// The decisions around the kernel — refuse, best effort, only tighten, what the report claims — with a fake kernel,
/// so they are tested in-process without locking the test host down.
/// </summary>
public sealed class SandboxCoordinatorTests
{
    [Fact]
    public void NoLandlock_Strict_ThrowsPlatformNotSupported_AndAppliesNothing()
    {
        var kernel = new FakeKernel(abi: 0, unsupported: "This kernel has no Landlock.");
        var coordinator = new SandboxCoordinator(kernel);

        FluentActions.Invoking(() => coordinator.Secure(new SandboxOptions { Tier = TrustTier.Worker }))
            .Should().Throw<PlatformNotSupportedException>().WithMessage("*no Landlock*BestEffort*");
        kernel.Enforcements.Should().Be(0);
        coordinator.Current.Should().BeNull();
    }

    [Fact]
    public void NoLandlock_BestEffort_ReportsThatNothingIsEnforced()
    {
        var kernel = new FakeKernel(abi: 0, unsupported: "Landlock needs Linux.");
        var coordinator = new SandboxCoordinator(kernel);

        var report = coordinator.Secure(new SandboxOptions { Tier = TrustTier.Observer, BestEffort = true });

        report.Enforced.Should().BeFalse();
        report.AbiVersion.Should().Be(0);
        report.Layers.Should().Be(0);
        report.Rules.Should().BeEmpty("no rule is claimed when none is enforced");
        report.NotEnforced.Should().ContainSingle().Which.Should().StartWith("nothing is enforced").And.Contain("Landlock needs Linux");
        report.Tier.Should().Be(TrustTier.Observer, "the gateway still applies the requested tier");
        kernel.Enforcements.Should().Be(0);
        coordinator.Current.Should().BeSameAs(report);
    }

    [Fact]
    public void KernelWithoutNetworkRules_Strict_Throws()
    {
        var coordinator = new SandboxCoordinator(new FakeKernel(abi: 3, unsupported: "needs Landlock ABI 4"));

        FluentActions.Invoking(() => coordinator.Secure(new SandboxOptions()))
            .Should().Throw<PlatformNotSupportedException>().WithMessage("*ABI 4*");
    }

    [Fact]
    public void KernelWithoutNetworkRules_BestEffort_EnforcesTheRest()
    {
        var kernel = new FakeKernel(abi: 3, unsupported: "needs Landlock ABI 4");
        var coordinator = new SandboxCoordinator(kernel);

        var report = coordinator.Secure(new SandboxOptions { BestEffort = true });

        kernel.Enforcements.Should().Be(1);
        kernel.LastAbi.Should().Be(3);
        report.Enforced.Should().BeTrue();
        report.AbiVersion.Should().Be(3);
        report.NotEnforced.Should().Contain(FakeKernel.Gap);
    }

    [Fact]
    public void Full_IsAuditOnly_AndNeverTouchesTheKernel()
    {
        var kernel = new FakeKernel(abi: 0, unsupported: "no Landlock");
        var coordinator = new SandboxCoordinator(kernel);

        var report = coordinator.Secure(new SandboxOptions { Tier = TrustTier.Full });

        report.Tier.Should().Be(TrustTier.Full);
        report.Enforced.Should().BeFalse();
        report.NotEnforced.Should().ContainSingle().Which.Should().Contain("nothing is restricted");
        kernel.Probes.Should().Be(0);
        kernel.Enforcements.Should().Be(0);
    }

    [Fact]
    public void DefaultProfile_IsReportedAsStandardTier()
    {
        var report = new SandboxCoordinator(new FakeKernel()).Secure(new SandboxOptions());

        report.Profile.Should().Be("default");
        report.Tier.Should().Be(TrustTier.Standard);
        report.Tier.ToWireName().Should().Be("standard");
    }

    [Fact]
    public void LooserAfterTighter_Throws_AndKeepsTheReport()
    {
        var kernel = new FakeKernel();
        var coordinator = new SandboxCoordinator(kernel);
        var first = coordinator.Secure(new SandboxOptions { Tier = TrustTier.Worker });

        FluentActions.Invoking(() => coordinator.Secure(new SandboxOptions()))
            .Should().Throw<InvalidOperationException>().WithMessage("*only be tightened*'default'*'worker'*");
        FluentActions.Invoking(() => coordinator.Secure(new SandboxOptions { Tier = TrustTier.Full }))
            .Should().Throw<InvalidOperationException>();
        coordinator.Current.Should().BeSameAs(first);
        kernel.Enforcements.Should().Be(1);
    }

    [Fact]
    public void TighterAfterLooser_AddsALayer_AndReportsTheIntersection()
    {
        var kernel = new FakeKernel();
        var coordinator = new SandboxCoordinator(kernel);
        coordinator.Secure(new SandboxOptions { Tier = TrustTier.Standard });

        var report = coordinator.Secure(new SandboxOptions { Tier = TrustTier.Observer });

        report.Tier.Should().Be(TrustTier.Observer);
        report.Layers.Should().Be(2);
        report.Rules[0].Should().Contain("intersection");
        report.Rules.Should().Contain("layer 1 (standard): rule 1").And.Contain("layer 2 (observer): rule 2");
        kernel.Enforcements.Should().Be(2);
    }

    [Fact]
    public void AFailedCall_LeavesNoLayer()
    {
        var kernel = new FakeKernel { Failure = new ArgumentException("workspace missing") };
        var coordinator = new SandboxCoordinator(kernel);

        FluentActions.Invoking(() => coordinator.Secure(new SandboxOptions { Tier = TrustTier.Observer })).Should().Throw<ArgumentException>();
        kernel.Failure = null;

        coordinator.Current.Should().BeNull();
        coordinator.Secure(new SandboxOptions { Tier = TrustTier.Standard }).Layers.Should().Be(1, "a refused observer call does not count");
    }

    [Fact]
    public void InvalidOptions_AreRejectedBeforeTheKernel()
    {
        var kernel = new FakeKernel();
        var options = new SandboxOptions { Tier = TrustTier.Observer };
        options.AllowedTcpPorts.Add(443);

        FluentActions.Invoking(() => new SandboxCoordinator(kernel).Secure(options)).Should().Throw<ArgumentException>();
        kernel.Probes.Should().Be(0);
    }

    [Fact]
    public void AnySequenceOfCalls_OnlyEverTightens()
    {
        TrustTier?[] choices = [TrustTier.Observer, TrustTier.Worker, null, TrustTier.Standard, TrustTier.Full];
        Prop.ForAll<int[]>(picks =>
        {
            var coordinator = new SandboxCoordinator(new FakeKernel());
            var lastRank = int.MaxValue;
            foreach (var pick in picks.Take(20))
            {
                var rank = Math.Abs(pick % choices.Length);
                var before = coordinator.Current;
                try
                {
                    var report = coordinator.Secure(new SandboxOptions { Tier = choices[rank] });
                    if (rank > lastRank || (before is not null && report.Tier > before.Tier))
                    {
                        return false; // accepted a looser profile
                    }

                    lastRank = rank;
                }
                catch (InvalidOperationException)
                {
                    if (rank <= lastRank || !ReferenceEquals(before, coordinator.Current))
                    {
                        return false; // refused a tighter one, or changed state while refusing
                    }
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>A kernel that reports a fixed ABI and records what it was asked to do.</summary>
    private sealed class FakeKernel(int abi = 7, string? unsupported = null) : ISandboxKernel
    {
        internal const string Gap = "fake gap";

        internal int Probes { get; private set; }

        internal int Enforcements { get; private set; }

        internal int LastAbi { get; private set; }

        internal Exception? Failure { get; set; }

        public (int Abi, string? Unsupported) Probe(SandboxProfile profile)
        {
            Probes++;
            return (abi, unsupported);
        }

        public EnforcementResult Enforce(SandboxOptions options, int kernelAbi)
        {
            if (Failure is not null)
            {
                throw Failure;
            }

            Enforcements++;
            LastAbi = kernelAbi;
            return new EnforcementResult(3, [$"rule {Enforcements}"], [Gap], []);
        }
    }
}
