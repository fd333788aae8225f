using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using AIChatResponse = Microsoft.Extensions.AI.ChatResponse;

namespace TapPass.Governance.Tests.Fakes;

/// <summary>A scripted inner <see cref="IChatClient"/>: records what it was sent, answers with <see cref="Answer"/>
/// (split into <see cref="Pieces"/> when streaming), optionally with tool calls, a failure or a wait for cancellation.</summary>
internal sealed class FakeChatClient : IChatClient
{
    public ConcurrentQueue<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = new();

    /// <summary>The answer text (default: echo of the last user message as the client saw it).</summary>
    public Func<IReadOnlyList<ChatMessage>, string> Answer { get; set; } = m => "You said: " + (m.LastOrDefault(x => x.Role == ChatRole.User)?.Text ?? "");

    /// <summary>How a streamed answer is split (default: 5-character pieces).</summary>
    public Func<string, IEnumerable<string>> Pieces { get; set; } = s => s.Chunk(5).Select(c => new string(c));

    public List<FunctionCallContent> ToolCalls { get; } = [];

    public Exception? Throw { get; set; }

    /// <summary>When true, calls wait until their token is cancelled.</summary>
    public bool WaitForCancellation { get; set; }

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool SawCancellation { get; private set; }

    public ChatClientMetadata Metadata { get; set; } = new("fake-inner", null, "inner-model");

    public async Task<AIChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Calls.Enqueue((list, options));
        await WaitAsync(cancellationToken);
        var contents = new List<AIContent>();
        var text = ToolCalls.Count > 0 ? "" : Answer(list);
        if (text.Length > 0)
        {
            contents.Add(new TextContent(text));
        }

        contents.AddRange(ToolCalls);
        return new AIChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = options?.ModelId ?? Metadata.DefaultModelId,
            FinishReason = ToolCalls.Count > 0 ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 7, TotalTokenCount = 19 },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Calls.Enqueue((list, options));
        await WaitAsync(cancellationToken);
        if (ToolCalls.Count == 0)
        {
            foreach (var piece in Pieces(Answer(list)))
            {
                await Task.Yield();
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece);
            }
        }
        else
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [.. ToolCalls]);
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 12, OutputTokenCount = 7 })])
        {
            FinishReason = ToolCalls.Count > 0 ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? Metadata : null;

    public void Dispose()
    {
    }

    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        Started.TrySetResult();
        if (WaitForCancellation)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }
        }

        if (Throw is { } ex)
        {
            throw ex;
        }
    }
}
