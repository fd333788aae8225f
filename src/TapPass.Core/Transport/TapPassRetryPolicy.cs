using Polly;
using Polly.Timeout;
using TapPass.Protocol;

namespace TapPass.Transport;

/// <summary>
/// What the HTTP transport retries and how long it waits (ARCHITECTURE.md, HTTP): only transient failures (connect
/// errors, attempt timeouts, 502/503/504 that are not break-glass), never a governance decision; jittered exponential
/// backoff.
/// </summary>
internal static class TapPassRetryPolicy
{
    /// <summary>Delay before the first retry, before jitter.</summary>
    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between two attempts, Retry-After included.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    /// <summary>True when <paramref name="outcome"/> is worth another attempt.</summary>
    /// <param name="outcome">The attempt's outcome.</param>
    /// <param name="callToken">The call's token (caller cancellation and total timeout).</param>
    public static bool IsTransient(Outcome<HttpAttempt> outcome, CancellationToken callToken)
    {
        if (outcome.Exception is { } ex)
        {
            return ex switch
            {
                HttpRequestException => true,
                IOException => true,
                TimeoutRejectedException => true, // the per-attempt timeout
                OperationCanceledException => !callToken.IsCancellationRequested, // HttpClient.Timeout, not the caller
                _ => false,
            };
        }

        return outcome.Result is { } attempt && IsTransientStatus(attempt.StatusCode, attempt.Error?.Type);
    }

    /// <summary>502, 503 and 504 are transient unless the gateway declared break-glass (a decision, never retried).</summary>
    public static bool IsTransientStatus(int statusCode, string? errorType) =>
        statusCode is 502 or 503 or 504 && errorType != ErrorTypes.BreakGlassActive;

    /// <summary>
    /// Delay before retry number <paramref name="attempt"/> + 1: <c>BaseDelay · 2^attempt</c> capped at
    /// <see cref="MaxDelay"/>, times a jitter factor in [0.5, 1] ("equal jitter"). A <c>Retry-After</c> the gateway
    /// sent takes precedence, capped at <see cref="MaxDelay"/>.
    /// </summary>
    /// <param name="attempt">0 for the first retry.</param>
    /// <param name="random">A uniform sample in [0, 1).</param>
    /// <param name="retryAfter">The gateway's Retry-After, if any.</param>
    public static TimeSpan Backoff(int attempt, double random, TimeSpan? retryAfter)
    {
        if (retryAfter is { } hint && hint > TimeSpan.Zero)
        {
            return hint < MaxDelay ? hint : MaxDelay;
        }

        var exponent = Math.Clamp(attempt, 0, 16);
        var ceiling = Math.Min(BaseDelay.TotalMilliseconds * Math.Pow(2, exponent), MaxDelay.TotalMilliseconds);
        var factor = 0.5 + (0.5 * Math.Clamp(random, 0, 1));
        return TimeSpan.FromMilliseconds(ceiling * factor);
    }
}
