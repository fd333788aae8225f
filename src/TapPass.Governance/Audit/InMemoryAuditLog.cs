using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;

namespace TapPass.Governance.Audit;

/// <summary>
/// An in-memory, hash-chained, signed <see cref="IAuditLog"/> for tests and for embedded mode without a database.
/// Each record's <c>hash</c> is the SHA-256 (hex) of the canonical JSON (sorted keys, no white space) of
/// <c>{"event": …, "prev_hash": …, "sequence": n}</c>; <c>signature</c> is an ES256 (P-256, SHA-256, IEEE P1363)
/// signature of the hash bytes, base64url. The key lives only in this process. Bounded: when
/// <c>maxEvents</c> is reached the oldest record is dropped and verification starts from the oldest kept record's
/// <c>prev_hash</c>. Appends are serialised by a lock, so they are complete when <see cref="AppendAsync"/> returns.
/// </summary>
internal sealed class InMemoryAuditLog : IAuditLog, IDisposable
{
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    private readonly TimeProvider _timeProvider;
    private readonly int _maxEvents;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly Lock _gate = new();
    private readonly Lock _keyGate = new();
    private readonly LinkedList<AuditRecord> _records = new();
    private readonly ArrayBufferWriter<byte> _hashBuffer = new(1024); // used under _gate
    private string _lastHash = GenesisHash;
    private long _sequence;

    public InMemoryAuditLog(TimeProvider? timeProvider = null, int maxEvents = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEvents);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _maxEvents = maxEvents;
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>A snapshot of every record, oldest first.</summary>
    public IReadOnlyList<AuditRecord> Snapshot()
    {
        lock (_gate)
        {
            return [.. _records];
        }
    }

    public ValueTask<AuditRecord> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        cancellationToken.ThrowIfCancellationRequested();
        var e = auditEvent with
        {
            EventId = string.IsNullOrEmpty(auditEvent.EventId) ? Ids.New(Ids.AuditEvent) : auditEvent.EventId,
            Timestamp = auditEvent.Timestamp == default ? _timeProvider.GetUtcNow() : auditEvent.Timestamp,
        };

        lock (_gate)
        {
            var sequence = _sequence + 1;
            _hashBuffer.ResetWrittenCount();
            var hash = Hash(_hashBuffer, e, _lastHash, sequence);
            var record = new AuditRecord(sequence, e, _lastHash, hash, Sign(hash));
            _records.AddLast(record);
            _sequence = sequence;
            _lastHash = hash;
            if (_records.Count > _maxEvents)
            {
                _records.RemoveFirst();
            }

            return ValueTask.FromResult(record);
        }
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 1000);
        long after = 0;
        if (query.Cursor is { Length: > 0 } cursor && !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw new ArgumentException("Invalid cursor.", nameof(query));
        }

        List<AuditRecord> page;
        bool more;
        lock (_gate)
        {
            var matches = _records.Where(r => r.Sequence > after &&
                                              (query.SessionId is null || r.Event.SessionId == query.SessionId) &&
                                              (query.AgentId is null || r.Event.AgentId == query.AgentId) &&
                                              (query.EventType is null || r.Event.EventType == query.EventType) &&
                                              (query.Since is null || r.Event.Timestamp >= query.Since));
            page = matches.Take(limit + 1).ToList();
        }

        more = page.Count > limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        return Task.FromResult(new AuditPage(page, more ? page[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null));
    }

    public Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        List<AuditRecord> records;
        lock (_gate)
        {
            records = [.. _records];
        }

        var expectedPrev = records.Count > 0 ? records[0].PrevHash : GenesisHash;
        long checkedCount = 0;
        foreach (var r in records)
        {
            var hash = Hash(new ArrayBufferWriter<byte>(1024), r.Event, r.PrevHash, r.Sequence);
            if (r.PrevHash != expectedPrev || hash != r.Hash || !Verify(r.Hash, r.Signature))
            {
                return Task.FromResult(new AuditVerification(false, checkedCount, r.Event.EventId));
            }

            expectedPrev = r.Hash;
            checkedCount++;
        }

        return Task.FromResult(new AuditVerification(true, checkedCount, null));
    }

    /// <summary>Canonical JSON of an event (what is hashed), for tests and exports.</summary>
    public static byte[] CanonicalEvent(AuditEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        AuditEventCanonicalWriter.Write(buffer, e);
        return buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _key.Dispose();

    private static string Hash(ArrayBufferWriter<byte> buffer, AuditEvent e, string prevHash, long sequence)
    {
        // SHA-256 of {"event":<canonical event>,"prev_hash":"…","sequence":n}, written in one buffer.
        buffer.Write("{\"event\":"u8);
        AuditEventCanonicalWriter.Write(buffer, e);
        buffer.Write(Encoding.UTF8.GetBytes($",\"prev_hash\":\"{prevHash}\",\"sequence\":{sequence.ToString(CultureInfo.InvariantCulture)}}}"));
        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private string Sign(string hash)
    {
        lock (_keyGate)
        {
            return Base64Url(_key.SignData(Convert.FromHexString(hash), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        }
    }

    private bool Verify(string hash, string signature)
    {
        try
        {
            lock (_keyGate)
            {
                return _key.VerifyData(Convert.FromHexString(hash), FromBase64Url(signature), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }
}
