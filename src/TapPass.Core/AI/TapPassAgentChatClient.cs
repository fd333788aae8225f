using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TapPass.Protocol;
using AIChatResponse = Microsoft.Extensions.AI.ChatResponse;

namespace TapPass;

/// <summary>
/// The <see cref="IChatClient"/> view of a <see cref="TapPassAgent"/>: stateless (sends exactly the messages given,
/// never the agent's history, and leaves the history unchanged), governed like every agent call. Session ids travel in
/// <see cref="ChatOptions.AdditionalProperties"/> (<see cref="TapPassChatKeys"/>), never in
/// <see cref="ChatOptions.ConversationId"/>, which this client neither reads nor sets.
/// </summary>
internal sealed class TapPassAgentChatClient : IChatClient
{
    private readonly TapPassAgent _agent;
    private readonly ChatClientMetadata _metadata;

    public TapPassAgentChatClient(TapPassAgent agent)
    {
        _agent = agent;
        _metadata = new ChatClientMetadata("tappass", agent.GatewayUrl, agent.Model);
    }

    /// <inheritdoc />
    public async Task<AIChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var (request, call) = ChatClientMapping.Build(messages, options);
        var response = await _agent.ChatStatelessAsync(request, call, cancellationToken).ConfigureAwait(false);
        return ChatClientMapping.ToChatResponse(response);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Arguments are checked now; the call starts when enumeration starts. Text arrives as the gateway releases it; the
    /// last update carries usage, tool calls, the finish reason and the TapPass metadata.
    /// </remarks>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var (request, call) = ChatClientMapping.Build(messages, options);
        return StreamAsync(_agent.StreamStateless(request, call, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType == typeof(ITapPassAgent) || serviceType == typeof(TapPassAgent) || serviceType == typeof(ITapPassToolGovernor))
        {
            return _agent;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Nothing to release: the view does not own the agent.</summary>
    public void Dispose()
    {
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(ChatStream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var text in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, text);
        }

        var response = stream.Response ?? throw new TapPassException("The stream ended without a final response.");
        yield return ChatClientMapping.FinalUpdate(response);
    }
}
