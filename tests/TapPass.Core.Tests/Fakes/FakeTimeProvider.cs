namespace TapPass.Core.Tests.Fakes;

/// <summary>
/// A hand-written manual clock: time moves only through <see cref="Advance"/>, which fires due timers in order.
/// Records every finite due time requested, so tests can read backoff delays.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private readonly List<TimeSpan> _requested = [];
    private DateTimeOffset _now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Every finite due time passed to a timer, in order.</summary>
    public IReadOnlyList<TimeSpan> RequestedDueTimes
    {
        get
        {
            lock (_gate)
            {
                return _requested.ToArray();
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time forward, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_gate)
        {
            target = _now + by;
        }

        while (true)
        {
            FakeTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.Due is { } d && d <= target).OrderBy(t => t.Due).FirstOrDefault();
                if (next is null)
                {
                    _now = target;
                    return;
                }

                _now = next.Due!.Value;
                next.Due = next.Period > TimeSpan.Zero ? _now + next.Period : null;
                if (next.Due is null)
                {
                    _timers.Remove(next);
                }
            }

            next.Fire();
        }
    }

    /// <summary>Waits (in real time) until a pending timer's remaining time satisfies <paramref name="match"/>; returns that time.</summary>
    public async Task<TimeSpan> WaitForTimerAsync(Func<TimeSpan, bool> match, TimeSpan? realTimeout = null)
    {
        var deadline = Environment.TickCount64 + (long)(realTimeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        while (true)
        {
            lock (_gate)
            {
                foreach (var timer in _timers.OrderBy(t => t.Due))
                {
                    if (timer.Due is { } due && match(due - _now))
                    {
                        return due - _now;
                    }
                }
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("No matching timer was scheduled.");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>The remaining time of the earliest pending timer matching <paramref name="match"/>, if any.</summary>
    public TimeSpan? NextDue(Func<TimeSpan, bool> match)
    {
        lock (_gate)
        {
            return _timers.Where(t => t.Due is { } d && match(d - _now)).Select(t => t.Due!.Value - _now).OrderBy(d => d).Cast<TimeSpan?>().FirstOrDefault();
        }
    }

    /// <summary>Fires every backoff-sized timer (at most <paramref name="atMost"/>) until <paramref name="work"/> completes.</summary>
    public async Task DriveAsync(Task work, TimeSpan? atMost = null)
    {
        var limit = atMost ?? TimeSpan.FromSeconds(10);
        var deadline = Environment.TickCount64 + 20_000;
        while (!work.IsCompleted)
        {
            if (NextDue(d => d <= limit) is { } due)
            {
                Advance(due);
            }
            else
            {
                await Task.WhenAny(work, Task.Delay(2));
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("The work did not complete.");
            }
        }
    }

    /// <summary>Waits for the next timer due within <paramref name="atMost"/> and advances to it; returns its delay.</summary>
    public async Task<TimeSpan> AdvanceToNextTimerAsync(TimeSpan atMost)
    {
        var due = await WaitForTimerAsync(d => d <= atMost);
        Advance(due);
        return due;
    }

    private void Schedule(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                timer.Due = null;
                return;
            }

            _requested.Add(dueTime);
            timer.Due = _now + dueTime;
            timer.Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            _timers.Add(timer);
        }
    }

    private void Remove(FakeTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime, period);
            if (dueTime == TimeSpan.Zero)
            {
                // A real timer would fire at once, on the thread pool.
                ThreadPool.QueueUserWorkItem(static o => ((FakeTimeProvider)o!).Advance(TimeSpan.Zero), owner);
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
