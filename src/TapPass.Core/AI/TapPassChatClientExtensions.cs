using Microsoft.Extensions.AI;

namespace TapPass;

/// <summary><see cref="IChatClient"/> for a TapPass agent, so Microsoft.Extensions.AI pipelines run through TapPass governance.</summary>
public static class TapPassChatClientExtensions
{
    /// <summary>
    /// An <see cref="IChatClient"/> view of <paramref name="agent"/>. It is stateless: each call sends exactly the
    /// messages given (the agent's history is neither sent nor changed), with the agent's key, default model and flags.
    /// <see cref="ChatOptions.ModelId"/> picks the model; session, agent uuid, task id, flags and resume token travel in
    /// <see cref="ChatOptions.AdditionalProperties"/> under <see cref="TapPassChatKeys"/> (explicit values win over
    /// <see cref="TapPassSession.Current"/>), never in <see cref="ChatOptions.ConversationId"/>, which is ignored.
    /// Responses carry the TapPass metadata in <c>AdditionalProperties</c>; governance refusals throw the same
    /// exceptions as <see cref="ITapPassAgent.ChatAsync"/>. <c>GetService</c> returns the agent for
    /// <see cref="ITapPassAgent"/> and <see cref="ChatClientMetadata"/> (<c>tappass</c>, gateway URL, default model).
    /// Disposing the view does not dispose the agent.
    /// </summary>
    /// <param name="agent">A <see cref="TapPassAgent"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="agent"/> is another implementation of <see cref="ITapPassAgent"/>.</exception>
    public static IChatClient AsChatClient(this ITapPassAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return agent is TapPassAgent tapPass
            ? new TapPassAgentChatClient(tapPass)
            : throw new ArgumentException($"The IChatClient view needs a TapPassAgent; {agent.GetType().Name} is not one.", nameof(agent));
    }
}
