using System.Collections.Concurrent;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.Fakes;

/// <summary>A hand-written transport: opens and closes sessions in memory, records every call.</summary>
internal sealed class FakeTransport : ITapPassTransport
{
    private int _counter;

    public ConcurrentQueue<TapPassCall> OpenCalls { get; } = new();

    public ConcurrentQueue<string> Closed { get; } = new();

    /// <summary>Completes when a session is closed (for tests that wait for the post-response close).</summary>
    public TaskCompletionSource<string> FirstClose { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Overrides the answer of <see cref="OpenSessionAsync"/>.</summary>
    public Func<TapPassCall, TapPassReply<SessionResponse>>? OpenReply { get; set; }

    /// <summary>Thrown by <see cref="OpenSessionAsync"/> when set (e.g. a connection failure).</summary>
    public Exception? OpenThrows { get; set; }

    public Func<TapPassCall, GovernRequest, TapPassReply<GovernResponse>>? GovernReply { get; set; }

    public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken)
    {
        OpenCalls.Enqueue(call);
        if (OpenThrows is { } ex)
        {
            return Task.FromException<TapPassReply<SessionResponse>>(ex);
        }

        if (OpenReply is { } reply)
        {
            return Task.FromResult(reply(call));
        }

        var id = "ses_auto_" + Interlocked.Increment(ref _counter);
        return Task.FromResult(TapPassReply<SessionResponse>.Ok(new SessionResponse
        {
            SessionId = id,
            AgentUuid = call.AgentUuid ?? "0a0a0a0a-0000-4000-8000-000000000001",
            AuditUrl = "http://gateway.test/audit/sessions/" + id,
        }));
    }

    public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        Closed.Enqueue(sessionId);
        FirstClose.TrySetResult(sessionId);
        return Task.FromResult(TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = sessionId, Closed = true }));
    }

    public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(GovernReply?.Invoke(call, request) ?? TapPassReply<GovernResponse>.Ok(new GovernResponse { Outcome = GovernOutcomes.Allow }));

    public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<HealthResponse>.Ok(new HealthResponse { Status = "healthy", ApiVersion = "0.6.0" }));

    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("These tests chat through FakeAgent.");

    public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("These tests chat through FakeAgent.");

    public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken) =>
        Task.FromResult(TapPassReply<ExecutionReportResponse>.Ok(new ExecutionReportResponse { Recorded = true }));
}
