using FsCheck;
using FsCheck.Fluent;

namespace TapPass.Core.Tests;

public sealed class GovernanceFlagsTests
{
    private static readonly Dictionary<string, string[]> ValidValues = new()
    {
        ["mode"] = ["observe", "warn", "enforce", "lockdown"],
        ["pii"] = ["mask", "block", "flag", "off"],
        ["secrets"] = ["redact", "block", "flag"],
        ["email"] = ["allow", "block", "internal:company.com", "mirror:qa@company.com", "internal:sub.example.org"],
        ["tools"] = ["log", "block", "allowlist:search:read_file", "denylist:delete_*", "allowlist:web.search"],
        ["files"] = ["allow", "read_only", "project", "block"],
        ["db"] = ["safe_write", "read_only", "block"],
        ["budget"] = ["unlimited", "dev", "standard", "custom:0.5:10", "custom:1:25.75"],
    };

    /// <summary>Random valid flag sets: a subset of keys, each with one of its valid values.</summary>
    private static Arbitrary<Dictionary<string, string>> ValidFlagSets() =>
        Gen.SubListOf(ValidValues.Keys.ToArray())
            .SelectMany(keys => Gen.CollectToList(keys.Select(k => Gen.Elements(ValidValues[k]).Select(v => (k, v)))))
            .Select(pairs => pairs.ToDictionary(p => p.k, p => p.v))
            .ToArbitrary();

