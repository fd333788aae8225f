using System.Collections.Concurrent;

namespace TapPass.Governance.State;

/// <summary>A token bucket: <paramref name="Burst"/> tokens, refilled at <paramref name="PerSecond"/>.</summary>
internal sealed record RateLimitRule(int Burst, double PerSecond);

/// <summary>Whether a call may proceed, and when to retry if not.</summary>
internal readonly record struct RateLimitLease(bool Acquired, TimeSpan RetryAfter);

/// <summary>Per-key token buckets.</summary>
internal interface IRateLimitStore
{
    ValueTask<RateLimitLease> TryAcquireAsync(string key, RateLimitRule rule, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>In-memory token buckets (one per agent).</summary>
internal sealed class InMemoryRateLimitStore : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public ValueTask<RateLimitLease> TryAcquireAsync(string key, RateLimitRule rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(rule.Burst, now));
        lock (bucket)
        {
            var elapsed = (now - bucket.Updated).TotalSeconds;
            if (elapsed > 0)
            {
                bucket.Tokens = Math.Min(rule.Burst, bucket.Tokens + (elapsed * rule.PerSecond));
                bucket.Updated = now;
            }

            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return ValueTask.FromResult(new RateLimitLease(true, TimeSpan.Zero));
            }

            var wait = rule.PerSecond > 0 ? TimeSpan.FromSeconds((1 - bucket.Tokens) / rule.PerSecond) : TimeSpan.FromHours(1);
            return ValueTask.FromResult(new RateLimitLease(false, wait));
        }
    }

    private sealed class Bucket(double tokens, DateTimeOffset updated)
    {
        public double Tokens = tokens;
        public DateTimeOffset Updated = updated;
    }
}
