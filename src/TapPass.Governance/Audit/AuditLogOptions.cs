namespace TapPass.Governance.Audit;

/// <summary>Settings of <see cref="SqliteAuditLog"/>.</summary>
internal sealed class AuditLogOptions
{
    /// <summary>Default database file: <c>./tappass-audit.db</c>.</summary>
    public const string DefaultDatabasePath = "./tappass-audit.db";

    /// <summary>SQLite database file. Default <c>./tappass-audit.db</c>.</summary>
    public string DatabasePath { get; set; } = DefaultDatabasePath;

    /// <summary>
    /// PEM file holding the ES256 (P-256) signing key. Default: <c>{DatabasePath}.signing-key.pem</c>, generated on first
    /// use with owner-only permissions when it does not exist.
    /// </summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>Most events committed in one transaction. Default 512.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Appends that may wait for the writer before callers are held back. Default 10 000.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>The signing key file actually used.</summary>
    public string ResolvedSigningKeyPath => SigningKeyPath ?? DatabasePath + ".signing-key.pem";
}
