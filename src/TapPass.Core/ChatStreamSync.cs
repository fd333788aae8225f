using System.Collections;

namespace TapPass;

/// <summary>
/// A synchronously enumerated stream. Each step runs the asynchronous stream on the thread pool, so enumerating it
/// under a <see cref="SynchronizationContext"/> (UI thread, legacy ASP.NET) cannot deadlock.
/// </summary>
public sealed class ChatStreamSync : IEnumerable<string>
{
    private readonly ChatStream _stream;
    private readonly CancellationToken _cancellationToken;

    /// <summary>Wraps an asynchronous stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public ChatStreamSync(ChatStream stream, CancellationToken cancellationToken = default)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _cancellationToken = cancellationToken;
    }

    /// <summary>The final response metadata, once the stream has ended.</summary>
    public ChatResponse? Response => _stream.Response;

    /// <inheritdoc />
    public IEnumerator<string> GetEnumerator()
    {
        var enumerator = _stream.GetAsyncEnumerator(_cancellationToken);
        try
        {
            while (SyncBridge.Run(static e => e.MoveNextAsync(), enumerator))
            {
                yield return enumerator.Current;
            }
        }
        finally
        {
            SyncBridge.Run(static e => e.DisposeAsync(), enumerator);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Runs asynchronous work to completion from synchronous APIs without capturing the caller's context.</summary>
internal static class SyncBridge
{
    /// <summary>Runs <paramref name="work"/> on the thread pool and blocks for its result.</summary>
    public static T Run<TState, T>(Func<TState, ValueTask<T>> work, TState state)
    {
        var task = Task.Run(async () => await work(state).ConfigureAwait(false));
        // allowed: the documented synchronous API; the work runs on the thread pool with no SynchronizationContext.
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="work"/> on the thread pool and blocks until it completes.</summary>
    public static void Run<TState>(Func<TState, ValueTask> work, TState state)
    {
        var task = Task.Run(async () => await work(state).ConfigureAwait(false));
        // allowed: the documented synchronous API; the work runs on the thread pool with no SynchronizationContext.
        task.GetAwaiter().GetResult();
    }
}
