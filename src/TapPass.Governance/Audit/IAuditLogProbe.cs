namespace TapPass.Governance.Audit;

/// <summary>Readiness of an audit log (the gateway's <c>/health/ready</c> answers 503 while it is false).</summary>
internal interface IAuditLogProbe
{
    /// <summary>True when the log can currently accept and read events.</summary>
    Task<bool> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>The public half of the signing key, for <c>/.well-known/jwks.json</c>.</summary>
    EcPublicJwk PublicKey { get; }
}
