using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Identity;
using TapPass.Governance.Policy;

namespace TapPass.Governance.Tests.Policy;

public sealed class FlagResolverTests
{
    private static AgentIdentity Agent(string? flags = null, string? locks = null, string org = "acme") => new()
    {
        AgentId = "a",
        AgentUuid = "11111111-1111-4111-8111-111111111111",
        Org = org,
        DefaultFlags = GovernanceFlags.Parse(flags),
        Locks = GovernanceFlags.Parse(locks),
    };

    private static FlagResolution Resolve(string? header, AgentIdentity agent, string? gateway = null, Dictionary<string, string>? orgLocks = null)
    {
        var resolver = new FlagResolver(GovernanceFlags.Parse(gateway), orgLocks?.ToDictionary(kv => kv.Key, kv => GovernanceFlags.Parse(kv.Value)));
        resolver.TryResolve(header, agent, out var r, out var error).Should().BeTrue(error?.Message);
        return r;
    }

    [Fact]
    public void Resolve_NothingSet_GivesProtocolDefaults()
    {
        var r = Resolve(null, Agent());
        r.Flags.Values.ToHeaderValue().Should().Be(GovernanceFlags.Defaults.ToHeaderValue());
        r.Flags.Mode.Should().Be(GovernanceMode.Enforce);
        r.Flags.Pii.Should().Be(PiiRule.Off);
        r.Flags.Secrets.Should().Be(SecretsRule.Redact);
        r.Flags.Budget.IsUnlimited.Should().BeTrue();
        r.LocksApplied.Should().BeEmpty();
    }

    [Fact]
    public void Resolve_Precedence_HeaderOverAgentOverGatewayOverDefaults()
    {
        var r = Resolve("pii=block", Agent(flags: "pii=mask, db=read_only"), gateway: "pii=flag, db=block, files=project");
        r.Flags.Pii.Should().Be(PiiRule.Block);
        r.Flags.Db.Should().Be(DbRule.ReadOnly);
        r.Flags.Files.Should().Be(FilesRule.Project);
        r.Flags.Email.Should().Be(EmailRule.Allow);
    }

    [Fact]
    public void Resolve_LockCannotBeLoosened_LockedValueAppliesAndRequestIsRecorded()
    {
        var r = Resolve("pii=off, mode=observe", Agent(), orgLocks: new() { ["acme"] = "pii=mask, mode=enforce" });
        r.Flags.Pii.Should().Be(PiiRule.Mask);
        r.Flags.Mode.Should().Be(GovernanceMode.Enforce);
        r.LocksApplied.Should().BeEquivalentTo(new[]
        {
            new LockApplication("mode", "observe", "enforce", "call", "org"),
            new LockApplication("pii", "off", "mask", "call", "org"),
        });
    }

    [Fact]
    public void Resolve_TighteningALock_IsAllowedAndNotRecorded()
    {
        var r = Resolve("pii=block, mode=lockdown", Agent(), orgLocks: new() { ["acme"] = "pii=mask, mode=enforce" });
        r.Flags.Pii.Should().Be(PiiRule.Block);
        r.Flags.Mode.Should().Be(GovernanceMode.Lockdown);
        r.LocksApplied.Should().BeEmpty();
    }

    [Fact]
    public void Resolve_LockAppliesToAgentDefaultsToo()
    {
        var r = Resolve(null, Agent(flags: "secrets=flag", locks: "secrets=redact"));
        r.Flags.Secrets.Should().Be(SecretsRule.Redact);
        r.LocksApplied.Should().ContainSingle().Which.Should().Be(new LockApplication("secrets", "flag", "redact", "agent_default", "agent"));
    }

    [Fact]
    public void Resolve_LockOnDefaultValue_IsNotRecordedWhenNobodyAsked()
    {
        var r = Resolve(null, Agent(locks: "pii=mask"));
        r.Flags.Pii.Should().Be(PiiRule.Mask);
        r.LocksApplied.Should().BeEmpty();
    }

