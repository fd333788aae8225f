namespace TapPass.Governance.Policy.Tools;

/// <summary>What a SQL statement does, by its leading keyword (after CTEs and <c>EXPLAIN</c>).</summary>
internal enum SqlStatementKind
{
    Select,
    Insert,
    Update,
    Delete,
    Merge,
    Create,
    Drop,
    Alter,
    Truncate,
    Grant,
    Revoke,
    Call,
    Other,
}

/// <summary>One statement: its kind and the data-changing keywords that occur anywhere in it.</summary>
internal sealed record SqlStatement(SqlStatementKind Kind, IReadOnlySet<string> WriteKeywords)
{
    /// <summary>Contains DELETE, DROP, TRUNCATE or ALTER anywhere (including inside CTEs and sub-queries).</summary>
    public bool IsDestructive => WriteKeywords.Overlaps(SqlStatementClassifier.DestructiveKeywords);

    /// <summary>A query that reads only: a SELECT (or WITH … SELECT) with no data-changing keyword anywhere.</summary>
    public bool IsReadOnly => Kind == SqlStatementKind.Select && WriteKeywords.Count == 0;
}

/// <summary>The statements of a SQL text.</summary>
/// <param name="Statements">Non-empty statements, in order.</param>
/// <param name="Malformed">Unterminated string, identifier or comment under every dialect interpretation, or too long.</param>
internal sealed record SqlAnalysis(IReadOnlyList<SqlStatement> Statements, bool Malformed)
{
    public bool IsDestructive => Statements.Any(s => s.IsDestructive);

    public bool IsReadOnly => !Malformed && Statements.All(s => s.IsReadOnly);
}

/// <summary>
/// Classifies SQL text by statement kind without executing or fully parsing it. It tokenises outside string
/// literals, quoted identifiers and comments, splits on top-level <c>;</c>, finds each statement's kind (skipping
/// parentheses, <c>WITH</c> common table expressions and <c>EXPLAIN</c>) and collects every data-changing keyword
/// anywhere in it, so <c>WITH d AS (DELETE …) SELECT …</c> counts as destructive. Because dialects disagree on what
/// is a literal or a comment, the text is tokenised three times — PostgreSQL/standard (doubled-quote escapes, dollar
/// quoting, nested comments), MySQL (backslash escapes, <c>#</c> and <c>-- </c> comments, executable
/// <c>/*! */</c> comments) and SQL Server/SQLite (bracket identifiers) — and the findings are combined, so a keyword
/// hidden from one interpretation is still seen by another. An interpretation under which the text is malformed
/// (unterminated literal or comment) is ignored, since that database would refuse the text; when all are, the
/// analysis is <see cref="SqlAnalysis.Malformed"/>. Case-insensitive; ASCII keywords. Not covered: functions with
/// side effects called from a SELECT (e.g. <c>nextval</c>, <c>pg_write_file</c>).
/// </summary>
internal static class SqlStatementClassifier
{
    public const int MaxLength = 100_000;

    public static readonly IReadOnlySet<string> DestructiveKeywords = new HashSet<string>(StringComparer.Ordinal) { "DELETE", "DROP", "TRUNCATE", "ALTER" };

    private static readonly HashSet<string> WriteWords = new(StringComparer.Ordinal)
    {
        // Reserved words that change data wherever they appear (statement starters such as SET, COPY, VACUUM or
        // PRAGMA make the statement's kind Other, which is not read-only either).
        "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "DROP", "TRUNCATE", "ALTER", "CREATE", "GRANT", "REVOKE",
        "INTO", "EXEC", "EXECUTE",
    };

    /// <summary>Classifies <paramref name="sql"/>.</summary>
    public static SqlAnalysis Classify(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (sql.Length > MaxLength)
        {
            return new SqlAnalysis([], Malformed: true);
        }

        var runs = Dialects.Select(d => Tokenize(sql, d)).ToList();
        var wellFormed = runs.Where(r => !r.Malformed).ToList();
        var malformed = wellFormed.Count == 0;
        var statements = new List<SqlStatement>();
        foreach (var run in malformed ? runs : wellFormed)
        {
            statements.AddRange(Analyse(run.Tokens));
        }

        return new SqlAnalysis(statements, malformed);
    }

    private sealed record Dialect(
        bool BackslashEscapes,
        bool DoubleQuoteIsString,
        bool HashComments,
        bool DashDashNeedsSpace,
        bool ExecutableComments,
        bool NestedComments,
        bool Brackets,
        bool DollarQuotes,
        bool DollarInIdentifiers);

