using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TapPass.Governance.Policy.Tools;

/// <summary>Kinds of tool the rules recognise.</summary>
[Flags]
internal enum ToolKinds
{
    None = 0,
    Email = 1,
    File = 2,
    Sql = 4,
}

/// <summary>A tool rule's verdict (before the governance mode is applied).</summary>
/// <param name="Outcome"><c>allow</c>, <c>block</c> or <c>modify</c>.</param>
/// <param name="BlockedBy">Rule: <c>tool_permissions</c>, <c>email_policy</c>, <c>file_policy</c>, <c>db_policy</c>.</param>
/// <param name="Reason">Human-readable, without argument values.</param>
/// <param name="ModifiedArgs">Rewritten arguments for <c>modify</c>.</param>
/// <param name="Kinds">What the tool was recognised as.</param>
internal sealed record ToolDecision(string Outcome, string? BlockedBy, string? Reason, JsonElement? ModifiedArgs, ToolKinds Kinds)
{
    public bool IsBlock => Outcome == "block";
}

/// <summary>How tools are recognised as e-mail, file or SQL tools: by name (globs) and by argument shape.</summary>
internal sealed record ToolRecognition
{
    public IReadOnlyList<string> EmailToolNames { get; init; } = ["*email*", "*mail*"];
    public IReadOnlyList<string> FileToolNames { get; init; } = ["*file*", "*dir*", "*folder*", "fs_*", "*_fs", "*path*"];
    public IReadOnlyList<string> SqlToolNames { get; init; } = ["*sql*", "*query*", "*db*", "*database*"];
    public IReadOnlyList<string> RecipientArguments { get; init; } = ["to", "cc", "bcc", "recipient", "recipients"];
    public IReadOnlyList<string> PathArguments { get; init; } = ["path", "file_path", "filepath", "filename", "file", "file_name", "target", "destination", "dest", "source", "src", "directory", "dir", "paths"];
    public IReadOnlyList<string> SqlArguments { get; init; } = ["sql", "query", "statement", "statements", "command"];
}

/// <summary>
/// Evaluates the <c>tools</c>, <c>email</c>, <c>files</c> and <c>db</c> flags (PROTOCOL.md §5–6) on one tool call:
/// the first rule that blocks wins; e-mail <c>mirror:</c> rewrites the arguments (recipients replaced by the mirror
/// address, cc/bcc removed, subject prefixed <c>[AI TEST]</c>).
/// <list type="bullet">
/// <item>E-mail tool: name matches <see cref="ToolRecognition.EmailToolNames"/>, or the arguments have a recipient
/// (<c>to</c>, …) and a <c>subject</c> or <c>body</c>.</item>
/// <item>SQL tool: an argument named <c>sql</c> (or <c>query</c>/<c>statement</c>/<c>command</c> when the name matches
/// <see cref="ToolRecognition.SqlToolNames"/> or the value starts with a SQL keyword) holding a string.</item>
/// <item>File tool: name matches <see cref="ToolRecognition.FileToolNames"/> or the arguments have a path argument.
/// It writes when its name has a word such as write, create, delete, move, save, append, upload, edit, or its
/// arguments carry <c>content</c>/<c>data</c> or a write <c>mode</c>; otherwise it reads.</item>
/// </list>
/// </summary>
internal sealed class ToolRuleEvaluator(ToolRecognition recognition, WorkspacePathGuard workspace)
{
    public const string ToolPermissions = "tool_permissions";
    public const string EmailPolicy = "email_policy";
    public const string FilePolicy = "file_policy";
    public const string DbPolicy = "db_policy";

    private const int MaxArgumentDepth = 32;

    private static readonly string[] WriteWords =
    [
        "write", "create", "delete", "remove", "rm", "append", "move", "mv", "rename", "save", "put", "update", "edit",
        "mkdir", "rmdir", "upload", "copy", "cp", "chmod", "chown", "touch", "truncate", "patch", "replace", "unlink",
        "overwrite", "set", "insert", "modify", "store",
    ];

    private static readonly string[] ContentArguments = ["content", "contents", "data", "text", "body", "bytes", "new_content"];

    public ToolRecognition Recognition => recognition;

