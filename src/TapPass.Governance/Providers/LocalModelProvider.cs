using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TapPass.Governance.Pipeline;
using TapPass.Protocol;

namespace TapPass.Governance.Providers;

/// <summary>
/// The built-in offline model (provider <c>local</c>, the default): deterministic, no network, answers from the
/// conversation it is given. It serves every model name unless another provider claims it, and reports usage from
/// <see cref="TokenEstimator"/>. What it understands, in the last user message (case-insensitive):
/// <list type="bullet">
/// <item><b>Tool calls</b>: <c>call tool &lt;name&gt; with &lt;json-object&gt;</c>, e.g.
/// <c>call tool send_email with {"to":"a@b.com","subject":"hi"}</c>. The name is 1–64 characters of
/// <c>[A-Za-z0-9_.-]</c>; <c>with &lt;json-object&gt;</c> is optional (arguments <c>{}</c>); several such phrases give
/// several calls. The answer has <c>finish_reason</c> <c>tool_calls</c> and no text. When the last message is a
/// <c>tool</c> result, the model answers with text acknowledging it instead of calling again.</item>
/// <item><b>Names</b>: "my name is Alice" (or "call me Alice") anywhere in the user messages is remembered (the latest
/// wins); "what's my name?", "what is my name?" or "who am I?" answers with it, or says it does not know.</item>
/// <item><b>Echo</b>: "repeat after me: …", "echo: …" or "say: …" answers with the text after the colon, verbatim.</item>
/// <item><b>Summaries</b>: "summarize: …" / "summarise: …" answers with the first sentence and a word count.</item>
/// <item><b>Arithmetic</b>: "what is 2 + 3" (one operator of + - * /, integers or decimals).</item>
/// <item><b>Greetings</b> ("hello", "hi", …), and otherwise an acknowledgement quoting the start of the message.</item>
/// </list>
/// Streaming sends the same answer one word (with its trailing space) per chunk, then a last update with the
/// finish reason and usage.
/// </summary>
internal sealed partial class LocalModelProvider : IModelProvider
{
    public const string ProviderName = "local";

    private const int MaxToolCalls = 16;

