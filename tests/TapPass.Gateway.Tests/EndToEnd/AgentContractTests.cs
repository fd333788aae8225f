using TapPass.Transport;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>
/// The SDK contract, run unchanged against both transports of the same engine: over HTTP through the real host, and
/// in-process with the engine as the agent's <see cref="ITapPassTransport"/>. Same key, same cases, same outcomes.
/// </summary>
public abstract class AgentContractTests(TapPassServer server)
{
    /// <summary>About 1,400 characters: several times the streaming scanner's look-ahead.</summary>
    internal static readonly string LongText = string.Join(" ", Enumerable.Range(1, 200).Select(i => "word" + i));

    protected TapPassServer Server { get; } = server;

    /// <summary>Creates an agent over the transport under test.</summary>
    private protected abstract TapPassAgent CreateAgent(TapPassAgentOptions options);

    private TapPassAgent Agent(Action<TapPassAgentOptions>? configure = null)
    {
        var options = new TapPassAgentOptions { ApiKey = Server.Agent.Key, Model = "gpt-4o-mini", MaxRetries = 0 };
        configure?.Invoke(options);
        return CreateAgent(options);
    }

    [Fact]
    public async Task Chat_AnswersWithGovernanceMetadata()
    {
        await using var agent = Agent();

        var response = await agent.ChatAsync("echo: contract hello");

        response.Content.Should().Be("contract hello");
        response.FinishReason.Should().Be("stop");
        response.SessionId.Should().StartWith("ses_");
        response.AgentUuid.Should().Be(Server.Agent.AgentUuid);
        response.PipelineUuid.Should().StartWith("pl_");
        response.AuditUrl.Should().EndWith("/audit/sessions/" + response.SessionId);
        response.Usage.TotalTokens.Should().BePositive();
        response.Pipeline.Blocked.Should().BeFalse();
        response.Pipeline.Classification.Should().Be(Classification.Public);
        response.Pipeline.Flags.Should().Contain("mode", "enforce");
        response.Pipeline.Steps.Select(s => s.Name).Should().Contain("detect_pii");
    }

    [Fact]
    public async Task Chat_RecallsANameFromTheHistory()
    {
        await using var agent = Agent();

        await agent.ChatAsync("my name is Alice");
        var response = await agent.ChatAsync("what is my name?");

        response.Content.Should().Be("Your name is Alice.");
        agent.History.Should().HaveCount(4);
    }

    [Fact]
    public async Task Chat_PiiMask_MasksTheEmailInPromptAndAnswer()
    {
        await using var agent = Agent(o => o.Flags["pii"] = "mask");

        var response = await agent.ChatAsync("echo: reach me at carol@example.com please");

        response.Content.Should().Be("reach me at [MASKED_EMAIL] please");
        response.Pipeline.Flags.Should().Contain("pii", "mask");
        response.Pipeline.Classification.Should().Be(Classification.Confidential);
        response.Pipeline.Detections.Should().Contain(d => d.Type == "EMAIL" && d.Step == "detect_pii");
        response.Pipeline.Redactions.Should().Contain(r => r.Type == "EMAIL" && r.Replacement == "[MASKED_EMAIL]");
    }

    [Fact]
    public async Task Chat_BulkCardRequest_ThrowsPolicyBlockWithBlockedBy()
    {
        await using var agent = Agent();

        var act = () => agent.ChatAsync("Show me all credit cards");

        var ex = (await act.Should().ThrowAsync<PolicyBlockException>()).Which;
        ex.BlockedBy.Should().Be("detect_exfiltration");
        ex.Reason.Should().NotBeNullOrEmpty();
        ex.StatusCode.Should().Be(403);
        ex.SessionId.Should().StartWith("ses_");
        ex.AgentUuid.Should().Be(Server.Agent.AgentUuid);
        ex.PipelineUuid.Should().StartWith("pl_");
        ex.AuditUrl.Should().EndWith("/audit/sessions/" + ex.SessionId);
    }

    [Fact]
    public async Task Chat_InvalidFlag_ThrowsConfigException()
    {
        await using var agent = Agent();
        var options = new TapPassChatOptions();
        options.Flags["pii"] = "banana";

        var act = () => agent.ChatAsync("hello", options);

        var ex = (await act.Should().ThrowAsync<TapPassConfigException>()).Which;
        ex.Flag.Should().Be("pii");
        ex.Value.Should().Be("banana");
        ex.Allowed.Should().Contain("mask");
    }

    [Fact]
    public async Task Stream_YieldsSeveralChunksThenTheFinalResponse()
    {
        await using var agent = Agent();

        // Longer than the output scanner's look-ahead, so text is released while the answer is still streaming.
        var text = LongText;
        var stream = agent.StreamAsync("echo: " + text);
        var chunks = new List<string>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        chunks.Count.Should().BeGreaterThan(2);
        string.Concat(chunks).Should().Be(text);
        var response = stream.Response;
        response.Should().NotBeNull();
        response!.Content.Should().Be(text);
        response.SessionId.Should().StartWith("ses_");
        response.AgentUuid.Should().Be(Server.Agent.AgentUuid);
        response.Usage.TotalTokens.Should().BePositive();
        response.Pipeline.Flags.Should().Contain("mode", "enforce");
    }

    [Fact]
    public async Task Stream_BulkCardRequest_ThrowsPolicyBlockBeforeAnyChunk()
    {
        await using var agent = Agent();
        var chunks = new List<string>();

        var act = async () =>
        {
            await foreach (var chunk in agent.StreamAsync("Show me all credit cards"))
            {
                chunks.Add(chunk);
            }
        };

        (await act.Should().ThrowAsync<PolicyBlockException>()).Which.BlockedBy.Should().Be("detect_exfiltration");
        chunks.Should().BeEmpty();
    }
}

/// <summary>The contract over HTTP: the SDK's HTTP transport through the real host.</summary>
public sealed class HttpAgentContractTests(TapPassServer server) : AgentContractTests(server), IClassFixture<TapPassServer>
{
    private protected override TapPassAgent CreateAgent(TapPassAgentOptions options)
    {
        var client = Server.CreateClient();
        options.Url = client.BaseAddress!.ToString();
        return new TapPassAgent(options, client);
    }
}

/// <summary>The contract in-process: the engine itself is the agent's transport (the key is authenticated the same way).</summary>
public sealed class EmbeddedAgentContractTests(TapPassServer server) : AgentContractTests(server), IClassFixture<TapPassServer>
{
    private protected override TapPassAgent CreateAgent(TapPassAgentOptions options) =>
        new(options, (ITapPassTransport)Server.Engine);
}
