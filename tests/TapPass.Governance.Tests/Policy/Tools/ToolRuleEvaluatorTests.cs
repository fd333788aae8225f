using System.Text.Json;
using TapPass.Governance.Policy;
using TapPass.Governance.Policy.Tools;

namespace TapPass.Governance.Tests.Policy.Tools;

public sealed class ToolRuleEvaluatorTests : IDisposable
{
    private readonly string _workspace = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "tappass-rules-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    private ToolRuleEvaluator Evaluator() => new(new ToolRecognition(), new WorkspacePathGuard(_workspace));

    private static EffectiveFlags Flags(string flags) => EffectiveFlags.From(GovernanceFlags.Parse(flags));

    private static JsonElement Args(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Evaluate_EmailMirror_ReplacesRecipientsDropsCcAndPrefixesSubject()
    {
        var d = Evaluator().Evaluate("send_email", Args("""{"to":["ceo@bigcorp.com","cfo@bigcorp.com"],"cc":"x@y.com","subject":"Quarterly numbers","body":"hi"}"""), Flags("email=mirror:qa@acme.test"));

        d.Outcome.Should().Be("modify");
        d.BlockedBy.Should().Be("email_policy");
        d.ModifiedArgs!.Value.GetRawText().Should().Be("""{"to":["qa@acme.test"],"subject":"[AI TEST] Quarterly numbers","body":"hi"}""");
    }

    [Fact]
    public void Evaluate_EmailMirror_AlreadyPrefixedSubject_IsNotPrefixedTwice()
    {
        var d = Evaluator().Evaluate("send_email", Args("""{"to":"a@b.com","subject":"[AI TEST] hello"}"""), Flags("email=mirror:qa@acme.test"));
        d.ModifiedArgs!.Value.GetProperty("subject").GetString().Should().Be("[AI TEST] hello");
    }

    [Theory]
    [InlineData("""{"to":"bob@acme.com","subject":"s"}""", "allow")]
    [InlineData("""{"to":"Bob <bob@eu.acme.com>","subject":"s"}""", "allow")]
    [InlineData("""{"to":"bob@acme.com; eve@evil.com","subject":"s"}""", "block")]
    [InlineData("""{"to":"bob@acme.com","bcc":["eve@notacme.com"],"subject":"s"}""", "block")]
    [InlineData("""{"to":"bob@acme.com.evil.io","subject":"s"}""", "block")]
    [InlineData("""{"subject":"no recipient"}""", "block")]
    public void Evaluate_EmailInternal_AllowsOnlyRecipientsInTheDomain(string args, string outcome)
    {
        Evaluator().Evaluate("send_email", Args(args), Flags("email=internal:acme.com")).Outcome.Should().Be(outcome);
    }

    [Fact]
    public void Evaluate_EmailRecognisedByArgumentShape_EvenWithAnOddName()
    {
        var d = Evaluator().Evaluate("notify_customer", Args("""{"to":"x@y.com","subject":"s"}"""), Flags("email=block"));
        d.IsBlock.Should().BeTrue();
        d.Kinds.Should().HaveFlag(ToolKinds.Email);
    }

    [Theory]
    [InlineData("tools=block", "search", true)]
    [InlineData("tools=allowlist:search:read_*", "search", false)]
    [InlineData("tools=allowlist:search:read_*", "read_file", false)]
    [InlineData("tools=allowlist:search:read_*", "delete_file", true)]
    [InlineData("tools=denylist:delete_*:drop_*", "delete_user", true)]
    [InlineData("tools=denylist:delete_*", "DELETE_USER", true)]
    [InlineData("tools=denylist:delete_*", "search", false)]
    [InlineData("tools=log", "anything", false)]
    public void Evaluate_ToolsFlag_AppliesGlobs(string flags, string tool, bool blocked)
    {
        var d = Evaluator().Evaluate(tool, null, Flags(flags));
        d.IsBlock.Should().Be(blocked);
        if (blocked)
        {
            d.BlockedBy.Should().Be("tool_permissions");
        }
    }

    [Theory]
    [InlineData("db=safe_write", "SELECT * FROM t", false)]
    [InlineData("db=safe_write", "INSERT INTO t VALUES (1)", false)]
    [InlineData("db=safe_write", "DELETE FROM t", true)]
    [InlineData("db=safe_write", "with d as (delete from t returning *) select 1", true)]
    [InlineData("db=read_only", "SELECT * FROM t", false)]
    [InlineData("db=read_only", "UPDATE t SET a = 1", true)]
    [InlineData("db=read_only", "SELECT 1; INSERT INTO t VALUES (1)", true)]
    [InlineData("db=block", "SELECT 1", true)]
    [InlineData("db=safe_write", "SELECT 'unterminated", true)]
    public void Evaluate_DbFlag_OnSqlTools(string flags, string sql, bool blocked)
    {
        var d = Evaluator().Evaluate("run_sql", Args(JsonSerializer.Serialize(new Dictionary<string, string> { ["query"] = sql })), Flags(flags));
        d.IsBlock.Should().Be(blocked);
        if (blocked)
        {
            d.BlockedBy.Should().Be("db_policy");
        }
    }

    [Fact]
    public void Evaluate_SqlArgumentOnAnyTool_IsRecognised()
    {
        var d = Evaluator().Evaluate("analytics", Args("""{"sql":"DROP TABLE users"}"""), Flags("db=safe_write"));
        d.IsBlock.Should().BeTrue();
    }

    [Theory]
    [InlineData("files=read_only", "write_file", """{"path":"a.txt","content":"x"}""", true)]
    [InlineData("files=read_only", "read_file", """{"path":"/etc/passwd"}""", false)]
    [InlineData("files=block", "read_file", """{"path":"a.txt"}""", true)]
    [InlineData("files=project", "write_file", """{"path":"notes/a.txt","content":"x"}""", false)]
    [InlineData("files=project", "write_file", """{"path":"../escape.txt","content":"x"}""", true)]
    [InlineData("files=project", "save", """{"file_path":"/etc/cron.d/x","data":"x"}""", true)]
    [InlineData("files=project", "open_file", """{"path":"/etc/passwd","mode":"r"}""", false)]
    [InlineData("files=project", "open_file", """{"path":"/etc/passwd","mode":"w"}""", true)]
    [InlineData("files=project", "open_file", """{"path":"/etc/passwd","mode":"r+"}""", true)]
    [InlineData("files=project", "moveFile", """{"source":"a.txt","destination":"/tmp/a.txt"}""", true)]
    [InlineData("files=allow", "delete_file", """{"path":"/etc/passwd"}""", false)]
    public void Evaluate_FilesFlag_OnFileTools(string flags, string tool, string args, bool blocked)
    {
        var d = Evaluator().Evaluate(tool, Args(args), Flags(flags));
        d.IsBlock.Should().Be(blocked, d.Reason);
        if (blocked)
        {
            d.BlockedBy.Should().Be("file_policy");
        }
    }

    [Fact]
    public void Evaluate_FirstBlockingRuleWins_ToolsBeforeEmail()
    {
        var d = Evaluator().Evaluate("send_email", Args("""{"to":"a@b.com","subject":"s"}"""), Flags("tools=denylist:send_*, email=mirror:qa@acme.test"));
        d.BlockedBy.Should().Be("tool_permissions");
    }

    [Fact]
    public void Recognise_PlainTool_IsNone()
    {
        Evaluator().Recognise("get_weather", Args("""{"city":"Ghent"}""")).Should().Be(ToolKinds.None);
    }

    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("read_*", "read_file", true)]
    [InlineData("read_*", "unread_file", false)]
    [InlineData("*_file", "read_file", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("exact", "EXACT", true)]
    public void Glob_Matches(string pattern, string value, bool expected)
    {
        Glob.IsMatch(pattern, value).Should().Be(expected);
    }
}