    [Fact]
    public void Resolve_OrgLockOnlyAppliesToItsOrg()
    {
        var r = Resolve("pii=off", Agent(org: "other"), orgLocks: new() { ["acme"] = "pii=mask" });
        r.Flags.Pii.Should().Be(PiiRule.Off);
    }

    [Fact]
    public void Resolve_AgentLockLooserThanOrgLock_OrgLockWins()
    {
        var r = Resolve(null, Agent(locks: "pii=flag"), orgLocks: new() { ["acme"] = "pii=block" });
        r.Flags.Pii.Should().Be(PiiRule.Block);
    }

    [Theory]
    [InlineData("email=internal:other.com", "email=internal:acme.com", "internal:acme.com")]
    [InlineData("email=allow", "email=mirror:qa@acme.com", "mirror:qa@acme.com")]
    [InlineData("email=block", "email=mirror:qa@acme.com", "block")]
    [InlineData("tools=allowlist:search", "tools=allowlist:search:read_file", "allowlist:search")]
    [InlineData("tools=allowlist:search:delete", "tools=allowlist:search:read_file", "allowlist:search:read_file")]
    [InlineData("tools=denylist:delete_*", "tools=denylist:delete_*:drop_*", "denylist:delete_*:drop_*")]
    [InlineData("budget=dev", "budget=standard", "dev")]
    [InlineData("budget=unlimited", "budget=standard", "standard")]
    [InlineData("budget=custom:1:100", "budget=standard", "standard")]
    [InlineData("files=project", "files=read_only", "read_only")]
    [InlineData("db=read_only", "db=safe_write", "read_only")]
    public void Resolve_ParameterisedLocks_OnlyStricterOrEqualRequestsSurvive(string header, string locks, string expected)
    {
        var key = locks.Split('=')[0];
        var r = Resolve(header, Agent(locks: locks));
        r.Flags.Values[key].Should().Be(expected);
    }

    [Fact]
    public void TryResolve_InvalidHeader_ReturnsFlagError()
    {
        var resolver = new FlagResolver(GovernanceFlags.Empty);
        resolver.TryResolve("mode=chaos", Agent(), out _, out var error).Should().BeFalse();
        error!.Flag.Should().Be("mode");
        error.Value.Should().Be("chaos");
        error.Allowed.Should().Contain("lockdown");
    }

    [Fact]
    public void Compare_IsAntisymmetricForEveryFlag()
    {
        var values = new Dictionary<string, string[]>
        {
            ["mode"] = ["observe", "warn", "enforce", "lockdown"],
            ["pii"] = ["off", "flag", "mask", "block"],
            ["secrets"] = ["flag", "redact", "block"],
            ["files"] = ["allow", "project", "read_only", "block"],
            ["db"] = ["safe_write", "read_only", "block"],
            ["email"] = ["allow", "internal:a.com", "mirror:x@a.com", "block"],
            ["budget"] = ["unlimited", "standard", "dev", "custom:1:2"],
        };
        var gen = from key in Gen.Elements(values.Keys.ToArray())
                  from a in Gen.Elements(values[key])
                  from b in Gen.Elements(values[key])
                  select (key, a, b);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var ab = FlagResolver.Compare(t.key, t.a, t.b);
            var ba = FlagResolver.Compare(t.key, t.b, t.a);
            return (ab is null && ba is null) || (ab is not null && ba is not null && Math.Sign(ab.Value) == -Math.Sign(ba.Value));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Resolve_LockedValueNeverLooserThanLock_ForRandomRequests()
    {
        var modes = new[] { "observe", "warn", "enforce", "lockdown" };
        var pii = new[] { "off", "flag", "mask", "block" };
        var gen = from m in Gen.Elements(modes) from p in Gen.Elements(pii) from lm in Gen.Elements(modes) from lp in Gen.Elements(pii) select (m, p, lm, lp);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var r = Resolve($"mode={t.m}, pii={t.p}", Agent(locks: $"mode={t.lm}, pii={t.lp}"));
            return FlagResolver.Compare("mode", r.Flags.Values["mode"], t.lm) >= 0 && FlagResolver.Compare("pii", r.Flags.Values["pii"], t.lp) >= 0;
        }).QuickCheckThrowOnFailure();
    }
}
