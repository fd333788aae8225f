using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using TapPass.Gateway.Tests.Fakes;

namespace TapPass.Gateway.Tests.Endpoints;

/// <summary>The official OpenAI .NET client pointed at the gateway's /v1 (PROTOCOL.md compatibility rule).</summary>
public sealed class OpenAiClientEndToEndTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ChatClient Client(string key = FakeAdmin.AgentKey) => new(
        "gpt-4o-mini",
        new ApiKeyCredential(key),
        new OpenAIClientOptions
        {
            Endpoint = new Uri(_host.Client.BaseAddress!, "/v1"),
            Transport = new HttpClientPipelineTransport(_host.Client),
            RetryPolicy = new ClientRetryPolicy(0),
        });

    [Fact]
    public async Task OpenAiClient_Chats()
    {
        ChatCompletion completion = await Client().CompleteChatAsync([new UserChatMessage("hi")]);

        completion.Content[0].Text.Should().Be("echo: hi");
        completion.FinishReason.Should().Be(ChatFinishReason.Stop);
        completion.Usage.TotalTokenCount.Should().Be(5);
        var call = _host.Transport.Calls.Single().Call;
        call.ApiKey.Should().Be(FakeAdmin.AgentKey);
    }

    [Fact]
    public async Task OpenAiClient_Streams()
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        text.ToString().Should().Be("Hello");
        usage!.TotalTokenCount.Should().Be(5);
    }

    [Fact]
    public async Task OpenAiClient_Blocked_Throws403WithEnvelope()
    {
        var act = () => Client().CompleteChatAsync([new UserChatMessage("BLOCK me")]);

        var ex = (await act.Should().ThrowAsync<ClientResultException>()).Which;
        ex.Status.Should().Be(403);
        var body = ex.GetRawResponse()!.Content.ToString();
        body.Should().Contain("\"type\":\"policy_block\"").And.Contain("\"blocked_by\":\"detect_pii\"");
    }

    [Fact]
    public async Task OpenAiClient_StreamBlockedBeforeFirstByte_Throws403()
    {
        var act = async () =>
        {
            await foreach (var _ in Client().CompleteChatStreamingAsync([new UserChatMessage("BLOCK")]))
            {
            }
        };

        (await act.Should().ThrowAsync<ClientResultException>()).Which.Status.Should().Be(403);
    }

    [Fact]
    public async Task OpenAiClient_BadKey_Throws401()
    {
        var act = () => Client("tp_wrong").CompleteChatAsync([new UserChatMessage("hi")]);

        (await act.Should().ThrowAsync<ClientResultException>()).Which.Status.Should().Be(401);
    }
}