    [Fact]
    public void Property_ParseOfHeaderValue_IsIdentity()
    {
        Prop.ForAll(ValidFlagSets(), pairs =>
        {
            var flags = GovernanceFlags.From(pairs);
            var reparsed = GovernanceFlags.Parse(flags.ToHeaderValue());
            return reparsed.Equals(flags) && reparsed.GetHashCode() == flags.GetHashCode() && reparsed.Count == pairs.Count;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Property_WhitespaceAndCaseVariants_ParseToTheSameFlags()
    {
        var variants = ValidFlagSets().Generator.SelectMany(pairs =>
            Gen.CollectToList(pairs.Select(kv =>
                    Gen.Zip(Gen.Elements("", " ", "  ", "\t"), Gen.Elements(true, false))
                        .Select(t => t.Item1 + Cased(kv.Key, t.Item2) + t.Item1 + "=" + t.Item1 + CasedHead(kv.Value, !t.Item2) + t.Item1)))
                .Select(items => (Pairs: pairs, Header: string.Join(" , ", items))));

        Prop.ForAll(variants.ToArbitrary(), t => GovernanceFlags.Parse(t.Header).Equals(GovernanceFlags.From(t.Pairs)))
            .QuickCheckThrowOnFailure();

        static string Cased(string s, bool upper) => upper ? s.ToUpperInvariant() : s;

        // Enum values are case-insensitive; parameters (tool names) keep their case.
        static string CasedHead(string s, bool upper)
        {
            var colon = s.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? Cased(s, upper) : Cased(s[..colon], upper) + s[colon..];
        }
    }

    [Fact]
    public void Property_UnknownValueForEnumeratedFlag_IsRejectedNamingTheFlag()
    {
        var bad = Gen.Elements("mode", "pii", "secrets", "files", "db")
            .SelectMany(key => Gen.Elements("shred", "allowall", "yes", "mask2", "x", "observe!", "block:now")
                .Where(v => !ValidValues[key].Contains(v))
                .Select(v => (key, v)));

        Prop.ForAll(bad.ToArbitrary(), t =>
        {
            var ok = GovernanceFlags.TryParse($"{t.key}={t.v}", out _, out var error);
            return !ok && error!.Flag == t.key && error.Message.Contains(t.key) && error.Allowed.Count > 0;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Parse_Example_MatchesSeedSyntax()
    {
        var flags = GovernanceFlags.Parse("mode=observe, pii=mask");

        flags["mode"].Should().Be("observe");
        flags["PII"].Should().Be("mask");
        flags.ToHeaderValue().Should().Be("mode=observe, pii=mask");
        flags.ToString().Should().Be("mode=observe, pii=mask");
    }

    [Fact]
    public void Parse_DuplicateKey_LastWins()
    {
        GovernanceFlags.Parse("pii=mask, pii=block")["pii"].Should().Be("block");
    }

    [Fact]
    public void Parse_BlankOrNull_IsEmpty()
    {
        GovernanceFlags.Parse(null).Should().BeSameAs(GovernanceFlags.Empty);
        GovernanceFlags.Parse("  ").Count.Should().Be(0);
        GovernanceFlags.Parse(" , ,").Count.Should().Be(0);
    }

    [Theory]
    [InlineData("colour=blue", "colour")]
    [InlineData("pii=shred", "pii")]
    [InlineData("pii", "pii")]
    [InlineData("mode=", "mode")]
    [InlineData("email=internal:not_a_domain", "email")]
    [InlineData("email=mirror:nobody", "email")]
    [InlineData("tools=allowlist:", "tools")]
    [InlineData("tools=allowlist:rm -rf", "tools")]
    [InlineData("budget=custom:1", "budget")]
    [InlineData("budget=custom:-1:5", "budget")]
    [InlineData("mode=observe:extra", "mode")]
    public void Parse_Invalid_ThrowsConfigExceptionNamingTheFlag(string header, string flag)
    {
        var ex = FluentActions.Invoking(() => GovernanceFlags.Parse(header)).Should().Throw<TapPassConfigException>().Which;

        ex.Flag.Should().Be(flag);
        ex.Setting.Should().Be("Flags");
        ex.Message.Should().Contain(flag);
    }

    [Fact]
    public void Parse_MissingKey_ReportsTheItem()
    {
        var ex = FluentActions.Invoking(() => GovernanceFlags.Parse("=mask")).Should().Throw<TapPassConfigException>().Which;

        ex.Message.Should().Contain("=mask");
    }

    [Fact]
    public void Parse_TooLongOrTooMany_IsRejected()
    {
        GovernanceFlags.TryParse(new string('a', GovernanceFlags.MaxHeaderLength + 1), out _, out var tooLong).Should().BeFalse();
        GovernanceFlags.TryParse(string.Join(",", Enumerable.Repeat("pii=mask", 40)), out _, out var tooMany).Should().BeFalse();

        tooLong!.Flag.Should().Be("flags");
        tooMany!.Message.Should().Contain("32");
    }

    [Fact]
    public void MergeWithAndQueries_Behave()
    {
        var defaults = GovernanceFlags.Parse("mode=observe, pii=mask");

        var merged = defaults.Merge(GovernanceFlags.Parse("pii=block, db=read_only"));
        var with = defaults.With("SECRETS", "Block");

        merged.ToHeaderValue().Should().Be("mode=observe, pii=block, db=read_only");
        defaults.Merge(null).Should().BeSameAs(defaults);
        GovernanceFlags.Empty.Merge(defaults).Should().BeSameAs(defaults);
        with["secrets"].Should().Be("block");
        with.ContainsKey("Mode").Should().BeTrue();
        with.TryGetValue("files", out _).Should().BeFalse();
        with.Keys.Should().BeEquivalentTo("mode", "pii", "secrets");
        with.Values.Should().Contain("block");
        merged.ToDictionary().Should().ContainKey("db");
        defaults.Equals(merged).Should().BeFalse();
        defaults.Equals((object)GovernanceFlags.Parse("pii=mask,mode=observe")).Should().BeTrue();
    }

    [Fact]
    public void Defaults_AreTheProtocolDefaults()
    {
        GovernanceFlags.Defaults.ToHeaderValue().Should().Be(
            "mode=enforce, pii=off, secrets=redact, email=allow, tools=log, files=allow, db=safe_write, budget=unlimited");
        GovernanceFlags.KnownKeys.Should().HaveCount(8);
        GovernanceFlags.AllowedValues("PII").Should().Contain("mask");
        GovernanceFlags.AllowedValues("nope").Should().BeEmpty();
    }

    [Fact]
    public void From_NullIsEmpty_AndInvalidPairThrows()
    {
        GovernanceFlags.From(null).Should().BeSameAs(GovernanceFlags.Empty);
        FluentActions.Invoking(() => GovernanceFlags.From([new("tools", "allowlist:a b")])).Should().Throw<TapPassConfigException>()
            .Which.Flag.Should().Be("tools");
    }
}
