using TapPass.Protocol;

namespace TapPass;

/// <summary>
/// Asks the gateway about tool calls with an agent's key, flags and session (PROTOCOL.md §6). <see cref="TapPassAgent"/>
/// implements it; the <see cref="TapPassToolExtensions.Govern{TDelegate}"/> wrappers call it, and a decorator of an
/// agent can implement it by forwarding.
/// </summary>
public interface ITapPassToolGovernor
{
    /// <summary>
    /// <c>POST /v1/govern</c>. Returns the gateway's decision (a 200 answer), whatever its outcome; the caller enforces
    /// it. A non-2xx answer throws its mapped exception (<see cref="TapPassException.FromError"/>); an unreachable
    /// gateway throws <see cref="TapPassConnectionException"/>.
    /// </summary>
    /// <param name="request">The tool call. Its <see cref="GovernRequest.SessionId"/> is filled from the call's session when null.</param>
    /// <param name="options">Flags, session, agent uuid, task id and resume token of the call; the other members are ignored.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<GovernResponse> GovernToolCallAsync(GovernRequest request, TapPassToolOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>POST /v1/govern/execution</c>: records the outcome of a governed run. Throws like <see cref="GovernToolCallAsync"/>.</summary>
    /// <param name="report">The outcome (never the result itself).</param>
    /// <param name="options">Flags, session, agent uuid and task id of the call; the other members are ignored.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    Task<ExecutionReportResponse> ReportToolExecutionAsync(ExecutionReport report, TapPassToolOptions? options = null, CancellationToken cancellationToken = default);
}
