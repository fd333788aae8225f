using FsCheck;
using FsCheck.Fluent;
using TapPass.Governance.Policy.Tools;

namespace TapPass.Governance.Tests.Policy.Tools;

public sealed class SqlStatementClassifierTests
{
    [Theory]
    [InlineData("SELECT * FROM users")]
    [InlineData("select id from t where name = 'DROP TABLE x'")]
    [InlineData("SELECT 1 -- DELETE FROM users")]
    [InlineData("SELECT /* DROP TABLE users */ 1")]
    [InlineData("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT n FROM r")]
    [InlineData("(SELECT 1)")]
    [InlineData("SELECT replace(name, 'a', 'b') FROM t")]
    [InlineData("SELECT \"delete\" FROM t")]
    [InlineData("SELECT `drop` FROM t")]
    [InlineData("  select 1;  ;  select 2 ; ")]
    [InlineData("EXPLAIN SELECT * FROM t")]
    [InlineData("SELECT is_deleted, updated_at FROM t")]
    public void Classify_ReadOnlyQueries_AreReadOnly(string sql)
    {
        var a = SqlStatementClassifier.Classify(sql);
        a.Malformed.Should().BeFalse();
        a.IsReadOnly.Should().BeTrue();
        a.IsDestructive.Should().BeFalse();
    }

    [Theory]
    [InlineData("DELETE FROM users")]
    [InlineData("delete from users where id = 1")]
    [InlineData("DrOp TaBlE users")]
    [InlineData("TRUNCATE users")]
    [InlineData("ALTER TABLE users ADD COLUMN x int")]
    [InlineData("SELECT 1; DELETE FROM users")]
    [InlineData("SELECT 1;DROP TABLE users--")]
    [InlineData("WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d")]
    [InlineData("WITH x AS (SELECT 1) DELETE FROM users")]
    [InlineData("/* comment */ DELETE FROM t")]
    [InlineData("-- comment\nDELETE FROM t")]
    [InlineData("SELECT 'a\\'; DROP TABLE t; --'")]
    [InlineData("SELECT 1 /*! ; DROP TABLE t */")]
    [InlineData("SELECT 1 # comment\n; DROP TABLE t")]
    [InlineData("SELECT [x'] , 'a\\' ; DROP TABLE t; --'")]
    [InlineData("/* /* */ DROP TABLE t; /* */")]
    [InlineData("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM t")]
    public void Classify_DestructiveStatements_AreDestructive(string sql)
    {
        var a = SqlStatementClassifier.Classify(sql);
        a.IsDestructive.Should().BeTrue();
        a.IsReadOnly.Should().BeFalse();
    }

    [Theory]
    [InlineData("INSERT INTO t VALUES (1)")]
    [InlineData("UPDATE t SET a = 1")]
    [InlineData("CREATE TABLE t (id int REFERENCES p(id) ON DELETE CASCADE)")]
    [InlineData("SELECT * INTO backup FROM t")]
    [InlineData("SELECT * FROM t FOR UPDATE")]
    [InlineData("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")]
    [InlineData("SET ROLE admin")]
    [InlineData("COPY t TO '/tmp/x'")]
    [InlineData("CALL cleanup()")]
    public void Classify_NonDestructiveWrites_AreNeitherReadOnlyNorDestructive(string sql)
    {
        var a = SqlStatementClassifier.Classify(sql);
        a.IsReadOnly.Should().BeFalse();
        a.IsDestructive.Should().BeFalse();
    }

    /// <summary>
    /// Dollar quoting is PostgreSQL-only; MySQL and SQL Server would read the same text as code, so the combined
    /// analysis is conservative and reports it (a false positive we accept rather than a dialect-dependent miss).
    /// </summary>
    [Theory]
    [InlineData("SELECT $$ DELETE FROM t $$")]
    [InlineData("SELECT $tag$ ; DROP TABLE t; $tag$")]
    public void Classify_KeywordsInDollarQuotes_AreConservativelyReported(string sql)
    {
        SqlStatementClassifier.Classify(sql).IsDestructive.Should().BeTrue();
    }

    [Theory]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT /* never closed")]
    public void Classify_UnterminatedEverywhere_IsMalformed(string sql)
    {
        SqlStatementClassifier.Classify(sql).Malformed.Should().BeTrue();
    }

    [Fact]
    public void Classify_StatementKinds_FollowLeadingKeywordAfterCtesAndParentheses()
    {
        var a = SqlStatementClassifier.Classify("WITH a AS (SELECT 1), b AS (SELECT 2) UPDATE t SET x = 1; (SELECT 1); GRANT SELECT ON t TO u");
        a.Statements.Select(s => s.Kind).Distinct().Should().Contain([SqlStatementKind.Update, SqlStatementKind.Select, SqlStatementKind.Grant]);
    }

    [Fact]
    public void Classify_TooLong_IsMalformed()
    {
        SqlStatementClassifier.Classify("SELECT " + new string('1', SqlStatementClassifier.MaxLength)).Malformed.Should().BeTrue();
    }

    private static readonly string[] Destructive = ["DELETE FROM t", "DROP TABLE t", "TRUNCATE t", "ALTER TABLE t DROP COLUMN c"];

    /// <summary>Property: a destructive statement appended after any harmless prefix (comments, literals, CTEs) is found.</summary>
    [Fact]
    public void Classify_DestructiveAfterAnyHarmlessPrefix_IsAlwaysDetected()
    {
        var harmless = new[] { "SELECT 1", "SELECT 'it''s'", "SELECT \"x\"", "/* c */ SELECT 2", "SELECT 3 -- tail", "WITH q AS (SELECT 1) SELECT * FROM q", "SELECT $$x$$" };
        var gen = from prefix in Gen.ArrayOf(Gen.Elements(harmless))
                  from bad in Gen.Elements(Destructive)
                  from upper in Gen.Elements(true, false)
                  select string.Join(";\n", prefix.Append(upper ? bad : bad.ToLowerInvariant()));
        Prop.ForAll(gen.ToArbitrary(), sql => SqlStatementClassifier.Classify(sql).IsDestructive).QuickCheckThrowOnFailure();
    }

    /// <summary>Property: destructive keywords inside string literals or comments alone never count.</summary>
    [Fact]
    public void Classify_DestructiveOnlyInsideLiteralsOrComments_IsNeverDestructive()
    {
        var wrappers = new Func<string, string>[]
        {
            s => $"SELECT '{s}'",
            s => $"SELECT 1 /* {s} */",
            s => $"SELECT 1 -- {s}",
            s => $"SELECT \"{s}\"",
        };
        var gen = from w in Gen.Elements(wrappers) from bad in Gen.Elements(Destructive) select w(bad.Replace(";", ",", StringComparison.Ordinal));
        Prop.ForAll(gen.ToArbitrary(), sql => !SqlStatementClassifier.Classify(sql).IsDestructive).QuickCheckThrowOnFailure();
    }
}
