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

    /// <summary>
    /// When an append counts as durable. Default <see cref="AuditDurability.Full"/>: every commit is fsync'd before
    /// the appends it holds complete, so an answer that waited for its audit event survives a power failure.
    /// <see cref="AuditDurability.Normal"/> is an explicit opt-in trade: commits stay atomic and the database
    /// consistent, and nothing is lost when the process crashes, but the newest commits may be lost when the machine
    /// itself fails before the next checkpoint.
    /// </summary>
    public AuditDurability Durability { get; set; } = AuditDurability.Full;

    /// <summary>The signing key file actually used.</summary>
    public string ResolvedSigningKeyPath => SigningKeyPath ?? DatabasePath + ".signing-key.pem";
}

/// <summary>How durable an audit append is when it completes (SQLite <c>synchronous</c> in WAL mode).</summary>
internal enum AuditDurability
{
    /// <summary><c>synchronous=FULL</c>: every commit is fsync'd before its appends complete (the default).</summary>
    Full,

    /// <summary>
    /// <c>synchronous=NORMAL</c>: no fsync per commit (only at checkpoints); survives a process crash, may lose the
    /// newest commits on power failure or an operating-system crash. Opt-in only.
    /// </summary>
    Normal,
}
