using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using TapPass.AspNetCore.Sessions;

namespace TapPass.AspNetCore.Tests.Sessions;

public sealed class SessionHeaderReaderTests
{
    private const string AgentUuid = "3f2b7c1e-0000-4000-8000-000000000001";

    private static SessionHeaders Read(bool aliases = true, params (string Name, StringValues Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary[name] = value;
        }

        return SessionHeaderReader.Read(dictionary, aliases);
    }

    [Fact]
    public void NoHeaders_ReadsNothing()
    {
        var result = Read();

        result.Error.Should().Be(SessionHeaderError.None);
        result.SessionId.Should().BeNull();
        result.AgentUuid.Should().BeNull();
        result.TaskId.Should().BeNull();
    }

    [Fact]
    public void AllHeaders_AreRead()
    {
        var result = Read(true, ("X-TapPass-Session-Id", "ses_1"), ("X-TapPass-Agent-Uuid", AgentUuid), ("X-TapPass-Task-Id", "tsk-2"));

        result.Should().Be(new SessionHeaders { SessionId = "ses_1", AgentUuid = AgentUuid, TaskId = "tsk-2" });
    }

    [Fact]
    public void IdOfExactly128Characters_IsAccepted_And129IsNot()
    {
        Read(true, ("X-TapPass-Session-Id", new string('a', 128))).Error.Should().Be(SessionHeaderError.None);
        Read(true, ("X-TapPass-Session-Id", new string('a', 129))).Error.Should().Be(SessionHeaderError.Malformed);
    }

    [Fact]
    public void EmptyValue_IsMalformed()
    {
        Read(true, ("X-TapPass-Session-Id", "")).Error.Should().Be(SessionHeaderError.Malformed);
    }

    [Fact]
    public void AliasWhenAliasesAreOff_IsNotRead()
    {
        Read(false, ("X-Session-Id", "ses_1")).SessionId.Should().BeNull();
    }

    [Fact]
    public void RepeatedHeader_IsRepeated()
    {
        var result = Read(true, ("X-TapPass-Task-Id", new StringValues(["a", "a"])));

        result.Error.Should().Be(SessionHeaderError.Repeated);
        result.Header.Should().Be("X-TapPass-Task-Id");
    }

    [Fact]
    public void DifferentSessionsInHeaderAndAlias_Conflict()
    {
        Read(true, ("X-TapPass-Session-Id", "ses_1"), ("X-Session-Id", "ses_2")).Error.Should().Be(SessionHeaderError.Conflicting);
    }

    [Fact]
    public void AnySessionIdValue_IsAcceptedExactlyWhenItIsWellFormed()
    {
        var chars = Gen.Elements("abcXYZ019_-.,; /é\t\"<>".ToCharArray());
        var values = Gen.ArrayOf(chars).Select(a => new string(a));
        Prop.ForAll(values.ToArbitrary(), value =>
        {
            var result = Read(true, ("X-TapPass-Session-Id", value));
            var wellFormed = value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
            return wellFormed
                ? result.Error == SessionHeaderError.None && result.SessionId == value
                : result.Error == SessionHeaderError.Malformed && result.SessionId is null;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AnyAgentUuidValue_IsAcceptedExactlyWhenItIsAHyphenatedUuid()
    {
        var values = Gen.OneOf(
            ArbMap.Default.GeneratorFor<Guid>().Select(g => g.ToString("D")),
            ArbMap.Default.GeneratorFor<Guid>().Select(g => g.ToString("N")),
            ArbMap.Default.GeneratorFor<Guid>().Select(g => g.ToString("B")),
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""));
        Prop.ForAll(values.ToArbitrary(), value =>
        {
            var result = Read(true, ("X-TapPass-Agent-Uuid", value));
            var wellFormed = value.Length == 36 && Guid.TryParseExact(value, "D", out _);
            return wellFormed == (result.Error == SessionHeaderError.None) && (!wellFormed || result.AgentUuid == value);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FastIdCheck_AgreesWithTheSdkDefinition()
    {
        var chars = Gen.Elements("azAZ09_-. \t/é\u0000+=".ToCharArray());
        var values = Gen.OneOf(
            Gen.ArrayOf(chars).Select(a => new string(a)),
            Gen.Choose(120, 135).Select(n => new string('a', n)),
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""));
        Prop.ForAll(values.ToArbitrary(), value =>
            SessionHeaderReader.IsWellFormedId(value) == TapPassSession.IsWellFormedId(value)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FastUuidCheck_AgreesWithTheSdkDefinition()
    {
        var guid = ArbMap.Default.GeneratorFor<Guid>();
        var mutate = Gen.Elements("0aF-g {} x".ToCharArray());
        var values = Gen.OneOf(
            guid.Select(g => g.ToString("D")),
            guid.Select(g => g.ToString("D").ToUpperInvariant()),
            guid.Select(g => " " + g.ToString("D")[1..]),
            guid.Select(g => g.ToString("N") + "abcd"),
            guid.Select(g => g.ToString("B")[..36]),
            from g in guid
            from i in Gen.Choose(0, 35)
            from m in mutate
            select Mutate(g, i, m),
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""));
        Prop.ForAll(values.ToArbitrary(), value =>
            SessionHeaderReader.IsWellFormedAgentUuid(value) == TapPassSession.IsWellFormedAgentUuid(value)).QuickCheckThrowOnFailure();
    }

    private static string Mutate(Guid guid, int index, char replacement)
    {
        var chars = guid.ToString("D").ToCharArray();
        chars[index] = replacement;
        return new string(chars);
    }
}
