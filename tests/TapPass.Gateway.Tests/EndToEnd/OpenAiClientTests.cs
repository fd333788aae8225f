using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>The official OpenAI .NET client, unmodified, pointed at the real host's /v1 (PROTOCOL.md compatibility rule).</summary>
public sealed class OpenAiClientTests(TapPassServer server) : IClassFixture<TapPassServer>
{
    private ChatClient Client(string? key = null)
    {
        var http = server.CreateClient();
        return new ChatClient(
            "gpt-4o-mini",
            new ApiKeyCredential(key ?? server.Agent.Key),
            new OpenAIClientOptions
            {
                Endpoint = new Uri(http.BaseAddress!, "/v1"),
                Transport = new HttpClientPipelineTransport(http),
                RetryPolicy = new ClientRetryPolicy(0),
            });
    }

    [Fact]
    public async Task OpenAiClient_ChatsThroughTheEngine()
    {
        ChatCompletion completion = await Client().CompleteChatAsync([new UserChatMessage("my name is Ada"), new AssistantChatMessage("Hi Ada."), new UserChatMessage("what is my name?")]);

        completion.Content[0].Text.Should().Be("Your name is Ada.");
        completion.FinishReason.Should().Be(ChatFinishReason.Stop);
        completion.Usage.TotalTokenCount.Should().BePositive();
    }

    [Fact]
    public async Task OpenAiClient_StreamsThroughTheEngine()
    {
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage("echo: alpha beta gamma delta")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        text.ToString().Should().Be("alpha beta gamma delta");
        updates.Should().BeGreaterThan(3);
        usage!.TotalTokenCount.Should().BePositive();
    }

    [Fact]
    public async Task OpenAiClient_MaskedAnswer_NeverContainsTheValue()
    {
        var http = server.CreateClient();
        http.DefaultRequestHeaders.Add("X-TapPass-Flags", "pii=mask");
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(server.Agent.Key), new OpenAIClientOptions
        {
            Endpoint = new Uri(http.BaseAddress!, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        });

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("echo: mail ada@example.org")]);

        completion.Content[0].Text.Should().Be("mail [MASKED_EMAIL]");
    }

    [Fact]
    public async Task OpenAiClient_Blocked_Throws403WithThePolicyBlockEnvelope()
    {
        var act = () => Client().CompleteChatAsync([new UserChatMessage("Show me all credit cards")]);

        var ex = (await act.Should().ThrowAsync<ClientResultException>()).Which;
        ex.Status.Should().Be(403);
        var body = ex.GetRawResponse()!.Content.ToString();
        body.Should().Contain("\"type\":\"policy_block\"").And.Contain("\"blocked_by\":\"detect_exfiltration\"");
    }

    [Fact]
    public async Task OpenAiClient_StreamBlockedBeforeTheFirstByte_Throws403()
    {
        var act = async () =>
        {
            await foreach (var _ in Client().CompleteChatStreamingAsync([new UserChatMessage("Show me all credit cards")]))
            {
            }
        };

        (await act.Should().ThrowAsync<ClientResultException>()).Which.Status.Should().Be(403);
    }

    [Fact]
    public async Task OpenAiClient_UnknownKey_Throws401()
    {
        var act = () => Client(TapPass.Governance.Identity.ApiKeyFormat.Generate()).CompleteChatAsync([new UserChatMessage("hi")]);

        (await act.Should().ThrowAsync<ClientResultException>()).Which.Status.Should().Be(401);
    }

    [Fact]
    public async Task OpenAiClient_ToolCallHeldForApproval_IsNotAmongTheToolCallsItSees_NonStreaming()
    {
        ChatCompletion both = await Client().CompleteChatAsync([new UserChatMessage("""call tool delete_records with {"table":"customers","id":7} and call tool lookup_order with {"order":"A-1"}""")]);
        ChatCompletion onlyHeld = await Client().CompleteChatAsync([new UserChatMessage("""call tool delete_records with {"table":"customers","id":8}""")]);

        both.ToolCalls.Select(t => t.FunctionName).Should().Equal(["lookup_order"], "an unmodified client runs every tool call it sees; the held one is not there");
        both.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        onlyHeld.ToolCalls.Should().BeEmpty();
        onlyHeld.FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [Fact]
    public async Task OpenAiClient_ToolCallHeldForApproval_IsNeverStreamed()
    {
        var names = new List<string>();
        var finishes = new List<ChatFinishReason>();
        await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage("""call tool delete_records with {"table":"customers","id":7} and call tool lookup_order with {"order":"A-1"}""")]))
        {
            names.AddRange(update.ToolCallUpdates.Select(t => t.FunctionName).OfType<string>());
            if (update.FinishReason is { } finish)
            {
                finishes.Add(finish);
            }
        }

        names.Should().Equal("lookup_order");
        finishes.Should().Equal(ChatFinishReason.ToolCalls);
    }
}
