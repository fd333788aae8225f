using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using TapPass.Governance.Identity;

namespace TapPass.Governance.Audit;

/// <summary>
/// Append-only, hash-chained, ES256-signed audit log in a SQLite database (WAL journal).
/// </summary>
/// <remarks>
/// <para>Durability: <c>synchronous=FULL</c>. In WAL mode <c>NORMAL</c> keeps the database consistent but may lose the
/// last transactions on power failure; <see cref="AppendAsync"/> promises that the event is durable when it completes,
/// so every commit is fsync'd. The cost is amortised by group commit: concurrent appends queue in a channel and one
/// writer commits whatever is queued (up to <see cref="AuditLogOptions.MaxBatchSize"/>) in one transaction, completing
/// each caller only after COMMIT returned. <see cref="AuditDurability.Normal"/> (<c>synchronous=NORMAL</c>, opt-in
/// through <see cref="AuditLogOptions.Durability"/>) drops the fsync per commit and with it the power-failure
/// guarantee; it is never the default.</para>
/// <para>Checkpoints: the writer connection never checkpoints automatically (a checkpoint copies the WAL into the
/// database and fsyncs it, which would stall whichever append triggered it). A checkpointer connection copies the WAL
/// in the background (<c>PASSIVE</c>, concurrently with commits) every <see cref="CheckpointEveryEvents"/> events;
/// once the WAL holds more than <see cref="WalRestartFrames"/> frames the background writer finishes the copy between
/// two commits (only the few frames the checkpointer could not reach), so the next commit starts the WAL over and the
/// file stays bounded. Durability is unchanged: every commit is still fsync'd before its callers complete.</para>
/// <para>Chain: record <c>n</c> stores <c>prev_hash</c> = hash of record <c>n-1</c> (64 zeros for the first) and
/// <c>hash</c> = SHA-256 of the canonical JSON of the event with <c>seq</c> and <c>prev_hash</c> added. The canonical
/// JSON is written straight from the event (<see cref="AuditEventCanonicalWriter"/>), not serialised and re-parsed.</para>
/// <para>Signatures, one per signed range: the last record of a range of consecutive records is signed (ES256, P-256,
/// IEEE P1363 r||s, base64url, over its hash, exactly as a single record always was). Because every hash covers the
/// previous one, that signature covers every record of the range; the range's other records carry the same signature
/// and <c>signed_seq</c> = the sequence of the signed record (NULL, i.e. "signed itself", on the signed record and on
/// records written before this scheme). Verification walks the chain and checks, for every range, that its records
/// name the same signed record, that it follows them directly, and that its signature verifies over its hash; so an
/// edit, deletion, insertion or reordering anywhere is still detected, and is reported at the edited record when its
/// stored hash no longer matches, otherwise (hash recomputed without the key) at the range's signed record. A signed
/// head (seq, hash, event id of the newest signed record) in <c>audit_meta</c> makes deleting the newest events
/// detectable too.</para>
/// <para>Signing is off the append path (two ECDSA operations per commit used to delay every answer): a commit writes
/// its records durable and chained but with an empty signature; a background signer signs the newest record and the
/// head at most once per <see cref="HeadInterval"/> while commits come, from the hash it holds in memory (not from the
/// database), and the next commit writes that signature over the whole unsigned range and the head in its own
/// transaction; a signed range that no commit carried by the next tick (the log went idle) is written alone. So records
/// are signed about 10 ms after their commit at most; <see cref="QueryAsync"/> signs what is pending first and shows
/// only signed records, and <see cref="VerifyAsync"/> and closing the log sign up to the newest record first (so while
/// the log is open, an edit or deletion anywhere, the newest records included, is detected as before). A log's first
/// commit signs itself. After an unclean shutdown the newest records may be unsigned and the head trail them: opening
/// the log checks the stored head (signature, and the record it names) and, when it holds, signs the records after it
/// and the new head and appends an <c>audit.head_recovered</c> event naming both sequences, so the recovery is itself
/// on the record. This is the one edit the design trades away: the records of the last ≈ 10 ms before a crash could be
/// altered or removed while the gateway is down without verification noticing. A stored head that does not hold
/// (missing, bad signature, naming a record that is not there) is never signed over: verification reports it until
/// the next commit writes a new head, as before. A record that is signed is never signed again.</para>
/// <para>Idle appends: when nothing is queued and no commit is running or has just ended (within
/// <see cref="InlineIdleGap"/>), an append has nothing to share a transaction with, so the caller commits it on its own
/// thread instead of handing it to the writer and waiting to be woken again (two thread hand-offs, the largest part of
/// a lone append's latency on a small virtual machine). Whoever commits holds one lock, so there is still exactly one
/// writer at a time and the chain order is the commit order; appends that arrive meanwhile, or in a burst right after
/// a commit, go through the writer and share transactions as before. Durability and signing are the same on both
/// paths.</para>
/// <para>Cancellation: a call cancelled before the writer takes it is not written; once taken, it is written.</para>
/// </remarks>
internal sealed partial class SqliteAuditLog : IAuditLog, IAuditLogProbe, IAsyncDisposable
{
    /// <summary>Largest page <see cref="QueryAsync"/> returns.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Appended events after which the background checkpointer copies the WAL into the database.</summary>
    internal const int CheckpointEveryEvents = 128;

    /// <summary>WAL frames (pages) above which the writer completes a checkpoint so that the WAL starts over.</summary>
    internal const int WalRestartFrames = 4096;

