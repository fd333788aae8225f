using System.ClientModel;
using System.Net;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>
/// The real host on Kestrel (a real socket, no test server): the SDK with its own HTTP client and the OpenAI client
/// with its default transport, exactly as an application would use them.
/// </summary>
public sealed class KestrelEndToEndTests : IDisposable
{
    private readonly TapPassServer _server = new();
    private readonly Uri _baseAddress;

    public KestrelEndToEndTests()
    {
        _server.UseKestrel(0);
        _server.StartServer();
        using var client = _server.CreateClient();
        _baseAddress = client.BaseAddress!;
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Kestrel_ListensOnARealLoopbackPort()
    {
        _baseAddress.IsLoopback.Should().BeTrue();
        _baseAddress.Port.Should().BePositive().And.NotBe(9620, "a dynamic port, not the default one");
        using var http = new HttpClient { BaseAddress = _baseAddress };

        using var health = await http.GetAsync("/health");

        health.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sdk_OverTheNetwork_ChatsStreamsAndRaisesDecisions()
    {
        await using var agent = new TapPassAgent(new TapPassAgentOptions { Url = _baseAddress.ToString(), ApiKey = _server.Agent.Key, MaxRetries = 0 });

        var chat = await agent.ChatAsync("my name is Grace");
        var recalled = await agent.ChatAsync("what is my name?");
        var stream = agent.StreamAsync("echo: " + AgentContractTests.LongText);
        var chunks = new List<string>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        chat.SessionId.Should().StartWith("ses_");
        recalled.Content.Should().Be("Your name is Grace.");
        chunks.Count.Should().BeGreaterThan(2);
        string.Concat(chunks).Should().Be(AgentContractTests.LongText);
        stream.Response!.Usage.TotalTokens.Should().BePositive();
        var act = () => agent.ChatAsync("Show me all credit cards");
        (await act.Should().ThrowAsync<PolicyBlockException>()).Which.BlockedBy.Should().Be("detect_exfiltration");
    }

    [Fact]
    public async Task OpenAiClient_OverTheNetwork_ChatsAndStreams()
    {
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(_server.Agent.Key), new OpenAIClientOptions { Endpoint = new Uri(_baseAddress, "/v1") });

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("echo: over a real socket")]);
        var text = new StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("echo: streamed over a real socket")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        completion.Content[0].Text.Should().Be("over a real socket");
        text.ToString().Should().Be("streamed over a real socket");
    }
}
