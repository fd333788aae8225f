using TapPass.Governance.Identity;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>
/// The engine as an in-process <see cref="ITapPassTransport"/> (embedded mode, no HTTP hop, same semantics).
/// A call without an API key acts as the embedded identity (<see cref="TapPassEngineOptions.EmbeddedIdentity"/>):
/// in-process code is already trusted by the process, so no key is needed. A call that does carry a key is
/// authenticated exactly as the gateway would (an unknown key is 401).
/// </summary>
internal sealed class EmbeddedTransport(GovernanceEngine engine, AgentIdentity? identity = null) : ITapPassTransport
{
    private readonly AgentIdentity _identity = identity ?? engine.EmbeddedIdentity;

    public GovernanceEngine Engine => engine;

    public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) => engine.GetHealthAsync(cancellationToken);

    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.ChatAsync(_identity, call, request, cancellationToken) : engine.ChatAsync(call, request, cancellationToken);

    public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.StreamChatAsync(_identity, call, request, cancellationToken) : engine.StreamChatAsync(call, request, cancellationToken);

    public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.GovernAsync(_identity, call, request, cancellationToken) : engine.GovernAsync(call, request, cancellationToken);

    public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.ReportExecutionAsync(_identity, call, report, cancellationToken) : engine.ReportExecutionAsync(call, report, cancellationToken);

    public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.OpenSessionAsync(_identity, call, request, cancellationToken) : engine.OpenSessionAsync(call, request, cancellationToken);

    public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken) =>
        Keyless(call) ? engine.CloseSessionAsync(_identity, call, sessionId, cancellationToken) : engine.CloseSessionAsync(call, sessionId, cancellationToken);

    private static bool Keyless(TapPassCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return string.IsNullOrEmpty(call.ApiKey);
    }
}