    private static readonly Dialect[] Dialects =
    [
        // PostgreSQL / standard.
        new(BackslashEscapes: false, DoubleQuoteIsString: false, HashComments: false, DashDashNeedsSpace: false,
            ExecutableComments: false, NestedComments: true, Brackets: false, DollarQuotes: true, DollarInIdentifiers: false),
        // MySQL / MariaDB.
        new(BackslashEscapes: true, DoubleQuoteIsString: true, HashComments: true, DashDashNeedsSpace: true,
            ExecutableComments: true, NestedComments: false, Brackets: false, DollarQuotes: false, DollarInIdentifiers: true),
        // SQL Server / SQLite.
        new(BackslashEscapes: false, DoubleQuoteIsString: false, HashComments: false, DashDashNeedsSpace: false,
            ExecutableComments: false, NestedComments: false, Brackets: true, DollarQuotes: false, DollarInIdentifiers: true),
    ];

    private readonly record struct Token(string Text, bool IsWord);

    private static (List<Token> Tokens, bool Malformed) Tokenize(string s, Dialect dialect)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '-' && At(s, i + 1, '-') && (!dialect.DashDashNeedsSpace || i + 2 >= s.Length || char.IsWhiteSpace(s[i + 2]) || char.IsControl(s[i + 2])))
            {
                i = SkipLine(s, i);
            }
            else if (c == '#' && dialect.HashComments)
            {
                i = SkipLine(s, i);
            }
            else if (c == '/' && At(s, i + 1, '*'))
            {
                if (dialect.ExecutableComments && At(s, i + 2, '!'))
                {
                    // MySQL executable comment: its content is code. Skip the optional version number.
                    i += 3;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        i++;
                    }

                    continue;
                }

                var end = SkipBlockComment(s, i, dialect.NestedComments);
                if (end < 0)
                {
                    return (tokens, true);
                }

                i = end;
            }
            else if (dialect.ExecutableComments && c == '*' && At(s, i + 1, '/'))
            {
                // End of an executable comment.
                i += 2;
            }
            else if (c == '\'' || (dialect.DoubleQuoteIsString && c == '"'))
            {
                var end = SkipQuoted(s, i, c, dialect.BackslashEscapes);
                if (end < 0)
                {
                    return (tokens, true);
                }

                i = end;
            }
            else if (c == '"' || c == '`')
            {
                var end = SkipQuoted(s, i, c, backslash: false);
                if (end < 0)
                {
                    return (tokens, true);
                }

                i = end;
            }
            else if (dialect.Brackets && c == '[')
            {
                var close = s.IndexOf(']', i + 1);
                if (close < 0)
                {
                    return (tokens, true);
                }

                i = close + 1;
            }
            else if (dialect.DollarQuotes && c == '$' && TryDollarTag(s, i, out var tag))
            {
                var close = s.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0)
                {
                    return (tokens, true);
                }

                i = close + tag.Length;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_' || (dialect.DollarInIdentifiers && s[i] == '$')))
                {
                    i++;
                }

                // E'...' / N'...' / B'...' / X'...' prefixes: the word is a literal prefix, the quote follows.
                tokens.Add(new Token(s[start..i].ToUpperInvariant(), true));
            }
            else if (char.IsAsciiDigit(c))
            {
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '.'))
                {
                    i++;
                }
            }
            else
            {
                if (c is '(' or ')' or ';')
                {
                    tokens.Add(new Token(c.ToString(), false));
                }

                i++;
            }
        }

        return (tokens, false);
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static int SkipLine(string s, int i)
    {
        var nl = s.IndexOfAny(['\n', '\r'], i);
        return nl < 0 ? s.Length : nl + 1;
    }

    private static int SkipBlockComment(string s, int i, bool nested)
    {
        var depth = 0;
        while (i < s.Length)
        {
            if (s[i] == '/' && At(s, i + 1, '*'))
            {
                depth = nested || depth == 0 ? depth + 1 : depth;
                i += 2;
            }
            else if (s[i] == '*' && At(s, i + 1, '/'))
            {
                depth--;
                i += 2;
                if (depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return -1;
    }

    private static int SkipQuoted(string s, int i, char quote, bool backslash)
    {
        i++;
        while (i < s.Length)
        {
            var c = s[i];
            if (backslash && c == '\\')
            {
                i += 2;
            }
            else if (c == quote)
            {
                if (At(s, i + 1, quote))
                {
                    i += 2;
                }
                else
                {
                    return i + 1;
                }
            }
            else
            {
                i++;
            }
        }

        return -1;
    }

    private static bool TryDollarTag(string s, int i, out string tag)
    {
        tag = "";
        var j = i + 1;
        while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '_'))
        {
            j++;
        }

        if (j < s.Length && s[j] == '$' && (j == i + 1 || !char.IsAsciiDigit(s[i + 1])))
        {
            tag = s[i..(j + 1)];
            return true;
        }

        return false;
    }

    private static List<SqlStatement> Analyse(List<Token> tokens)
    {
        var result = new List<SqlStatement>();
        var start = 0;
        for (var i = 0; i <= tokens.Count; i++)
        {
            if (i == tokens.Count || (!tokens[i].IsWord && tokens[i].Text == ";"))
            {
                if (i > start)
                {
                    var statement = AnalyseStatement(tokens.GetRange(start, i - start));
                    if (statement is not null)
                    {
                        result.Add(statement);
                    }
                }

                start = i + 1;
            }
        }

        return result;
    }

    private static SqlStatement? AnalyseStatement(List<Token> tokens)
    {
        if (!tokens.Any(t => t.IsWord))
        {
            return null;
        }

        var writes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (!t.IsWord || !WriteWords.Contains(t.Text))
            {
                continue;
            }

            var previous = i > 0 && tokens[i - 1].IsWord ? tokens[i - 1].Text : null;
            var next = i + 1 < tokens.Count ? tokens[i + 1] : default;

            // Foreign-key actions (ON DELETE CASCADE) are not statements.
            if (previous == "ON" && t.Text is "DELETE" or "UPDATE")
            {
                continue;
            }

            // REPLACE(...) is a string function.
            if (t.Text == "REPLACE" && next is { IsWord: false, Text: "(" })
            {
                continue;
            }

            writes.Add(t.Text);
        }

        return new SqlStatement(LeadingKind(tokens), writes);
    }

    private static SqlStatementKind LeadingKind(List<Token> tokens)
    {
        var i = 0;
        while (true)
        {
            while (i < tokens.Count && !tokens[i].IsWord)
            {
                i++;
            }

            if (i >= tokens.Count)
            {
                return SqlStatementKind.Other;
            }

            switch (tokens[i].Text)
            {
                case "EXPLAIN" or "DESCRIBE" or "DESC":
                    i++;
                    while (i < tokens.Count && tokens[i].IsWord && tokens[i].Text is "ANALYZE" or "ANALYSE" or "VERBOSE" or "QUERY" or "PLAN" or "FORMAT" or "EXTENDED")
                    {
                        i++;
                    }

                    continue;
                case "WITH":
                    i = SkipCtes(tokens, i + 1);
                    continue;
            }

            return tokens[i].Text switch
            {
                "SELECT" or "VALUES" or "TABLE" or "SHOW" => SqlStatementKind.Select,
                "INSERT" or "REPLACE" or "UPSERT" => SqlStatementKind.Insert,
                "UPDATE" => SqlStatementKind.Update,
                "DELETE" => SqlStatementKind.Delete,
                "MERGE" => SqlStatementKind.Merge,
                "CREATE" => SqlStatementKind.Create,
                "DROP" => SqlStatementKind.Drop,
                "ALTER" => SqlStatementKind.Alter,
                "TRUNCATE" => SqlStatementKind.Truncate,
                "GRANT" => SqlStatementKind.Grant,
                "REVOKE" => SqlStatementKind.Revoke,
                "CALL" or "EXEC" or "EXECUTE" => SqlStatementKind.Call,
                _ => SqlStatementKind.Other,
            };
        }
    }

    /// <summary>Skips <c>[RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (…) [, …]</c>; returns the index after the list.</summary>
    private static int SkipCtes(List<Token> tokens, int i)
    {
        while (i < tokens.Count)
        {
            // Advance to the first '(' at depth 0 that follows AS, then skip the balanced group.
            var sawAs = false;
            while (i < tokens.Count && !(sawAs && !tokens[i].IsWord && tokens[i].Text == "("))
            {
                if (tokens[i].IsWord && tokens[i].Text == "AS")
                {
                    sawAs = true;
                }
                else if (!tokens[i].IsWord && tokens[i].Text == "(" && !sawAs)
                {
                    i = SkipGroup(tokens, i);
                    continue;
                }

                i++;
            }

            if (i >= tokens.Count)
            {
                return i;
            }

            i = SkipGroup(tokens, i);

            // Another CTE follows only after a comma, which the tokenizer drops: a word that is not a statement
            // keyword means another CTE name.
            if (i < tokens.Count && tokens[i].IsWord && !IsStatementKeyword(tokens[i].Text))
            {
                continue;
            }

            return i;
        }

        return i;
    }

    private static bool IsStatementKeyword(string word) => word is "SELECT" or "INSERT" or "UPDATE" or "DELETE" or "MERGE" or "VALUES" or "TABLE" or "REPLACE" or "UPSERT";

    private static int SkipGroup(List<Token> tokens, int i)
    {
        var depth = 0;
        for (; i < tokens.Count; i++)
        {
            if (tokens[i].IsWord)
            {
                continue;
            }

            if (tokens[i].Text == "(")
            {
                depth++;
            }
            else if (tokens[i].Text == ")")
            {
                depth--;
                if (depth == 0)
                {
                    return i + 1;
                }
            }
        }

        return i;
    }
}