    /// <summary>
    /// How long after the last commit ended an append must arrive to be committed on the caller's thread (see remarks):
    /// appends closer together than this are a burst, and the writer groups them.
    /// </summary>
    internal static readonly TimeSpan InlineIdleGap = TimeSpan.FromMicroseconds(100);

    /// <summary>
    /// How often, at most, the signer signs the newest record and head while commits come; a signed range that no
    /// commit carried within one interval is written alone (see remarks).
    /// </summary>
    internal static readonly TimeSpan HeadInterval = TimeSpan.FromMilliseconds(5);

    private const string HeadKey = "head";
    private const string HeadSignatureKey = "head_signature";

    private readonly AuditLogOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ECDsa _signingKey;
    private readonly ECDsa _headSigningKey; // the same key, a second handle: used only by the head signer's thread
    private readonly string _connectionString;
    private readonly SqliteConnection _writerConnection;
    private readonly Channel<PendingAppend> _queue;
    private readonly Task _writer;
    private readonly Task _checkpointer;
    private readonly SemaphoreSlim _checkpointSignal = new(0, int.MaxValue);
    private readonly SemaphoreSlim _commitLock = new(1, 1); // one committer at a time: the writer loop or an idle append
    private long _lastCommitEnded; // Stopwatch timestamp

    // Head signing (see remarks). _newestHead and _signedHead are guarded by _headGate; _headWrittenSeq is written by
    // the committer (under _commitLock) and read by the signer.
    private readonly Lock _headGate = new();
    private readonly SemaphoreSlim _headSignal = new(0, int.MaxValue);
    private readonly ITimer _headTimer;
    private readonly Task _headSigner;
    private AuditHead? _newestHead;
    private SignedHead? _signedHead;
    private long _headWrittenSeq;
    private bool _headUntrusted; // the stored head did not hold at open: nothing is signed over that tail until a commit
    private int _headTimerArmed;
    private int _checkpointSignalled;
    private int _eventsSinceCheckpoint;
    private long _walFrames;
    private long _checkpoints;
    private long _lastSeq;
    private string _lastHash;
    private string _lastEventId;
    private long _batchesCommitted;
    private long _inlineCommits;
    private int _disposed;

    // Committer state (guarded by _commitLock): prepared statements and the canonical JSON buffer.
    private readonly ArrayBufferWriter<byte> _buffer = new(2048);
    private readonly Utf8JsonWriter _jsonWriter;
    private SqliteCommand? _insert;
    private SqliteCommand? _meta;
    private SqliteCommand? _sign;

    private SqliteAuditLog(AuditLogOptions options, TimeProvider timeProvider, ILogger logger, ECDsa signingKey, SqliteConnection writerConnection, string connectionString)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _signingKey = signingKey;
        var parameters = signingKey.ExportParameters(includePrivateParameters: true);
        try
        {
            _headSigningKey = ECDsa.Create(parameters);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
        }

