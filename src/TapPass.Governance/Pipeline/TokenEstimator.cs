using TapPass.Protocol;

namespace TapPass.Governance.Pipeline;

/// <summary>
/// A deterministic token estimate close to BPE tokenisers on English text: every run of ASCII letters or digits
/// counts one token per started 4 characters, every other non-space character (punctuation, non-ASCII letters,
/// emoji halves) counts one, white space is free. A message adds 4 tokens of framing and a conversation 3
/// (the OpenAI chat-format overhead).
/// </summary>
internal static class TokenEstimator
{
    public static int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var tokens = 0;
        var run = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                run++;
                continue;
            }

            tokens += (run + 3) / 4;
            run = 0;
            if (!char.IsWhiteSpace(c))
            {
                tokens++;
            }
        }

        return tokens + ((run + 3) / 4);
    }

    public static int CountMessages(IEnumerable<ChatCompletionMessage> messages, IEnumerable<ToolDefinition>? tools = null)
    {
        var total = 3;
        foreach (var m in messages)
        {
            total += 4 + Count(m.Content) + Count(m.Name);
            if (m.ToolCalls is { } calls)
            {
                foreach (var call in calls)
                {
                    total += 3 + Count(call.Function.Name) + Count(call.Function.Arguments);
                }
            }
        }

        if (tools is not null)
        {
            foreach (var t in tools)
            {
                total += 8 + Count(t.Function.Name) + Count(t.Function.Description) + Count(t.Function.Parameters?.GetRawText());
            }
        }

        return total;
    }
}
