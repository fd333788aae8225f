using System.Collections.Concurrent;

namespace TapPass.Core.Tests.Fakes;

/// <summary>
/// A UI-like context: one dedicated thread runs the work and then pumps a queue of posted continuations. Blocking
/// that thread on a task whose continuation was posted here deadlocks, exactly like a WinForms/WPF/legacy ASP.NET
/// context.
/// </summary>
public sealed class SingleThreadSynchronizationContext : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private int _threadId;

    public override void Post(SendOrPostCallback d, object? state)
    {
        try
        {
            _queue.Add((d, state));
        }
        catch (InvalidOperationException)
        {
            // The context thread has finished: run late continuations on the pool.
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Environment.CurrentManagedThreadId == _threadId)
        {
            d(state);
            return;
        }

        using var done = new ManualResetEventSlim();
        Post(s => { d(s); done.Set(); }, state);
        done.Wait();
    }

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread under this context, then pumps posted callbacks until
    /// <paramref name="work"/> has returned and the queue is drained. The returned task completes when the work has
    /// returned; if the work deadlocks, the task never completes (the thread is a background thread).
    /// </summary>
    public static Task<T> Run<T>(Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = new SingleThreadSynchronizationContext();
        var thread = new Thread(() =>
        {
            context._threadId = Environment.CurrentManagedThreadId;
            SetSynchronizationContext(context);
            try
            {
                result.SetResult(work());
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }

            context._queue.CompleteAdding();
            foreach (var (callback, state) in context._queue.GetConsumingEnumerable())
            {
                callback(state);
            }
        })
        {
            IsBackground = true,
            Name = "single-threaded SynchronizationContext",
        };
        thread.Start();
        return result.Task;
    }
}
