using TapPass.Governance.Audit;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance;

/// <summary>
/// What the HTTP gateway needs from the engine beyond <see cref="ITapPassTransport"/>: caller identity for the audit
/// endpoints, session lookup, models, approvals, break-glass and the public signing keys. Like the transport, every
/// governance outcome is a value (<see cref="TapPassReply{T}"/> with the PROTOCOL.md §4 error), never an exception;
/// implementations authenticate <see cref="TapPassCall.ApiKey"/> and answer 401/403 themselves.
/// </summary>
internal interface IGatewayAdmin
{
    /// <summary>
    /// Resolves an API key to its identity, or null when the key is missing, unknown or revoked. Compares in constant
    /// time; never logs the key.
    /// </summary>
    Task<GatewayCaller?> AuthenticateAsync(string? apiKey, CancellationToken cancellationToken);

    /// <summary><c>GET /v1/sessions/{id}</c>: 404 <c>not_found</c> or 403 <c>session_forbidden</c> when not the caller's.</summary>
    Task<TapPassReply<SessionResponse>> GetSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken);

    /// <summary><c>GET /v1/models</c>: the models the gateway routes.</summary>
    Task<TapPassReply<ModelList>> ListModelsAsync(TapPassCall call, CancellationToken cancellationToken);

    /// <summary><c>GET /v1/approvals/{id}</c> (and the reviewer page).</summary>
    Task<TapPassReply<ApprovalInfo>> GetApprovalAsync(TapPassCall call, string approvalId, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/approvals/{id}/decide</c>; the key must be an approver's. The request is already validated.</summary>
    Task<TapPassReply<ApprovalInfo>> DecideApprovalAsync(TapPassCall call, string approvalId, ApprovalDecisionRequest decision, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/admin/break-glass</c>; the key must be an admin's. The declaration is already validated.</summary>
    Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(TapPassCall call, BreakGlassDeclaration declaration, CancellationToken cancellationToken);

    /// <summary><c>DELETE /v1/admin/break-glass</c>; the key must be an admin's.</summary>
    Task<TapPassReply<BreakGlassInfo>> EndBreakGlassAsync(TapPassCall call, CancellationToken cancellationToken);

    /// <summary>Public keys of the engine's signatures (capability tokens), published in <c>/.well-known/jwks.json</c>.</summary>
    IReadOnlyList<EcPublicJwk> GetPublicKeys();
}

/// <summary>An authenticated caller.</summary>
/// <param name="Org">Organisation.</param>
/// <param name="AgentId">Agent slug.</param>
/// <param name="AgentUuid">Agent uuid.</param>
/// <param name="IsAdmin">Admin (or auditor) key: may read every agent's audit events of its own org.</param>
internal sealed record GatewayCaller(string Org, string AgentId, string AgentUuid, bool IsAdmin);

/// <summary>A validated break-glass declaration (PROTOCOL.md §8).</summary>
/// <param name="Level"><c>halt</c> or <c>observe</c>.</param>
/// <param name="Duration">How long it lasts (positive, at most 7 days).</param>
/// <param name="Reason">Operator's reason.</param>
internal sealed record BreakGlassDeclaration(string Level, TimeSpan Duration, string? Reason);