    /// <summary>Evaluates <paramref name="tool"/> with arguments <paramref name="args"/> under <paramref name="flags"/>.</summary>
    public ToolDecision Evaluate(string tool, JsonElement? args, EffectiveFlags flags)
    {
        ArgumentNullException.ThrowIfNull(tool);
        ArgumentNullException.ThrowIfNull(flags);
        var obj = args is { ValueKind: JsonValueKind.Object } a ? a : (JsonElement?)null;
        var kinds = Recognise(tool, obj);

        switch (flags.Tools)
        {
            case ToolsRule.Block:
                return Block(ToolPermissions, "tools=block: tool calls are not allowed", kinds);
            case ToolsRule.Allowlist when !Glob.MatchesAny(flags.ToolPatterns, tool):
                return Block(ToolPermissions, $"tool '{Safe(tool)}' is not on the allowlist", kinds);
            case ToolsRule.Denylist when Glob.MatchesAny(flags.ToolPatterns, tool):
                return Block(ToolPermissions, $"tool '{Safe(tool)}' is on the denylist", kinds);
        }

        JsonElement? modified = null;
        if (kinds.HasFlag(ToolKinds.Email))
        {
            var email = EvaluateEmail(obj, flags, kinds);
            if (email.IsBlock)
            {
                return email;
            }

            modified = email.ModifiedArgs;
        }

        if (kinds.HasFlag(ToolKinds.File))
        {
            var file = EvaluateFile(tool, obj, flags, kinds);
            if (file is not null)
            {
                return file;
            }
        }

        if (kinds.HasFlag(ToolKinds.Sql))
        {
            var db = EvaluateSql(obj, flags, kinds);
            if (db is not null)
            {
                return db;
            }
        }

        return modified is null
            ? new ToolDecision("allow", null, null, null, kinds)
            : new ToolDecision("modify", EmailPolicy, $"email redirected to the mirror address (email={flags.Values["email"]})", modified, kinds);
    }

    /// <summary>What <paramref name="tool"/> is recognised as, from its name and argument shape.</summary>
    public ToolKinds Recognise(string tool, JsonElement? args)
    {
        var kinds = ToolKinds.None;
        var names = args is { ValueKind: JsonValueKind.Object } o
            ? o.EnumerateObject().Select(p => p.Name.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal)
            : [];
        var hasRecipient = recognition.RecipientArguments.Any(names.Contains);
        if (Glob.MatchesAny(recognition.EmailToolNames, tool) || (hasRecipient && (names.Contains("subject") || names.Contains("body"))))
        {
            kinds |= ToolKinds.Email;
        }

        if (SqlText(tool, args) is not null)
        {
            kinds |= ToolKinds.Sql;
        }

        if ((kinds & ToolKinds.Email) == 0 &&
            (Glob.MatchesAny(recognition.FileToolNames, tool) || recognition.PathArguments.Any(names.Contains)))
        {
            kinds |= ToolKinds.File;
        }

        return kinds;
    }

    private ToolDecision EvaluateEmail(JsonElement? args, EffectiveFlags flags, ToolKinds kinds)
    {
        switch (flags.Email)
        {
            case EmailRule.Block:
                return Block(EmailPolicy, "email=block: e-mail tools are not allowed", kinds);
            case EmailRule.Internal:
                var domain = flags.EmailParameter!;
                var recipients = Recipients(args);
                if (recipients.Count == 0)
                {
                    return Block(EmailPolicy, $"no recipient could be checked against internal:{domain}", kinds);
                }

                var external = recipients.Count(r => !IsInDomain(r, domain));
                return external == 0
                    ? new ToolDecision("allow", null, null, null, kinds)
                    : Block(EmailPolicy, $"{external} recipient(s) outside {domain} (email=internal:{domain})", kinds);
            case EmailRule.Mirror:
                return new ToolDecision("modify", EmailPolicy, "mirror", Mirror(args, flags.EmailParameter!), kinds);
            default:
                return new ToolDecision("allow", null, null, null, kinds);
        }
    }

