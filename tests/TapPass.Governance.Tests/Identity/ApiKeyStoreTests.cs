using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Identity;

namespace TapPass.Governance.Tests.Identity;

public sealed class ApiKeyStoreTests
{
    private static AgentIdentity Agent(string id) => new() { AgentId = id, AgentUuid = Guid.NewGuid().ToString("D"), Org = "acme" };

    [Fact]
    public void Generate_HasPrefixBase62BodyAndChecksum()
    {
        var key = ApiKeyFormat.Generate();
        key.Should().MatchRegex("^tp_[0-9A-Za-z]{49}$");
        key.Length.Should().Be(ApiKeyFormat.KeyLength).And.Be(52);
        ApiKeyFormat.IsWellFormed(key).Should().BeTrue();
    }

    [Fact]
    public void Generate_KeysAreDistinct()
    {
        Enumerable.Range(0, 200).Select(_ => ApiKeyFormat.Generate()).Distinct().Should().HaveCount(200);
    }

    [Fact]
    public void IsWellFormed_AnySingleCharacterChange_IsRejectedByShapeOrChecksum()
    {
        var key = ApiKeyFormat.Generate();
        Prop.ForAll(Gen.Choose(3, key.Length - 1).ToArbitrary(), Gen.Elements(Base62.Alphabet.ToCharArray()).ToArbitrary(), (i, c) =>
        {
            var changed = key[..i] + c + key[(i + 1)..];
            // A body change keeps a valid checksum with probability 62^-6 (about 2e-11): treated as impossible here.
            return changed == key || !ApiKeyFormat.IsWellFormed(changed);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryAuthenticate_RegisteredKey_ReturnsItsIdentity()
    {
        var store = new ApiKeyStore();
        var key = ApiKeyFormat.Generate();
        store.AddKey(key, Agent("a"));
        store.AddKey(ApiKeyFormat.Generate(), Agent("b"));

        store.TryAuthenticate(key, out var identity).Should().BeTrue();
        identity.AgentId.Should().Be("a");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tp_unknown")]
    [InlineData("Bearer tp_x")]
    public void TryAuthenticate_UnknownOrMissingKey_Fails(string? key)
    {
        var store = new ApiKeyStore();
        store.AddKey(ApiKeyFormat.Generate(), Agent("a"));
        store.TryAuthenticate(key, out _).Should().BeFalse();
    }

    [Fact]
    public void AddHash_StoresOnlyTheHash_AndAuthenticatesThePlaintext()
    {
        var store = new ApiKeyStore();
        var key = ApiKeyFormat.Generate();
        store.AddHash(ApiKeyFormat.Hash(key), Agent("a"));
        store.TryAuthenticate(key, out _).Should().BeTrue();
        store.TryAuthenticate(key + "x", out _).Should().BeFalse();
    }

    [Fact]
    public void AddHash_Malformed_Throws()
    {
        var store = new ApiKeyStore();
        var act = () => store.AddHash("abc", Agent("a"));
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void GenerateDevelopmentKey_RegistersAWellFormedKeyWithEveryRole()
    {
        var store = new ApiKeyStore();
        var key = store.GenerateDevelopmentKey();
        ApiKeyFormat.IsWellFormed(key).Should().BeTrue();
        store.TryAuthenticate(key, out var identity).Should().BeTrue();
        identity.HasRole(AgentRoles.Admin | AgentRoles.Approver | AgentRoles.Agent).Should().BeTrue();
    }

    [Fact]
    public void Ids_HavePrefixAndAreWellFormed()
    {
        var id = Ids.New(Ids.Session);
        Ids.IsWellFormed(id, Ids.Session).Should().BeTrue();
        Ids.IsWellFormed(id + "x", Ids.Session).Should().BeFalse();
        Ids.IsWellFormed("pl_" + id[4..], Ids.Session).Should().BeFalse();
    }

    [Fact]
    public void Base62Encode_IsFixedWidthAndInjective()
    {
        Base62.Encode(new byte[32], 43).Should().Be(new string('0', 43));
        Base62.Encode([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 43).Length.Should().Be(43);
        Base62.Encode([1], 2).Should().Be("01");
        Base62.Encode([62], 2).Should().Be("10");
    }
}
