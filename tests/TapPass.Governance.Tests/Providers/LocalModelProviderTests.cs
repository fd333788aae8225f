using System.Text.Json;
using TapPass.Governance.Providers;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Providers;

public sealed class LocalModelProviderTests
{
    private static ProviderRequest Request(params (string Role, string Content)[] messages) => new()
    {
        Model = "gpt-4o-mini",
        Messages = [.. messages.Select(m => ChatCompletionMessage.Create(m.Role, m.Content))],
    };

    private static async Task<string> Ask(params (string, string)[] messages) =>
        (await new LocalModelProvider().CompleteAsync(Request(messages), CancellationToken.None)).Content;

    [Fact]
    public async Task CompleteAsync_RecallsANameStatedEarlier()
    {
        var answer = await Ask(("user", "My name is Alice"), ("assistant", "Nice to meet you, Alice!"), ("user", "What's my name?"));
        answer.Should().Contain("Alice");
    }

    [Fact]
    public async Task CompleteAsync_AfterResetWithoutHistory_DoesNotKnowTheName()
    {
        var answer = await Ask(("user", "What's my name?"));
        answer.Should().Contain("don't know").And.NotContain("Alice");
    }

    [Fact]
    public async Task CompleteAsync_LatestStatedNameWins()
    {
        (await Ask(("user", "my name is Alice"), ("user", "Actually, call me Bob"), ("user", "who am I?"))).Should().Be("Your name is Bob.");
    }

    [Fact]
    public async Task CompleteAsync_NameIsNotImportant_IsNotTakenAsAName()
    {
        (await Ask(("user", "my name is not important"), ("user", "what's my name?"))).Should().Contain("don't know");
    }

    [Fact]
    public async Task CompleteAsync_StatingAName_IsAcknowledged()
    {
        (await Ask(("user", "Hi, my name is Zoë"))).Should().Contain("Zoë");
    }

    [Fact]
    public async Task CompleteAsync_Echo_RepeatsVerbatim()
    {
        (await Ask(("user", "repeat after me: The eagle lands at 9."))).Should().Be("The eagle lands at 9.");
    }

    [Fact]
    public async Task CompleteAsync_Summary_GivesFirstSentenceAndWordCount()
    {
        (await Ask(("user", "Summarize: TapPass governs agents. It masks PII and audits calls.")))
            .Should().Be("Summary (9 words): TapPass governs agents.");
    }

    [Fact]
    public async Task CompleteAsync_Arithmetic_IsComputed()
    {
        (await Ask(("user", "What is 12 * 3?"))).Should().Be("12 * 3 = 36");
    }

    [Fact]
    public async Task CompleteAsync_IsDeterministic()
    {
        var a = await Ask(("user", "Tell me about governance of agents"));
        var b = await Ask(("user", "Tell me about governance of agents"));
        a.Should().Be(b).And.Contain("governance of agents");
    }

    [Fact]
    public async Task CompleteAsync_CallToolForm_ReturnsToolCalls()
    {
        var result = await new LocalModelProvider().CompleteAsync(Request(("user", """please call tool send_email with {"to":"a@b.com","subject":"hi"}""")), CancellationToken.None);
        result.FinishReason.Should().Be("tool_calls");
        result.Content.Should().BeEmpty();
        var call = result.ToolCalls.Should().ContainSingle().Subject;
        call.Function.Name.Should().Be("send_email");
        call.Function.Arguments.Should().Be("""{"to":"a@b.com","subject":"hi"}""");
        call.Id.Should().StartWith("call_");
        result.CompletionTokens.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task CompleteAsync_SeveralToolCallsAndNoArguments()
    {
        var result = await new LocalModelProvider().CompleteAsync(Request(("user", """call tool list_files and then call tool read_file with {"path":"a.txt"}""")), CancellationToken.None);
        result.ToolCalls.Select(c => c.Function.Name).Should().Equal("list_files", "read_file");
        result.ToolCalls[0].Function.Arguments.Should().Be("{}");
    }

    [Fact]
    public async Task CompleteAsync_AfterAToolResult_AnswersInText()
    {
        var messages = new List<ChatCompletionMessage>
        {
            ChatCompletionMessage.Create("user", """call tool get_weather with {"city":"Ghent"}"""),
            new() { Role = "assistant", ToolCalls = [new ToolCall { Id = "call_1", Function = new FunctionCall { Name = "get_weather", Arguments = """{"city":"Ghent"}""" } }] },
            new() { Role = "tool", ToolCallId = "call_1", Content = "12 degrees and rain" },
        };
        var result = await new LocalModelProvider().CompleteAsync(new ProviderRequest { Model = "local", Messages = messages }, CancellationToken.None);
        result.ToolCalls.Should().BeEmpty();
        result.Content.Should().Be("get_weather returned: 12 degrees and rain");
    }

    [Fact]
    public async Task StreamAsync_SeveralChunks_ConcatenateToTheCompleteAnswerWithUsage()
    {
        var provider = new LocalModelProvider();
        var request = Request(("user", "My name is Alice"), ("user", "What is my name and what do you do?"));
        var complete = await provider.CompleteAsync(request, CancellationToken.None);
        var pieces = new List<string>();
        ProviderStreamUpdate? last = null;
        await foreach (var u in provider.StreamAsync(request, CancellationToken.None))
        {
            if (u.ContentDelta is { } d)
            {
                pieces.Add(d);
            }

            last = u;
        }

        pieces.Count.Should().BeGreaterThan(2);
        string.Concat(pieces).Should().Be(complete.Content);
        last!.FinishReason.Should().Be("stop");
        last.PromptTokens.Should().Be(complete.PromptTokens);
        last.CompletionTokens.Should().Be(complete.CompletionTokens);
    }

    [Fact]
    public async Task StreamAsync_ToolCall_StreamsFragmentsThatJoinToTheArguments()
    {
        var args = new System.Text.StringBuilder();
        await foreach (var u in new LocalModelProvider().StreamAsync(Request(("user", """call tool send_email with {"to":"a@b.com"}""")), CancellationToken.None))
        {
            foreach (var t in u.ToolCalls ?? [])
            {
                args.Append(t.Function?.Arguments);
            }
        }

        using var doc = JsonDocument.Parse(args.ToString());
        doc.RootElement.GetProperty("to").GetString().Should().Be("a@b.com");
    }

    [Fact]
    public async Task CompleteAsync_MaxTokens_TruncatesWithFinishReasonLength()
    {
        var request = Request(("user", "Tell me everything about the history of distributed systems and governance")) with { MaxTokens = 5 };
        var result = await new LocalModelProvider().CompleteAsync(request, CancellationToken.None);
        result.FinishReason.Should().Be("length");
        result.CompletionTokens.Should().BeLessThanOrEqualTo(5);
    }

    [Fact]
    public void Models_ListTheDocumentedDefaults()
    {
        new LocalModelProvider().Models.Should().Equal("gpt-4o-mini", "gpt-4o", "local");
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("hello", 2)]
    [InlineData("hello world", 4)]
    [InlineData("a, b.", 4)]
    public void TokenEstimator_Count_IsDeterministic(string text, int expected)
    {
        TapPass.Governance.Pipeline.TokenEstimator.Count(text).Should().Be(expected);
    }
}