    private ToolDecision? EvaluateFile(string tool, JsonElement? args, EffectiveFlags flags, ToolKinds kinds)
    {
        if (flags.Files == FilesRule.Allow)
        {
            return null;
        }

        if (flags.Files == FilesRule.Block)
        {
            return Block(FilePolicy, "files=block: file tools are not allowed", kinds);
        }

        if (!IsWrite(tool, args))
        {
            return null;
        }

        if (flags.Files == FilesRule.ReadOnly)
        {
            return Block(FilePolicy, $"files=read_only: '{Safe(tool)}' writes", kinds);
        }

        var paths = Paths(args);
        if (paths.Count == 0)
        {
            return Block(FilePolicy, "files=project: the write has no path that could be checked", kinds);
        }

        foreach (var path in paths)
        {
            if (!workspace.IsInside(path, out var why))
            {
                return Block(FilePolicy, $"files=project: write outside the workspace ({why})", kinds);
            }
        }

        return null;
    }

    private ToolDecision? EvaluateSql(JsonElement? args, EffectiveFlags flags, ToolKinds kinds)
    {
        if (flags.Db == DbRule.Block)
        {
            return Block(DbPolicy, "db=block: database tools are not allowed", kinds);
        }

        var sql = SqlText(null, args) ?? "";
        var analysis = SqlStatementClassifier.Classify(sql);
        if (analysis.Malformed)
        {
            return Block(DbPolicy, "SQL could not be classified (unterminated literal or comment)", kinds);
        }

        if (flags.Db == DbRule.ReadOnly && !analysis.IsReadOnly)
        {
            var kindsFound = string.Join(", ", analysis.Statements.Where(s => !s.IsReadOnly).Select(s => s.Kind.ToString().ToUpperInvariant()).Distinct());
            return Block(DbPolicy, $"db=read_only: only SELECT is allowed (found {kindsFound})", kinds);
        }

        if (flags.Db == DbRule.SafeWrite && analysis.IsDestructive)
        {
            var words = string.Join(", ", analysis.Statements.SelectMany(s => s.WriteKeywords).Where(SqlStatementClassifier.DestructiveKeywords.Contains).Distinct().Order(StringComparer.Ordinal));
            return Block(DbPolicy, $"db=safe_write: destructive statement ({words})", kinds);
        }

        return null;
    }

    private string? SqlText(string? tool, JsonElement? args)
    {
        if (args is not { ValueKind: JsonValueKind.Object } o)
        {
            return null;
        }

        var nameIsSql = tool is null || Glob.MatchesAny(recognition.SqlToolNames, tool);
        foreach (var p in o.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String || !recognition.SqlArguments.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var text = p.Value.GetString() ?? "";
            if (nameIsSql || p.Name.Equals("sql", StringComparison.OrdinalIgnoreCase) || LooksLikeSql(text))
            {
                return text;
            }
        }

        return null;
    }

    private static bool LooksLikeSql(string text)
    {
        var t = text.TrimStart(' ', '\t', '\r', '\n', '(');
        var word = new string(t.TakeWhile(char.IsAsciiLetter).ToArray()).ToUpperInvariant();
        return word is "SELECT" or "INSERT" or "UPDATE" or "DELETE" or "MERGE" or "WITH" or "CREATE" or "DROP" or "ALTER"
            or "TRUNCATE" or "REPLACE" or "GRANT" or "REVOKE" or "EXPLAIN" or "CALL" or "EXEC" or "EXECUTE" or "VALUES"
            || t.StartsWith("--", StringComparison.Ordinal) || t.StartsWith("/*", StringComparison.Ordinal);
    }

