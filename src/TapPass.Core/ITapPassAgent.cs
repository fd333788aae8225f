using TapPass.Protocol;

using System.Runtime.CompilerServices;

namespace TapPass;

/// <summary>
/// A governed AI agent: every call goes through the TapPass governance pipeline. Keeps the conversation history
/// and sends it with each call. Thread-safe.
/// </summary>
public interface ITapPassAgent : IDisposable, IAsyncDisposable
{
    /// <summary>The agent's default model.</summary>
    string Model { get; }

    /// <summary>A snapshot of the conversation so far (user and assistant messages).</summary>
    IReadOnlyList<ChatCompletionMessage> History { get; }

    /// <summary>Sends <paramref name="message"/> with the history and returns the governed answer.</summary>
    /// <param name="message">User message.</param>
    /// <param name="options">Per-call model, flags and session.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="GovernanceDecision">A subclass, when governance refused the call.</exception>
    /// <exception cref="TapPassConnectionException">The gateway is unreachable (after retries).</exception>
    Task<ChatResponse> ChatAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Synchronous <see cref="ChatAsync"/>; safe under a <see cref="SynchronizationContext"/>.</summary>
    /// <param name="message">User message.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    ChatResponse Chat(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Streams the answer as text chunks; <see cref="ChatStream.Response"/> holds the metadata once it ends.</summary>
    /// <param name="message">User message.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    ChatStream StreamAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Synchronous <see cref="StreamAsync"/>; safe under a <see cref="SynchronizationContext"/>.</summary>
    /// <param name="message">User message.</param>
    /// <param name="options">Per-call options.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    ChatStreamSync Stream(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Clears the conversation history.</summary>
    void Reset();
}

/// <summary>
/// A streamed answer: enumerate it (once) for text chunks as they arrive; <see cref="Response"/> is set when the
/// stream has ended. Governance errors surface as the same exceptions as <see cref="ITapPassAgent.ChatAsync"/>.
/// </summary>
public sealed class ChatStream : IAsyncEnumerable<string>
{
    private readonly Func<Action<ChatResponse>, CancellationToken, IAsyncEnumerable<string>> _source;
    private readonly CancellationToken _callToken;
    private ChatResponse? _response;
    private int _started;

    /// <summary>Creates a stream over <paramref name="source"/>, which reports the final response through its callback.</summary>
    /// <param name="source">Produces the chunks; calls the callback with the final response before completing.</param>
    /// <param name="cancellationToken">The call's cancellation token, linked with the enumerator's.</param>
    public ChatStream(Func<Action<ChatResponse>, CancellationToken, IAsyncEnumerable<string>> source, CancellationToken cancellationToken = default)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _callToken = cancellationToken;
    }

    /// <summary>The final response metadata, once the stream has ended; null before.</summary>
    public ChatResponse? Response => Volatile.Read(ref _response);

    /// <inheritdoc />
    public IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A chat stream can be enumerated only once.");
        }

        var token = cancellationToken;
        if (_callToken.CanBeCanceled && cancellationToken.CanBeCanceled)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(_callToken, cancellationToken);
            token = linked.Token;
            return new DisposingEnumerator(_source(r => Volatile.Write(ref _response, r), token).GetAsyncEnumerator(token), linked);
        }

        if (_callToken.CanBeCanceled)
        {
            token = _callToken;
        }

        return _source(r => Volatile.Write(ref _response, r), token).GetAsyncEnumerator(token);
    }

    /// <summary>Reads the whole stream and returns the final response.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task<ChatResponse> ToResponseAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var _ in WithCancellation(cancellationToken).ConfigureAwait(false))
        {
        }

        return Response ?? throw new TapPassException("The stream ended without a final response.");
    }

    /// <summary>Applies a cancellation token to the enumeration.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    public ConfiguredCancelableAsyncEnumerable<string> WithCancellation(CancellationToken cancellationToken) =>
        TaskAsyncEnumerableExtensions.WithCancellation(this, cancellationToken);

    private sealed class DisposingEnumerator(IAsyncEnumerator<string> inner, CancellationTokenSource cts) : IAsyncEnumerator<string>
    {
        public string Current => inner.Current;

        public ValueTask<bool> MoveNextAsync() => inner.MoveNextAsync();

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            cts.Dispose();
        }
    }
}