    private static readonly HashSet<string> NotNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "not", "a", "an", "the", "very", "really", "just", "also", "secret", "private", "unknown", "irrelevant", "important", "none",
    };

    public LocalModelProvider(IReadOnlyList<string>? models = null) =>
        Models = models is { Count: > 0 } ? models : ["gpt-4o-mini", "gpt-4o", "local"];

    public string Name => ProviderName;

    public IReadOnlyList<string> Models { get; }

    public Task<ProviderResult> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Answer(request));
    }

    public async IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = Answer(request);
        if (result.ToolCalls.Count > 0)
        {
            for (var i = 0; i < result.ToolCalls.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var call = result.ToolCalls[i];
                var args = call.Function.Arguments;
                var half = args.Length / 2;
                yield return new ProviderStreamUpdate
                {
                    ToolCalls = [new ToolCallDelta { Index = i, Id = call.Id, Type = "function", Function = new FunctionCallDelta { Name = call.Function.Name, Arguments = args[..half] } }],
                };
                await Task.Yield();
                yield return new ProviderStreamUpdate
                {
                    ToolCalls = [new ToolCallDelta { Index = i, Function = new FunctionCallDelta { Arguments = args[half..] } }],
                };
            }
        }
        else
        {
            foreach (var piece in SplitForStreaming(result.Content))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Yield();
                yield return new ProviderStreamUpdate { ContentDelta = piece };
            }
        }

        yield return new ProviderStreamUpdate
        {
            FinishReason = result.FinishReason,
            PromptTokens = result.PromptTokens,
            CompletionTokens = result.CompletionTokens,
        };
    }

    /// <summary>Splits text into word-sized pieces (each word with the white space that follows it).</summary>
    internal static IEnumerable<string> SplitForStreaming(string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && (i + 1 == text.Length || !char.IsWhiteSpace(text[i + 1])))
            {
                yield return text[start..(i + 1)];
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    private ProviderResult Answer(ProviderRequest request)
    {
        var messages = request.Messages;
        var prompt = TokenEstimator.CountMessages(messages, request.Tools);
        var last = messages.Count > 0 ? messages[^1] : null;
        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Content ?? "";

        if (last is not null && last.Role != "tool")
        {
            var calls = ParseToolCalls(lastUser);
            if (calls.Count > 0)
            {
                var completion = calls.Sum(c => 3 + TokenEstimator.Count(c.Function.Name) + TokenEstimator.Count(c.Function.Arguments));
                return new ProviderResult
                {
                    Model = request.Model,
                    ToolCalls = calls,
                    FinishReason = "tool_calls",
                    PromptTokens = prompt,
                    CompletionTokens = completion,
                };
            }
        }

        var content = last?.Role == "tool" ? AnswerToolResult(messages) : AnswerText(lastUser, messages);
        var limit = request.MaxTokens;
        var finish = "stop";
        if (limit is > 0 && TokenEstimator.Count(content) > limit)
        {
            content = Truncate(content, limit.Value);
            finish = "length";
        }

        return new ProviderResult
        {
            Model = request.Model,
            Content = content,
            FinishReason = finish,
            PromptTokens = prompt,
            CompletionTokens = TokenEstimator.Count(content),
        };
    }

    private static string AnswerToolResult(IReadOnlyList<ChatCompletionMessage> messages)
    {
        var result = messages[^1].Content ?? "";
        var callId = messages[^1].ToolCallId;
        var name = messages.SelectMany(m => m.ToolCalls ?? []).LastOrDefault(c => c.Id == callId)?.Function.Name ?? "the tool";
        var excerpt = Excerpt(result, 24);
        return excerpt.Length == 0
            ? $"{name} finished without output."
            : $"{name} returned: {excerpt}";
    }

    private static string AnswerText(string message, IReadOnlyList<ChatCompletionMessage> messages)
    {
        var text = message.Trim();
        if (text.Length == 0)
        {
            return "I didn't receive a message. What would you like to ask?";
        }

        if (EchoRegex().Match(text) is { Success: true } echo)
        {
            return echo.Groups["text"].Value;
        }

        if (AskNameRegex().IsMatch(text))
        {
            var name = RememberedName(messages);
            return name is null
                ? "I don't know your name yet — you haven't told me in this conversation."
                : $"Your name is {name}.";
        }

        var stated = NameRegex().Matches(text).Select(m => m.Groups["name"].Value).LastOrDefault(n => !NotNames.Contains(n));
        if (stated is not null)
        {
            return $"Nice to meet you, {stated}! How can I help you today?";
        }

        if (SummaryRegex().Match(text) is { Success: true } summary)
        {
            var body = summary.Groups["text"].Value.Trim();
            var words = body.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            var firstSentence = FirstSentence(body);
            return $"Summary ({words} words): {firstSentence}";
        }

        if (ArithmeticRegex().Match(text) is { Success: true } math && TryCompute(math, out var value))
        {
            return $"{math.Groups["a"].Value} {math.Groups["op"].Value} {math.Groups["b"].Value} = {value.ToString(CultureInfo.InvariantCulture)}";
        }

        if (GreetingRegex().IsMatch(text))
        {
            var name = RememberedName(messages);
            return name is null ? "Hello! How can I help you today?" : $"Hello, {name}! How can I help you today?";
        }

        var turn = messages.Count(m => m.Role == "user");
        return $"I'm the TapPass local model, answering offline. You asked: \"{Excerpt(text, 12)}\" " +
               $"(message {turn} of this conversation). I can remember your name, repeat text, summarise, do simple " +
               "arithmetic and call tools when asked to \"call tool <name> with {…}\".";
    }

    private static string? RememberedName(IReadOnlyList<ChatCompletionMessage> messages)
    {
        string? name = null;
        foreach (var m in messages)
        {
            if (m.Role != "user" || m.Content is null)
            {
                continue;
            }

            foreach (Match match in NameRegex().Matches(m.Content))
            {
                if (!NotNames.Contains(match.Groups["name"].Value))
                {
                    name = match.Groups["name"].Value;
                }
            }
        }

        return name;
    }

    private static bool TryCompute(Match m, out decimal value)
    {
        value = 0;
        if (!decimal.TryParse(m.Groups["a"].Value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a) ||
            !decimal.TryParse(m.Groups["b"].Value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b))
        {
            return false;
        }

        try
        {
            switch (m.Groups["op"].Value)
            {
                case "+": value = a + b; return true;
                case "-": value = a - b; return true;
                case "*" or "x" or "×": value = a * b; return true;
                case "/" when b != 0: value = Math.Round(a / b, 10); return true;
                default: return false;
            }
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static List<ToolCall> ParseToolCalls(string text)
    {
        var calls = new List<ToolCall>();
        foreach (Match m in ToolCallRegex().Matches(text))
        {
            if (calls.Count == MaxToolCalls)
            {
                break;
            }

            var name = m.Groups["name"].Value;
            var args = "{}";
            if (m.Groups["with"].Success)
            {
                var json = ExtractJsonObject(text, m.Index + m.Length);
                if (json is null)
                {
                    continue;
                }

                args = json;
            }

            calls.Add(new ToolCall
            {
                Id = "call_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{calls.Count}:{name}:{args}")))[..24],
                Type = "function",
                Function = new FunctionCall { Name = name, Arguments = args },
            });
        }

        return calls;
    }

    /// <summary>The JSON object starting at the first '{' at or after <paramref name="from"/>, minified, or null.</summary>
    private static string? ExtractJsonObject(string text, int from)
    {
        var start = text.IndexOf('{', from);
        if (start < 0 || text[from..start].Trim().Length > 0)
        {
            return null;
        }

        var depth = 0;
        var inString = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && --depth == 0)
            {
                try
                {
                    using var doc = JsonDocument.Parse(text.AsMemory(start, i - start + 1), new JsonDocumentOptions { MaxDepth = 32 });
                    return Minify(doc.RootElement);
                }
                catch (JsonException)
                {
                    return null;
                }
            }
        }

        return null;
    }

    private static string Minify(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string FirstSentence(string text)
    {
        var end = text.IndexOfAny(['.', '!', '?', '\n']);
        var sentence = end < 0 ? text : text[..(end + (text[end] == '\n' ? 0 : 1))];
        return Excerpt(sentence, 40);
    }

    private static string Excerpt(string text, int maxWords)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length <= maxWords ? string.Join(' ', words) : string.Join(' ', words.Take(maxWords)) + " …";
    }

    private static string Truncate(string content, int maxTokens)
    {
        var sb = new StringBuilder();
        foreach (var piece in SplitForStreaming(content))
        {
            if (TokenEstimator.Count(sb + piece) > maxTokens)
            {
                break;
            }

            sb.Append(piece);
        }

        return sb.ToString().TrimEnd();
    }

    [GeneratedRegex(@"\bcall\s+tool\s+(?<name>[A-Za-z0-9_.\-]{1,64})(?<with>\s+with\b)?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex ToolCallRegex();

    [GeneratedRegex(@"\b(?:my\s+name\s+is|call\s+me)\s+(?<name>\p{Lu}[\p{L}'\-]{0,39}|\p{Ll}[\p{L}'\-]{0,39})", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex NameRegex();

    [GeneratedRegex(@"\b(?:what(?:'s|’s|\s+is)\s+my\s+name|who\s+am\s+i)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex AskNameRegex();

    [GeneratedRegex(@"^\s*(?:repeat\s+after\s+me|echo|say)\s*:\s?(?<text>[\s\S]*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex EchoRegex();

    [GeneratedRegex(@"^\s*summari[sz]e\s*:\s*(?<text>[\s\S]+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex SummaryRegex();

    [GeneratedRegex(@"\bwhat\s+is\s+(?<a>-?[0-9]{1,15}(?:\.[0-9]{1,10})?)\s*(?<op>[+\-*/x×])\s*(?<b>-?[0-9]{1,15}(?:\.[0-9]{1,10})?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex ArithmeticRegex();

    [GeneratedRegex(@"^\s*(?:hello|hi|hey|good\s+(?:morning|afternoon|evening)|greetings)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex GreetingRegex();
}