        _writerConnection = writerConnection;
        _connectionString = connectionString;
        PublicKey = EcPublicJwk.FromECDsa(signingKey);
        _jsonWriter = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default, SkipValidation = true });
        (_lastSeq, _lastHash, _lastEventId) = ReadTail(writerConnection);
        var (storedHead, storedHeadSignature) = ReadStoredHead(writerConnection);
        _headWrittenSeq = storedHead?.Seq ?? 0;
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(Math.Max(1, options.QueueCapacity))
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _headTimer = timeProvider.CreateTimer(static state => ((SqliteAuditLog)state!).OnHeadTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_lastSeq > 0 && (storedHead is null || storedHeadSignature is null))
        {
            _headUntrusted = true; // verification reports the missing head; the next commit writes a new one
        }
        else if (storedHead is not null && storedHeadSignature is not null && storedHead.Seq < _lastSeq)
        {
            RecoverHead(storedHead, storedHeadSignature);
        }

        _headSigner = Task.Run(HeadSignerLoopAsync);
        _writer = Task.Run(WriteLoopAsync);
        _checkpointer = Task.Run(CheckpointLoopAsync);
    }

    /// <inheritdoc />
    public EcPublicJwk PublicKey { get; }

    /// <summary>Transactions committed since opening (group commit makes this smaller than the number of appends).</summary>
    public long BatchesCommitted => Interlocked.Read(ref _batchesCommitted);

    /// <summary>Appends committed on the caller's thread because the log was idle (a diagnostic for tests).</summary>
    internal long InlineCommits => Interlocked.Read(ref _inlineCommits);

    /// <summary>Background checkpoints run since opening (a diagnostic for tests and benchmarks).</summary>
    internal long CheckpointsRun => Interlocked.Read(ref _checkpoints);

    /// <summary>Opens (creating if needed) the database and the signing key.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="timeProvider">Clock for event timestamps.</param>
    /// <param name="logger">Logger (never given event content).</param>
    public static SqliteAuditLog Open(AuditLogOptions options, TimeProvider timeProvider, ILogger<SqliteAuditLog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DatabasePath);

        var fullPath = Path.GetFullPath(options.DatabasePath);
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var signingKey = AuditSigningKeyStore.LoadOrCreate(Path.GetFullPath(options.ResolvedSigningKeyPath), logger);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL;");
            Execute(connection, SynchronousPragma(options.Durability));
            Execute(connection, "PRAGMA busy_timeout=30000;");

            // Checkpoints run in the background (see remarks), never inside a commit.
            Execute(connection, "PRAGMA wal_autocheckpoint=0;");
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS audit_events (
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    ts_ms INTEGER NOT NULL,
                    event_type TEXT NOT NULL,
                    session_id TEXT NULL,
                    agent_id TEXT NULL,
                    event_json TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    signed_seq INTEGER NULL
                );
                CREATE INDEX IF NOT EXISTS ix_audit_session ON audit_events(session_id, seq);
                CREATE INDEX IF NOT EXISTS ix_audit_agent ON audit_events(agent_id, seq);
                CREATE INDEX IF NOT EXISTS ix_audit_type ON audit_events(event_type, seq);
                CREATE INDEX IF NOT EXISTS ix_audit_ts ON audit_events(ts_ms);
                CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """);
            AddSignedSeqColumn(connection);
            return new SqliteAuditLog(options, timeProvider, logger, signingKey, connection, connectionString);
        }
        catch
        {
            connection.Dispose();
            signingKey.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask<AuditRecord> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ArgumentException.ThrowIfNullOrWhiteSpace(auditEvent.EventType, nameof(auditEvent));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AuditRecord>(cancellationToken);
        }

        var pending = new PendingAppend(auditEvent, cancellationToken);
        if (TryCommitIdle(pending, out var committed))
        {
            return committed;
        }

        if (_queue.Writer.TryWrite(pending))
        {
            return new ValueTask<AuditRecord>(pending.Completion.Task);
        }

        return EnqueueSlowAsync(pending, cancellationToken);
    }

    /// <summary>
    /// Commits <paramref name="pending"/> on the calling thread when the log is idle (see remarks); false (nothing done)
    /// when it is not, and the append goes through the writer.
    /// </summary>
    private bool TryCommitIdle(PendingAppend pending, out ValueTask<AuditRecord> result)
    {
        result = default;
        if (Volatile.Read(ref _disposed) != 0 // closed: the writer's path reports it
            || _queue.Reader.Count != 0
            || Volatile.Read(ref _walFrames) >= WalRestartFrames // the writer finishes a checkpoint first
            || Stopwatch.GetElapsedTime(Volatile.Read(ref _lastCommitEnded)) < InlineIdleGap
            || !TryEnterCommitLock())
        {
            return false;
        }

        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                result = ValueTask.FromException<AuditRecord>(new ObjectDisposedException("The audit log is closed."));
                return true;
            }

            if (_queue.Reader.Count != 0)
            {
                return false; // queued meanwhile: the writer takes them together
            }

            try
            {
                var record = CommitBatch([pending])[0];
                Interlocked.Increment(ref _inlineCommits);
                AfterCommit(1);
                result = new ValueTask<AuditRecord>(record);
            }
            catch (Exception ex)
            {
                LogAppendFailed(_logger, ex);
                result = ValueTask.FromException<AuditRecord>(ex);
            }

            return true;
        }
        finally
        {
            Volatile.Write(ref _lastCommitEnded, Stopwatch.GetTimestamp());
            _commitLock.Release();
        }
    }

    private bool TryEnterCommitLock()
    {
        try
        {
            return _commitLock.Wait(0);
        }
        catch (ObjectDisposedException)
        {
            return false; // closed meanwhile
        }
    }

    private async ValueTask<AuditRecord> EnqueueSlowAsync(PendingAppend pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The audit log is closed.", ex);
        }

        return await pending.Completion.Task;
    }

    /// <inheritdoc />
    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, MaxPageSize);
        var after = query.Cursor is null ? 0 : DecodeCursor(query.Cursor);

        // Only signed records are shown: sign what is pending first, and leave out what is appended meanwhile.
        var signedThrough = await FlushHeadAsync(cancellationToken);
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT seq, event_json, prev_hash, hash, signature, signed_seq FROM audit_events WHERE seq > $after AND seq <= $through AND signature <> ''");
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$through", signedThrough);
        if (query.SessionId is not null)
        {
            sql.Append(" AND session_id = $session");
            command.Parameters.AddWithValue("$session", query.SessionId);
        }

        if (query.AgentId is not null)
        {
            sql.Append(" AND agent_id = $agent");
            command.Parameters.AddWithValue("$agent", query.AgentId);
        }

        if (query.EventType is not null)
        {
            sql.Append(" AND event_type = $type");
            command.Parameters.AddWithValue("$type", query.EventType);
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND ts_ms >= $since");
            command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        }

        sql.Append(" ORDER BY seq LIMIT $limit");
        command.Parameters.AddWithValue("$limit", limit + 1);
        command.CommandText = sql.ToString();

        var records = new List<AuditRecord>(Math.Min(limit, 128));
        var more = false;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (records.Count == limit)
                {
                    more = true;
                    break;
                }

                var evt = JsonSerializer.Deserialize(reader.GetString(1), AuditJsonContext.Default.AuditEvent)
                    ?? throw new InvalidDataException("Stored audit event is null.");
                records.Add(new AuditRecord(reader.GetInt64(0), evt, reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt64(5)));
            }
        }

        return new AuditPage(records, more ? EncodeCursor(records[^1].Sequence) : null);
    }

    /// <inheritdoc />
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        // The stored head and the newest signatures may trail (see remarks): sign up to the newest record first.
        // Records appended after this point may be past the head, unsigned; they are checked by a later verification.
        var flushed = await FlushHeadAsync(cancellationToken);
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);

        AuditHead? head = null;
        string? headSignature = null;
        await using (var metaCommand = connection.CreateCommand())
        {
            metaCommand.Transaction = transaction;
            metaCommand.CommandText = "SELECT key, value FROM audit_meta WHERE key IN ('head', 'head_signature')";
            await using var metaReader = await metaCommand.ExecuteReaderAsync(cancellationToken);
            while (await metaReader.ReadAsync(cancellationToken))
            {
                var value = metaReader.GetString(1);
                if (metaReader.GetString(0) == HeadKey)
                {
                    head = TryParseHead(value);
                }
                else
                {
                    headSignature = value;
                }
            }
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, event_id, ts_ms, event_type, session_id, agent_id, event_json, prev_hash, hash, signature, signed_seq FROM audit_events WHERE seq <= $through ORDER BY seq";
        command.Parameters.AddWithValue("$through", Math.Max(flushed, head?.Seq ?? 0));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);

        long checkedCount = 0;
        long expectedSeq = 1;
        var prevHash = AuditCanonicalJson.GenesisHash;
        (long SignedSeq, string Signature)? batch = null; // the open batch: records seen that a later record signs
        (string Hash, string EventId)? headRecord = null; // the record the head names
        while (await reader.ReadAsync(cancellationToken))
        {
            var seq = reader.GetInt64(0);
            var eventId = reader.GetString(1);
            checkedCount++;
            if (seq != expectedSeq || !VerifyRow(reader, prevHash, out var hashBytes))
            {
                return new AuditVerification(false, checkedCount, eventId);
            }

            var signature = reader.GetString(9);
            long? signedSeq = reader.IsDBNull(10) ? null : reader.GetInt64(10);
            if (signedSeq is { } s)
            {
                // Signed by a later record of its batch: every record of the batch names the same one, with the same signature.
                if (s <= seq || (batch is { } open && (open.SignedSeq != s || !string.Equals(open.Signature, signature, StringComparison.Ordinal))))
                {
                    return new AuditVerification(false, checkedCount, eventId);
                }

                batch = (s, signature);
            }
            else
            {
                // Signed itself (a batch's last record): it must be the record the open batch named.
                if ((batch is { } open && (open.SignedSeq != seq || !string.Equals(open.Signature, signature, StringComparison.Ordinal)))
                    || !VerifySignature(hashBytes, signature))
                {
                    return new AuditVerification(false, checkedCount, eventId);
                }

                batch = null;
            }

            prevHash = reader.GetString(8);
            expectedSeq++;
            if (head is not null && seq == head.Seq)
            {
                headRecord = (prevHash, eventId);
            }

            if (head is not null && seq > head.Seq)
            {
                // Rows past the signed head that were there before verification began were not written by this log.
                return new AuditVerification(false, checkedCount, eventId);
            }
        }

        if (batch is not null)
        {
            // The batch's signed record is gone (the newest records were removed).
            return new AuditVerification(false, checkedCount, head?.EventId);
        }

        var lastSeq = expectedSeq - 1;
        if (lastSeq == 0 && head is null)
        {
            return new AuditVerification(true, 0, null);
        }

        if (head is null || headSignature is null || !VerifyHeadSignature(head, headSignature))
        {
            return new AuditVerification(false, checkedCount, head?.EventId);
        }

        if (head.Seq != lastSeq || head.Seq < flushed
            || headRecord is not { } named || !string.Equals(named.Hash, head.Hash, StringComparison.Ordinal) || !string.Equals(named.EventId, head.EventId, StringComparison.Ordinal))
        {
            // The newest events were removed (the head names the missing one), or the head was replaced by an older one.
            return new AuditVerification(false, checkedCount, head.EventId);
        }

        return new AuditVerification(true, checkedCount, null);
    }

    /// <inheritdoc />
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0 || _writer.IsCompleted)
        {
            return false;
        }

        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM audit_meta";
            _ = await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (SqliteException ex)
        {
            LogProbeFailed(_logger, ex.SqliteErrorCode);
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _checkpointSignal.Release();
        await _headTimer.DisposeAsync();
        _headSignal.Release();
        try
        {
            await _writer;
            await _checkpointer;
            await _headSigner;
            await _commitLock.WaitAsync(); // an idle append committing on its own thread finishes first
            try
            {
                FlushHeadLocked(); // the stored head names the newest event when the log is closed
            }
            catch (Exception ex) when (ex is SqliteException or CryptographicException)
            {
                LogHeadFailed(_logger, ex);
            }
        }
        finally
        {
            _insert?.Dispose();
            _meta?.Dispose();
            _sign?.Dispose();
            await _jsonWriter.DisposeAsync();
            await _writerConnection.DisposeAsync();
            _signingKey.Dispose();
            _headSigningKey.Dispose();
            _checkpointSignal.Dispose();
            _commitLock.Dispose();
            _headSignal.Dispose();
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            await _commitLock.WaitAsync().ConfigureAwait(false);
            try
            {
                CommitQueued(reader, batch);
            }
            finally
            {
                Volatile.Write(ref _lastCommitEnded, Stopwatch.GetTimestamp());
                _commitLock.Release();
            }
        }
    }

    /// <summary>Commits what is queued (up to a batch), completes its callers, then does the checkpoint work.</summary>
    private void CommitQueued(ChannelReader<PendingAppend> reader, List<PendingAppend> batch)
    {
        batch.Clear();
        while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var item))
        {
            if (item.CancellationToken.IsCancellationRequested)
            {
                item.Completion.TrySetCanceled(item.CancellationToken);
                continue;
            }

            batch.Add(item);
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            var records = CommitBatch(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(records[i]);
            }
        }
        catch (Exception ex)
        {
            LogBatchFailed(_logger, batch.Count, ex);

            // Isolate the offending event (e.g. a duplicate event id): retry one by one.
            foreach (var item in batch)
            {
                try
                {
                    item.Completion.TrySetResult(CommitBatch([item])[0]);
                }
                catch (Exception single)
                {
                    item.Completion.TrySetException(single);
                }
            }
        }

        AfterCommit(batch.Count);

        // After the callers were completed, so no append waits for it unless it arrives meanwhile.
        if (Volatile.Read(ref _walFrames) >= WalRestartFrames)
        {
            FinishCheckpoint();
        }
    }

    /// <summary>Every <see cref="CheckpointEveryEvents"/> events, wakes the background checkpointer.</summary>
    private void AfterCommit(int events)
    {
        if (Interlocked.Add(ref _eventsSinceCheckpoint, events) >= CheckpointEveryEvents)
        {
            Volatile.Write(ref _eventsSinceCheckpoint, 0);
            if (Interlocked.Exchange(ref _checkpointSignalled, 1) == 0)
            {
                _checkpointSignal.Release();
            }
        }
    }

    /// <summary>
    /// Background checkpoints on a connection of their own: copies committed WAL frames into the database while
    /// commits go on, and records how long the WAL has grown.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                await _checkpointSignal.WaitAsync().ConfigureAwait(false);
                Volatile.Write(ref _checkpointSignalled, 0);
                if (Volatile.Read(ref _disposed) != 0)
                {
                    return;
                }

                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_connectionString);
                        connection.Open();
                        Execute(connection, SynchronousPragma(_options.Durability));
                        Execute(connection, "PRAGMA wal_autocheckpoint=0;");
                    }

                    var (log, _) = Checkpoint(connection);
                    Interlocked.Increment(ref _checkpoints);
                    if (log >= 0)
                    {
                        Volatile.Write(ref _walFrames, log);
                    }
                }
                catch (SqliteException ex)
                {
                    LogCheckpointFailed(_logger, ex.SqliteErrorCode);
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>
    /// On the writer connection, between commits: copies the frames the background checkpointer has not reached (few)
    /// so that the next commit starts the WAL over. Runs on the writer loop.
    /// </summary>
    private void FinishCheckpoint()
    {
        try
        {
            var (log, backfilled) = Checkpoint(_writerConnection);
            if (log >= 0)
            {
                Volatile.Write(ref _walFrames, backfilled < log ? log : 0);
            }
        }
        catch (SqliteException ex)
        {
            LogCheckpointFailed(_logger, ex.SqliteErrorCode);
        }
    }

    /// <summary>Runs <c>PRAGMA wal_checkpoint(PASSIVE)</c>; returns the WAL's frames and how many are in the database.</summary>
    private static (long Log, long Backfilled) Checkpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(1), reader.GetInt64(2)) : (-1, -1);
    }

    private AuditRecord[] CommitBatch(IReadOnlyList<PendingAppend> batch)
    {
        var count = batch.Count;
        var records = new AuditRecord[count];
        var events = new AuditEvent[count];
        var seq = _lastSeq;
        var prevHash = _lastHash;
        using var transaction = _writerConnection.BeginTransaction();
        var insert = _insert ??= CreateInsert();
        insert.Transaction = transaction;
        var p = insert.Parameters;

        // Hash chain first (a log's first commit signs the batch's last hash before its rows are written), then the rows.
        var prevHashes = new string[count];
        var jsons = new string[count];
        for (var i = 0; i < count; i++)
        {
            var evt = batch[i].Event;
            if (string.IsNullOrEmpty(evt.EventId) || evt.Timestamp == default)
            {
                evt = evt with
                {
                    EventId = string.IsNullOrEmpty(evt.EventId) ? NewEventId() : evt.EventId,
                    Timestamp = evt.Timestamp == default ? _timeProvider.GetUtcNow() : evt.Timestamp,
                };
            }

            seq++;
            _buffer.ResetWrittenCount();
            _jsonWriter.Reset(_buffer);
            var (prevHashField, seqField) = AuditEventCanonicalWriter.WriteHashInput(_jsonWriter, evt, seq, prevHash);
            var hashInput = _buffer.WrittenSpan;
            var hashBytes = SHA256.HashData(hashInput);
            jsons[i] = AuditEventCanonicalWriter.WithoutFields(hashInput, prevHashField, seqField);
            events[i] = evt;
            prevHashes[i] = prevHash;
            prevHash = Convert.ToHexStringLower(hashBytes);
        }

        // Rows are written unsigned; the signer signs the newest record (and the head) off the append path and a later
        // commit writes the signature over the whole unsigned range (see remarks). A log's first commit signs itself.
        var head = new AuditHead(seq, prevHash, events[count - 1].EventId);
        var carried = _headWrittenSeq == 0 ? SignedHead.Sign(_signingKey, head) : TakeSignedHead();
        seq = _lastSeq;
        for (var i = 0; i < count; i++)
        {
            var evt = events[i];
            seq++;
            var hash = i + 1 < count ? prevHashes[i + 1] : prevHash;
            p[0].Value = seq;
            p[1].Value = evt.EventId;
            p[2].Value = evt.Timestamp.ToUnixTimeMilliseconds();
            p[3].Value = evt.EventType;
            p[4].Value = (object?)evt.SessionId ?? DBNull.Value;
            p[5].Value = (object?)evt.AgentId ?? DBNull.Value;
            p[6].Value = jsons[i];
            p[7].Value = prevHashes[i];
            p[8].Value = hash;
            p[9].Value = "";
            p[10].Value = DBNull.Value;
            insert.ExecuteNonQuery();
            records[i] = carried is { } now && now.Head.Seq == head.Seq
                ? new AuditRecord(seq, evt, prevHashes[i], hash, now.BatchSignature, seq == head.Seq ? null : head.Seq)
                : new AuditRecord(seq, evt, prevHashes[i], hash, "", null);
        }

        if (carried is not null)
        {
            WriteHead(transaction, carried);
        }

        transaction.Commit();
        Interlocked.Increment(ref _batchesCommitted);
        _headUntrusted = false;
        _lastSeq = seq;
        _lastHash = prevHash;
        _lastEventId = head.EventId;
        if (carried is not null)
        {
            HeadWritten(carried);
        }

        lock (_headGate)
        {
            _newestHead = head;
        }

        ArmHeadTimer();
        return records;
    }

    /// <summary>The head the signer signed and nobody wrote yet, if it is newer than the stored one.</summary>
    private SignedHead? TakeSignedHead()
    {
        lock (_headGate)
        {
            return _signedHead is { } signed && signed.Head.Seq > _headWrittenSeq ? signed : null;
        }
    }

    /// <summary>
    /// Writes the signature of <paramref name="signed"/> over every unsigned record up to it (a batch signed by its
    /// last record, as verification expects) and the signed head.
    /// </summary>
    private void WriteHead(SqliteTransaction transaction, SignedHead signed)
    {
        var sign = _sign ??= CreateSign();
        sign.Transaction = transaction;
        sign.Parameters[0].Value = signed.BatchSignature;
        sign.Parameters[1].Value = signed.Head.Seq;
        sign.Parameters[2].Value = Volatile.Read(ref _headWrittenSeq) + 1;
        sign.ExecuteNonQuery();

        var meta = _meta ??= CreateMeta();
        meta.Transaction = transaction;
        meta.Parameters[0].Value = JsonSerializer.Serialize(signed.Head, AuditJsonContext.Default.AuditHead);
        meta.Parameters[1].Value = signed.Signature;
        meta.ExecuteNonQuery();
    }

    /// <summary>After the transaction that wrote <paramref name="signed"/> committed.</summary>
    private void HeadWritten(SignedHead signed)
    {
        Volatile.Write(ref _headWrittenSeq, signed.Head.Seq);
        lock (_headGate)
        {
            if (_signedHead is { } pending && pending.Head.Seq <= signed.Head.Seq)
            {
                _signedHead = null;
            }
        }
    }

    /// <summary>Writes <paramref name="signed"/> in a transaction of its own. The caller holds the commit lock.</summary>
    private void WriteHeadAlone(SignedHead signed)
    {
        using var transaction = _writerConnection.BeginTransaction();
        WriteHead(transaction, signed);
        transaction.Commit();
        HeadWritten(signed);
    }

    /// <summary>
    /// Brings the stored head up to the newest record (signing it here if the signer has not) and returns that
    /// record's sequence. The caller holds the commit lock.
    /// </summary>
    private long FlushHeadLocked()
    {
        var tail = _lastSeq;
        if (tail == 0 || _headUntrusted || Volatile.Read(ref _headWrittenSeq) >= tail)
        {
            return tail;
        }

        var signed = TakeSignedHead();
        if (signed is null || signed.Head.Seq != tail)
        {
            signed = SignedHead.Sign(_signingKey, new AuditHead(tail, _lastHash, _lastEventId));
        }

        WriteHeadAlone(signed);
        return tail;
    }

    private async Task<long> FlushHeadAsync(CancellationToken cancellationToken)
    {
        await _commitLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return FlushHeadLocked();
        }
        finally
        {
            _commitLock.Release();
        }
    }

    /// <summary>After a commit: makes sure the head signer ticks within <see cref="HeadInterval"/>.</summary>
    private void ArmHeadTimer()
    {
        if (Interlocked.Exchange(ref _headTimerArmed, 1) == 0)
        {
            try
            {
                _headTimer.Change(HeadInterval, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Closing: DisposeAsync writes the head.
            }
        }
    }

    private void OnHeadTimer()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            _headSignal.Release();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile: closing writes the head itself.
        }
    }

    /// <summary>
    /// Runs at most once per <see cref="HeadInterval"/> while commits come: writes alone a head that no commit carried
    /// since the last tick (the log went idle), then signs the newest head for the next commit to carry.
    /// </summary>
    private async Task HeadSignerLoopAsync()
    {
        while (true)
        {
            await _headSignal.WaitAsync().ConfigureAwait(false);
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            try
            {
                if (TakeSignedHead() is not null)
                {
                    await _commitLock.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        if (Volatile.Read(ref _disposed) != 0)
                        {
                            return;
                        }

                        if (TakeSignedHead() is { } idle)
                        {
                            WriteHeadAlone(idle);
                        }
                    }
                    finally
                    {
                        _commitLock.Release();
                    }
                }

                if (NewestUnsignedHead() is { } head)
                {
                    var signed = SignedHead.Sign(_headSigningKey, head);
                    lock (_headGate)
                    {
                        if (_signedHead is null || _signedHead.Head.Seq < head.Seq)
                        {
                            _signedHead = signed;
                        }
                    }
                }

                // Tick again while a head waits to be carried or written; otherwise the next commit arms the timer.
                Volatile.Write(ref _headTimerArmed, 0);
                if (TakeSignedHead() is not null || NewestUnsignedHead() is not null)
                {
                    ArmHeadTimer();
                }
            }
            catch (Exception ex)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    return; // closing: DisposeAsync signs what is pending
                }

                // The loop must outlive a failure: closing, verifying and queries sign what is pending themselves, and
                // the next commit arms the timer again.
                Volatile.Write(ref _headTimerArmed, 0);
                LogHeadFailed(_logger, ex);
            }
        }
    }

    /// <summary>The newest committed head when it is newer than both the stored and the signed one.</summary>
    private AuditHead? NewestUnsignedHead()
    {
        lock (_headGate)
        {
            var head = _newestHead;
            return head is null || head.Seq <= Volatile.Read(ref _headWrittenSeq) || (_signedHead is { } signed && signed.Head.Seq >= head.Seq) ? null : head;
        }
    }

    /// <summary>
    /// At open, when the stored head trails the newest record (the process ended before writing the last head): if the
    /// stored head holds (signature, and the record it names), signs the tail as the head and records the recovery as
    /// an <c>audit.head_recovered</c> event. Otherwise leaves everything as it is for <see cref="VerifyAsync"/> to
    /// report.
    /// </summary>
    private void RecoverHead(AuditHead storedHead, string storedHeadSignature)
    {
        if (!VerifyHeadSignature(storedHead, storedHeadSignature) || !RecordMatches(_writerConnection, storedHead))
        {
            LogHeadNotRecovered(_logger, storedHead.Seq, _lastSeq);
            _headUntrusted = true;
            return;
        }

        var tail = new AuditHead(_lastSeq, _lastHash, _lastEventId);
        WriteHeadAlone(SignedHead.Sign(_signingKey, tail));
        LogHeadRecovered(_logger, storedHead.Seq, tail.Seq);
        var recovered = new PendingAppend(new AuditEvent
        {
            EventType = "audit.head_recovered",
            Reason = "The audit log was not closed cleanly; its signed head trailed the newest events and was signed again at open.",
            Details = new Dictionary<string, JsonElement>
            {
                ["head_seq"] = JsonSerializer.SerializeToElement(storedHead.Seq, AuditJsonContext.Default.Int64),
                ["tail_seq"] = JsonSerializer.SerializeToElement(tail.Seq, AuditJsonContext.Default.Int64),
            },
        }, CancellationToken.None);
        CommitBatch([recovered]);
        FlushHeadLocked();
    }

    private static bool RecordMatches(SqliteConnection connection, AuditHead head)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash, event_id FROM audit_events WHERE seq = $seq";
        command.Parameters.AddWithValue("$seq", head.Seq);
        using var reader = command.ExecuteReader();
        return reader.Read()
            && string.Equals(reader.GetString(0), head.Hash, StringComparison.Ordinal)
            && string.Equals(reader.GetString(1), head.EventId, StringComparison.Ordinal);
    }

    private static (AuditHead? Head, string? Signature) ReadStoredHead(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, value FROM audit_meta WHERE key IN ('head', 'head_signature')";
        using var reader = command.ExecuteReader();
        AuditHead? head = null;
        string? signature = null;
        while (reader.Read())
        {
            if (reader.GetString(0) == HeadKey)
            {
                head = TryParseHead(reader.GetString(1));
            }
            else
            {
                signature = reader.GetString(1);
            }
        }

        return (head, signature);
    }

    private SqliteCommand CreateInsert()
    {
        var insert = _writerConnection.CreateCommand();
        insert.CommandText = """
            INSERT INTO audit_events (seq, event_id, ts_ms, event_type, session_id, agent_id, event_json, prev_hash, hash, signature, signed_seq)
            VALUES ($seq, $id, $ts, $type, $session, $agent, $json, $prev, $hash, $sig, $signed)
            """;
        insert.Parameters.Add("$seq", SqliteType.Integer);
        insert.Parameters.Add("$id", SqliteType.Text);
        insert.Parameters.Add("$ts", SqliteType.Integer);
        insert.Parameters.Add("$type", SqliteType.Text);
        insert.Parameters.Add("$session", SqliteType.Text);
        insert.Parameters.Add("$agent", SqliteType.Text);
        insert.Parameters.Add("$json", SqliteType.Text);
        insert.Parameters.Add("$prev", SqliteType.Text);
        insert.Parameters.Add("$hash", SqliteType.Text);
        insert.Parameters.Add("$sig", SqliteType.Text);
        insert.Parameters.Add("$signed", SqliteType.Integer);
        return insert;
    }

    private SqliteCommand CreateSign()
    {
        var sign = _writerConnection.CreateCommand();
        // Only unsigned records (the tail after the last signed one): a signed record is never signed again, so whatever was
        // done to the database while the log was closed cannot be signed over.
        sign.CommandText = "UPDATE audit_events SET signature = $sig, signed_seq = CASE WHEN seq = $to THEN NULL ELSE $to END WHERE seq BETWEEN $from AND $to AND signature = ''";
        sign.Parameters.Add("$sig", SqliteType.Text);
        sign.Parameters.Add("$to", SqliteType.Integer);
        sign.Parameters.Add("$from", SqliteType.Integer);
        return sign;
    }

    private SqliteCommand CreateMeta()
    {
        var meta = _writerConnection.CreateCommand();
        meta.CommandText = $"INSERT INTO audit_meta (key, value) VALUES ('{HeadKey}', $head), ('{HeadSignatureKey}', $sig) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        meta.Parameters.Add("$head", SqliteType.Text);
        meta.Parameters.Add("$sig", SqliteType.Text);
        return meta;
    }

    private static void AddSignedSeqColumn(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_table_info('audit_events') WHERE name = 'signed_seq'";
        if (Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            Execute(connection, "ALTER TABLE audit_events ADD COLUMN signed_seq INTEGER NULL;");
        }
    }

    private static bool VerifyRow(SqliteDataReader reader, string expectedPrevHash, out byte[] hashBytes)
    {
        hashBytes = [];
        var storedPrev = reader.GetString(7);
        var storedHash = reader.GetString(8);
        if (!string.Equals(storedPrev, expectedPrevHash, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(reader.GetString(6));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !ColumnMatches(root, "event_id", reader.GetString(1))
                || !ColumnMatches(root, "event_type", reader.GetString(3))
                || !ColumnMatches(root, "session_id", reader.IsDBNull(4) ? null : reader.GetString(4))
                || !ColumnMatches(root, "agent_id", reader.IsDBNull(5) ? null : reader.GetString(5))
                || !root.TryGetProperty("timestamp", out var ts)
                || !ts.TryGetDateTimeOffset(out var timestamp)
                || timestamp.ToUnixTimeMilliseconds() != reader.GetInt64(2))
            {
                return false;
            }

            hashBytes = SHA256.HashData(AuditCanonicalJson.HashInput(root, reader.GetInt64(0), storedPrev));
            return string.Equals(Convert.ToHexStringLower(hashBytes), storedHash, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return false;
        }
    }

    private bool VerifySignature(byte[] hashBytes, string signature)
    {
        try
        {
            return _signingKey.VerifyHash(hashBytes, Base64Url.DecodeFromChars(signature), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool ColumnMatches(JsonElement root, string property, string? column)
    {
        if (!root.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return column is null;
        }

        return value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), column, StringComparison.Ordinal);
    }

    private static string SignHead(ECDsa key, AuditHead head) =>
        Base64Url.EncodeToString(key.SignHash(HeadDigest(head), DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    private bool VerifyHeadSignature(AuditHead head, string signature)
    {
        try
        {
            return _signingKey.VerifyHash(HeadDigest(head), Base64Url.DecodeFromChars(signature), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] HeadDigest(AuditHead head) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"tappass-audit-head\n{head.Seq}\n{head.Hash}\n{head.EventId}")));

    private static AuditHead? TryParseHead(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, AuditJsonContext.Default.AuditHead);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (long Seq, string Hash, string EventId) ReadTail(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, hash, event_id FROM audit_events ORDER BY seq DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1), reader.GetString(2)) : (0, AuditCanonicalJson.GenesisHash, "");
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static string SynchronousPragma(AuditDurability durability) =>
        durability == AuditDurability.Normal ? "PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=FULL;";

    /// <summary>
    /// The <c>synchronous</c> setting of the writer connection (2 = FULL, 1 = NORMAL), for tests; only while no append
    /// is in flight (the writer connection is not shared).
    /// </summary>
    internal long WriterSynchronous()
    {
        using var command = _writerConnection.CreateCommand();
        command.CommandText = "PRAGMA synchronous;";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string NewEventId() => Ids.New(Ids.AuditEvent);

    private static string EncodeCursor(long seq) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"v1:{seq}")));

    /// <summary>Parses a cursor; throws <see cref="ArgumentException"/> for anything this log did not issue.</summary>
    private static long DecodeCursor(string cursor)
    {
        if (cursor.Length is 0 or > 64)
        {
            throw new ArgumentException("Invalid cursor.", nameof(cursor));
        }

        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith("v1:", StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                return seq;
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException("Invalid cursor.", nameof(cursor));
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Audit batch of {Count} events failed to commit; retrying one by one.")]
    private static partial void LogBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "Audit head signing failed; the next commit or closing the log signs it again.")]
    private static partial void LogHeadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "The audit log was not closed cleanly: its signed head (seq {HeadSeq}) trailed the newest event (seq {TailSeq}); the head was signed again and an audit.head_recovered event appended.")]
    private static partial void LogHeadRecovered(ILogger logger, long headSeq, long tailSeq);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Error, Message = "The audit log's signed head (seq {HeadSeq}) trails the newest event (seq {TailSeq}) and does not verify; left for verification to report.")]
    private static partial void LogHeadNotRecovered(ILogger logger, long headSeq, long tailSeq);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Error, Message = "Audit append failed to commit.")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4109, Level = LogLevel.Warning, Message = "Audit WAL checkpoint failed (SQLite error {ErrorCode}); it is retried later.")]
    private static partial void LogCheckpointFailed(ILogger logger, int errorCode);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Audit database probe failed (SQLite error {ErrorCode}).")]
    private static partial void LogProbeFailed(ILogger logger, int errorCode);

    /// <summary>A head signed twice: <see cref="BatchSignature"/> over its record's hash (the signature of every unsigned
    /// record up to it), <see cref="Signature"/> over the head itself.</summary>
    private sealed record SignedHead(AuditHead Head, string Signature, string BatchSignature)
    {
        public static SignedHead Sign(ECDsa key, AuditHead head) => new(
            head,
            SignHead(key, head),
            Base64Url.EncodeToString(key.SignHash(Convert.FromHexString(head.Hash), DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
    }

    private sealed class PendingAppend(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        public AuditEvent Event { get; } = auditEvent;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<AuditRecord> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
