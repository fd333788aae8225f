using System.Security.Cryptography;
using TapPass.Governance;
using TapPass.Governance.Audit;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Fakes;

internal sealed class FakeAdmin : IGatewayAdmin, IDisposable
{
    public const string AgentKey = "tp_good";
    public const string AdminKey = "tp_admin";
    public const string OtherOrgKey = "tp_other";

    public const string OtherOrgAdminKey = "tp_other_admin";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public List<(string Operation, TapPassCall Call, object? Body)> Calls { get; } = [];

    public ApprovalInfo Approval { get; set; } = new()
    {
        ApprovalId = "apr_1",
        Status = "pending",
        Subject = "tool send_email <script>alert(1)</script>",
        Rule = "require_approval",
    };

    public Task<GatewayCaller?> AuthenticateAsync(string? apiKey, CancellationToken cancellationToken) => Task.FromResult(apiKey switch
    {
        AgentKey => new GatewayCaller("acme", "agent-a", "uuid-a", IsAdmin: false),
        AdminKey => new GatewayCaller("acme", "ops", "uuid-ops", IsAdmin: true),
        OtherOrgKey => new GatewayCaller("other", "agent-a", "uuid-x", IsAdmin: false),
        OtherOrgAdminKey => new GatewayCaller("other", "ops", "uuid-y", IsAdmin: true),
        _ => (GatewayCaller?)null,
    });

    private static TapPassReply<T>? Unauthorized<T>(TapPassCall call, bool adminOnly = false)
        where T : class
    {
        if (call.ApiKey is not (AgentKey or AdminKey))
        {
            return TapPassReply<T>.Fail(401, new ErrorBody { Type = ErrorTypes.Unauthorized, Message = "Invalid API key." });
        }

        return adminOnly && call.ApiKey != AdminKey
            ? TapPassReply<T>.Fail(403, new ErrorBody { Type = ErrorTypes.SessionForbidden, Message = "Admin key required." })
            : null;
    }

    public Task<TapPassReply<SessionResponse>> GetSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken)
    {
        Calls.Add(("session", call, sessionId));
        return Task.FromResult(Unauthorized<SessionResponse>(call) ?? (sessionId == "ses_known"
            ? TapPassReply<SessionResponse>.Ok(new SessionResponse { SessionId = sessionId, AgentUuid = "uuid-a" }, FakeTransport.Headers with { SessionId = sessionId })
            : TapPassReply<SessionResponse>.Fail(404, new ErrorBody { Type = ErrorTypes.NotFound, Message = "No such session." })));
    }

    public Task<TapPassReply<ModelList>> ListModelsAsync(TapPassCall call, CancellationToken cancellationToken) =>
        Task.FromResult(Unauthorized<ModelList>(call) ?? TapPassReply<ModelList>.Ok(new ModelList
        {
            Data = [new ModelInfo { Id = "gpt-4o-mini", OwnedBy = "local", Created = 1 }],
        }));

    public Task<TapPassReply<ApprovalInfo>> GetApprovalAsync(TapPassCall call, string approvalId, CancellationToken cancellationToken) =>
        Task.FromResult(Unauthorized<ApprovalInfo>(call) ?? (approvalId == "apr_1"
            ? TapPassReply<ApprovalInfo>.Ok(Approval)
            : TapPassReply<ApprovalInfo>.Fail(404, new ErrorBody { Type = ErrorTypes.NotFound, Message = "No such approval." })));

    public Task<TapPassReply<ApprovalInfo>> DecideApprovalAsync(TapPassCall call, string approvalId, ApprovalDecisionRequest decision, CancellationToken cancellationToken)
    {
        Calls.Add(("decide", call, decision));
        return Task.FromResult(Unauthorized<ApprovalInfo>(call) ?? TapPassReply<ApprovalInfo>.Ok(new ApprovalInfo
        {
            ApprovalId = approvalId,
            Status = decision.Decision == "approve" ? "approved" : "denied",
            Reason = decision.Reason,
        }));
    }

    public Task<TapPassReply<BreakGlassInfo>> DeclareBreakGlassAsync(TapPassCall call, BreakGlassDeclaration declaration, CancellationToken cancellationToken)
    {
        Calls.Add(("break-glass", call, declaration));
        return Task.FromResult(Unauthorized<BreakGlassInfo>(call, adminOnly: true) ?? TapPassReply<BreakGlassInfo>.Ok(new BreakGlassInfo
        {
            Level = declaration.Level,
            ExpiresAt = DateTimeOffset.UnixEpoch + declaration.Duration,
            Reason = declaration.Reason,
        }));
    }

    public Task<TapPassReply<BreakGlassInfo>> EndBreakGlassAsync(TapPassCall call, CancellationToken cancellationToken)
    {
        Calls.Add(("end-break-glass", call, null));
        return Task.FromResult(Unauthorized<BreakGlassInfo>(call, adminOnly: true) ?? TapPassReply<BreakGlassInfo>.Ok(new BreakGlassInfo { Level = "none" }));
    }

    public IReadOnlyList<EcPublicJwk> GetPublicKeys() => [EcPublicJwk.FromECDsa(_key)];

    public void Dispose() => _key.Dispose();
}
