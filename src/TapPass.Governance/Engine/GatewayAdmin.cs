using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Audit;
using TapPass.Governance.Identity;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Engine;

/// <summary>
/// The HTTP gateway's control routes (<see cref="IGatewayAdmin"/>) served by the <see cref="GovernanceEngine"/>.
/// Every operation authenticates <see cref="TapPassCall.ApiKey"/> against the engine's keys (401 when missing or
/// unknown) and leaves the authorisation to the engine: session ownership, the approver role for decisions, the
/// admin role for break-glass. Nothing here logs or stores a key.
/// </summary>
internal sealed class GatewayAdmin(GovernanceEngine engine, ILogger<GatewayAdmin>? logger = null) : IGatewayAdmin
{
    private readonly GovernanceEngine _engine = engine ?? throw new ArgumentNullException(nameof(engine));
    private readonly ILogger _logger = logger ?? NullLogger<GatewayAdmin>.Instance;

    /// <inheritdoc />
    public Task<GatewayCaller?> AuthenticateAsync(string? apiKey, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(TryAuthenticate(apiKey, out var identity)
            ? new GatewayCaller(identity.Org, identity.AgentId, identity.AgentUuid, identity.HasRole(AgentRoles.Admin))
            : null);
    }

    /// <inheritdoc />
    public Task<TapPassReply<SessionResponse>> GetSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken) =>
        Authenticated<SessionResponse>(call, identity => _engine.GetSessionAsync(identity, sessionId, cancellationToken));

    /// <inheritdoc />
    public Task<TapPassReply<ModelList>> ListModelsAsync(TapPassCall call, CancellationToken cancellationToken) =>
        Authenticated<ModelList>(call, _ =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(TapPassReply<ModelList>.Ok(_engine.ListModels()));
        });

    /// <inheritdoc />
    public Task<TapPassReply<ApprovalInfo>> GetApprovalAsync(TapPassCall call, string approvalId, CancellationToken cancellationToken) =>
        Authenticated<ApprovalInfo>(call, identity => _engine.GetApprovalAsync(identity, approvalId, cancellationToken));

    /// <inheritdoc />
    public Task<TapPassReply<ApprovalInfo>> DecideApprovalAsync(TapPassCall call, string approvalId, ApprovalDecisionRequest decision, CancellationToken cancellationToken) =>
        Authenticated<ApprovalInfo>(call, identity => _engine.DecideApprovalAsync(identity, approvalId, decision, cancellationToken));

    /// <inheritdoc />
    public Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(TapPassCall call, BreakGlassDeclaration declaration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(declaration);
        return Authenticated<BreakGlassInfo>(call, identity => _engine.DeclareBreakGlassAsync(identity, declaration.Level, declaration.Duration, declaration.Reason, cancellationToken));
    }

    /// <inheritdoc />
    public Task<TapPassReply<BreakGlassInfo>> EndBreakGlassAsync(TapPassCall call, CancellationToken cancellationToken) =>
        Authenticated<BreakGlassInfo>(call, identity => _engine.EndBreakGlassAsync(identity, cancellationToken));

    /// <inheritdoc />
    public IReadOnlyList<EcPublicJwk> GetPublicKeys() => [_engine.CapabilityTokenKey()];

    private Task<TapPassReply<T>> Authenticated<T>(TapPassCall call, Func<AgentIdentity, Task<TapPassReply<T>>> operation)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(call);
        return TryAuthenticate(call.ApiKey, out var identity)
            ? operation(identity)
            : Task.FromResult(TapPassReply<T>.Fail(401, new ErrorBody { Type = ErrorTypes.Unauthorized, Message = "Missing or invalid API key. Send Authorization: Bearer tp_…" }));
    }

    private bool TryAuthenticate(string? apiKey, out AgentIdentity identity)
    {
        if (_engine.TryAuthenticate(apiKey, out identity))
        {
            return true;
        }

        EngineLog.AuthenticationFailed(_logger);
        return false;
    }
}
