using TapPass.Configuration;
using TapPass.Protocol;

namespace TapPass;

/// <summary>Stateless calls behind the <see cref="Microsoft.Extensions.AI.IChatClient"/> view: exactly the given messages, no history.</summary>
public sealed partial class TapPassAgent
{
    /// <summary>Sends <paramref name="request"/> as it is (its messages are the whole conversation) and maps the answer; the history is not read or changed.</summary>
    internal Task<ChatResponse> ChatStatelessAsync(ChatCompletionRequest request, StatelessCall overrides, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return ChatCoreAsync(PrepareStateless(request, overrides, stream: false), cancellationToken);
    }

    /// <summary>Streams <paramref name="request"/> as it is; the history is not read or changed.</summary>
    internal ChatStream StreamStateless(ChatCompletionRequest request, StatelessCall overrides, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return new ChatStream((complete, token) => StreamCoreAsync(() => PrepareStateless(request, overrides, stream: true), complete, token), cancellationToken);
    }

    /// <summary>Most tools a stateless request may offer.</summary>
    internal static int MaxToolsPerCall => MaxTools;

    /// <summary>Checks a model name the way per-call options are checked.</summary>
    internal static bool IsValidModel(string model) => ResolvedAgentOptions.IsValidModel(model);

    private PreparedCall PrepareStateless(ChatCompletionRequest request, StatelessCall overrides, bool stream)
    {
        var flags = overrides.Flags.Count > 0 ? _options.Flags.Merge(overrides.Flags) : _options.Flags;
        request.Model = string.IsNullOrWhiteSpace(request.Model) ? _options.Model : request.Model.Trim();
        if (stream)
        {
            request.Stream = true;
            request.StreamOptions = new StreamOptions { IncludeUsage = true };
        }

        var call = BuildCall(flags, overrides.SessionId, overrides.AgentUuid, overrides.TaskId, overrides.ResumeToken, TapPassSession.Current);
        return new PreparedCall(request, call, flags, UserMessage: null, HistoryGeneration: -1);
    }
}

/// <summary>Per-call headers of a stateless call (already validated).</summary>
internal sealed record StatelessCall(GovernanceFlags Flags, string? SessionId, string? AgentUuid, string? TaskId, string? ResumeToken);