    private static bool IsWrite(string tool, JsonElement? args)
    {
        var words = SplitWords(tool);
        if (words.Any(w => WriteWords.Contains(w)))
        {
            return true;
        }

        if (args is not { ValueKind: JsonValueKind.Object } o)
        {
            return false;
        }

        foreach (var p in o.EnumerateObject())
        {
            var name = p.Name.ToLowerInvariant();
            if (ContentArguments.Contains(name))
            {
                return true;
            }

            if (name is "mode" or "operation" or "op" or "action" && p.Value.ValueKind == JsonValueKind.String)
            {
                var v = (p.Value.GetString() ?? "").Trim().ToLowerInvariant();
                if (IsFopenWriteMode(v) || SplitWords(v).Any(w => WriteWords.Contains(w)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>fopen-style modes: <c>w</c>, <c>a</c>, <c>x</c> or any <c>+</c> (<c>r+</c>, <c>wb</c>, <c>a+t</c>, …).</summary>
    private static bool IsFopenWriteMode(string v) =>
        v.Length is > 0 and <= 4 && v[0] is 'r' or 'w' or 'a' or 'x' && v.Skip(1).All(c => c is 'b' or 't' or '+') &&
        (v[0] != 'r' || v.Contains('+', StringComparison.Ordinal));

    private static List<string> SplitWords(string name)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var boundary = !char.IsAsciiLetterOrDigit(c) || (char.IsAsciiLetterUpper(c) && i > 0 && char.IsAsciiLetterLower(name[i - 1]));
            if (boundary && sb.Length > 0)
            {
                words.Add(sb.ToString());
                sb.Clear();
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
        }

        if (sb.Length > 0)
        {
            words.Add(sb.ToString());
        }

        return words;
    }

    private List<string> Paths(JsonElement? args)
    {
        var result = new List<string>();
        if (args is not { ValueKind: JsonValueKind.Object } o)
        {
            return result;
        }

        foreach (var p in o.EnumerateObject())
        {
            if (recognition.PathArguments.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
            {
                CollectStrings(p.Value, result, 0);
            }
        }

        return result;
    }

    private List<string> Recipients(JsonElement? args)
    {
        var raw = new List<string>();
        if (args is { ValueKind: JsonValueKind.Object } o)
        {
            foreach (var p in o.EnumerateObject())
            {
                if (recognition.RecipientArguments.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
                {
                    CollectStrings(p.Value, raw, 0);
                }
            }
        }

        var result = new List<string>();
        foreach (var item in raw)
        {
            foreach (var part in item.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var lt = part.LastIndexOf('<');
                var gt = part.LastIndexOf('>');
                result.Add((lt >= 0 && gt > lt ? part[(lt + 1)..gt] : part).Trim());
            }
        }

        return result;
    }

    private static void CollectStrings(JsonElement value, List<string> into, int depth)
    {
        if (depth > MaxArgumentDepth || into.Count > 1000)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                into.Add(value.GetString() ?? "");
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    CollectStrings(item, into, depth + 1);
                }

                break;
            case JsonValueKind.Object:
                foreach (var p in value.EnumerateObject())
                {
                    if (p.Name is "email" or "address" or "path")
                    {
                        CollectStrings(p.Value, into, depth + 1);
                    }
                }

                break;
        }
    }

    private static bool IsInDomain(string address, string domain)
    {
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1)
        {
            return false;
        }

        var host = address[(at + 1)..].Trim().TrimEnd('.').ToLowerInvariant();
        return host == domain || host.EndsWith("." + domain, StringComparison.Ordinal);
    }

    /// <summary>Rewrites the arguments for <c>email=mirror:&lt;address&gt;</c>.</summary>
    private JsonElement Mirror(JsonElement? args, string mirror)
    {
        const string Prefix = "[AI TEST]";
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var wroteRecipient = false;
            var wroteSubject = false;
            if (args is { ValueKind: JsonValueKind.Object } o)
            {
                foreach (var p in o.EnumerateObject())
                {
                    var name = p.Name.ToLowerInvariant();
                    if (name is "cc" or "bcc")
                    {
                        continue;
                    }

                    if (recognition.RecipientArguments.Contains(name, StringComparer.OrdinalIgnoreCase))
                    {
                        if (wroteRecipient)
                        {
                            continue;
                        }

                        writer.WritePropertyName(p.Name);
                        if (p.Value.ValueKind == JsonValueKind.Array)
                        {
                            writer.WriteStartArray();
                            writer.WriteStringValue(mirror);
                            writer.WriteEndArray();
                        }
                        else
                        {
                            writer.WriteStringValue(mirror);
                        }

                        wroteRecipient = true;
                    }
                    else if (name == "subject")
                    {
                        var subject = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : "";
                        writer.WriteString(p.Name, subject.StartsWith(Prefix, StringComparison.Ordinal) ? subject : (Prefix + " " + subject).TrimEnd());
                        wroteSubject = true;
                    }
                    else
                    {
                        p.WriteTo(writer);
                    }
                }
            }

            if (!wroteRecipient)
            {
                writer.WriteString("to", mirror);
            }

            if (!wroteSubject)
            {
                writer.WriteString("subject", Prefix);
            }

            writer.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static ToolDecision Block(string rule, string reason, ToolKinds kinds) => new("block", rule, reason, null, kinds);

    private static string Safe(string tool) => tool.Length <= 64 ? tool : tool[..64] + "…";
}
