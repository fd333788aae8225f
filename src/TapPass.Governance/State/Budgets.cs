namespace TapPass.Governance.State;

/// <summary>A budget check before a model call: reserve <see cref="EstimateUsd"/> against the caps.</summary>
/// <param name="SessionId">Session.</param>
/// <param name="AgentKey">Daily spend is per agent (org + agent uuid).</param>
/// <param name="Day">UTC day of the call.</param>
/// <param name="EstimateUsd">Estimated cost of the call.</param>
/// <param name="SessionCapUsd">Session cap, or null.</param>
/// <param name="DailyCapUsd">Daily cap, or null.</param>
internal sealed record BudgetRequest(string SessionId, string AgentKey, DateOnly Day, decimal EstimateUsd, decimal? SessionCapUsd, decimal? DailyCapUsd);

/// <summary>The outcome of a reservation.</summary>
/// <param name="Request">What was asked.</param>
/// <param name="Granted">Whether the estimate fits under both caps (it is then reserved).</param>
/// <param name="DeniedBy"><c>session</c> or <c>daily</c> when refused.</param>
/// <param name="SessionSpentUsd">Session spend before this call (including other open reservations).</param>
/// <param name="DailySpentUsd">Daily spend before this call.</param>
internal sealed record BudgetReservation(BudgetRequest Request, bool Granted, string? DeniedBy, decimal SessionSpentUsd, decimal DailySpentUsd);

/// <summary>Spend totals.</summary>
internal sealed record BudgetSpend(decimal SessionUsd, decimal DailyUsd);

/// <summary>Session and daily spend. A reservation holds the estimate until settled with the actual cost, so
/// concurrent calls cannot together overshoot a cap by more than their estimation error.</summary>
internal interface IBudgetStore
{
    ValueTask<BudgetReservation> TryReserveAsync(BudgetRequest request, CancellationToken cancellationToken);

    /// <summary>Replaces the reserved estimate by <paramref name="actualUsd"/> (0 to release).</summary>
    ValueTask SettleAsync(BudgetReservation reservation, decimal actualUsd, CancellationToken cancellationToken);

    ValueTask<BudgetSpend> GetSpendAsync(string sessionId, string agentKey, DateOnly day, CancellationToken cancellationToken);
}

/// <summary>In-memory <see cref="IBudgetStore"/>. Daily totals of past days are dropped when a new day is first seen.</summary>
internal sealed class InMemoryBudgetStore : IBudgetStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, decimal> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Agent, DateOnly Day), decimal> _daily = [];
    private DateOnly _latestDay;

    public ValueTask<BudgetReservation> TryReserveAsync(BudgetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            if (request.Day > _latestDay)
            {
                _latestDay = request.Day;
                foreach (var key in _daily.Keys.Where(k => k.Day < request.Day.AddDays(-1)).ToList())
                {
                    _daily.Remove(key);
                }
            }

            var session = _sessions.GetValueOrDefault(request.SessionId);
            var daily = _daily.GetValueOrDefault((request.AgentKey, request.Day));
            string? deniedBy = null;
            if (request.SessionCapUsd is { } sc && session + request.EstimateUsd > sc)
            {
                deniedBy = "session";
            }
            else if (request.DailyCapUsd is { } dc && daily + request.EstimateUsd > dc)
            {
                deniedBy = "daily";
            }

            if (deniedBy is null)
            {
                _sessions[request.SessionId] = session + request.EstimateUsd;
                _daily[(request.AgentKey, request.Day)] = daily + request.EstimateUsd;
            }

            return ValueTask.FromResult(new BudgetReservation(request, deniedBy is null, deniedBy, session, daily));
        }
    }

    public ValueTask SettleAsync(BudgetReservation reservation, decimal actualUsd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        var r = reservation.Request;
        var delta = reservation.Granted ? actualUsd - r.EstimateUsd : actualUsd;
        lock (_gate)
        {
            _sessions[r.SessionId] = Math.Max(0, _sessions.GetValueOrDefault(r.SessionId) + delta);
            _daily[(r.AgentKey, r.Day)] = Math.Max(0, _daily.GetValueOrDefault((r.AgentKey, r.Day)) + delta);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<BudgetSpend> GetSpendAsync(string sessionId, string agentKey, DateOnly day, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(new BudgetSpend(_sessions.GetValueOrDefault(sessionId), _daily.GetValueOrDefault((agentKey, day))));
        }
    }
}
