using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using TapPass.Governance.Audit;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Audit;

public sealed class SqliteAuditLogTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tappass-audit-tests-" + Guid.NewGuid().ToString("N"));
    private SqliteAuditLog _log = null!;

    private string DatabasePath => Path.Combine(_directory, "audit.db");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _log = Open();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private SqliteAuditLog Open() =>
        SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = DatabasePath }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);

    private static AuditEvent Event(int i, string session = "ses_a", string agent = "agent-a", string type = "chat.completed") => new()
    {
        EventType = type,
        SessionId = session,
        AgentId = agent,
        Org = "acme",
        Decision = i % 2 == 0 ? "allow" : "block",
        Reason = "reason " + i,
        Flags = new Dictionary<string, string> { ["pii"] = "mask", ["mode"] = "enforce" },
        Detections = [new DetectionInfo { Step = "detect_pii", Type = "EMAIL", Start = i, Length = 5 }],
        Cost = new CostInfo { PromptTokens = i, CompletionTokens = 2, Usd = 0.000031m },
    };

    private async Task<List<AuditRecord>> AppendManyAsync(int count)
    {
        var records = new List<AuditRecord>();
        for (var i = 0; i < count; i++)
        {
            records.Add(await _log.AppendAsync(Event(i), CancellationToken.None));
        }

        return records;
    }

    private async Task TamperAsync(string sql)
    {
        await _log.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        _log = Open();
    }

    [Fact]
    public async Task Append_AssignsSequenceIdsTimestampAndChainsHashes()
    {
        var records = await AppendManyAsync(3);

        records.Select(r => r.Sequence).Should().Equal(1, 2, 3);
        records[0].PrevHash.Should().Be(AuditCanonicalJson.GenesisHash);
        records[1].PrevHash.Should().Be(records[0].Hash);
        records[2].PrevHash.Should().Be(records[1].Hash);
        records.Should().OnlyContain(r => r.Event.EventId.StartsWith("ae_") && r.Event.Timestamp != default);
        records.Select(r => r.Event.EventId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Append_HashIsSha256OfCanonicalJsonWithSeqAndPrevHash()
    {
        var record = await _log.AppendAsync(Event(7), CancellationToken.None);

        var json = JsonSerializer.SerializeToUtf8Bytes(record.Event, AuditJsonContext.Default.AuditEvent);
        using var doc = JsonDocument.Parse(json);
        var input = AuditCanonicalJson.HashInput(doc.RootElement, record.Sequence, record.PrevHash);
        var text = System.Text.Encoding.UTF8.GetString(input);

        text.Should().NotContain("\": ").And.NotContain(", \"").And.NotContain("\n").And.Contain("\"seq\":1").And.Contain("\"prev_hash\":\"000");
        text.IndexOf("\"agent_id\"", StringComparison.Ordinal).Should().BeLessThan(text.IndexOf("\"cost\"", StringComparison.Ordinal));
        Convert.ToHexStringLower(SHA256.HashData(input)).Should().Be(record.Hash);
    }

    [Fact]
    public async Task Signature_VerifiesWithThePublishedJwk()
    {
        var record = await _log.AppendAsync(Event(1), CancellationToken.None);
        var jwk = _log.PublicKey;
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.X), Y = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.Y) },
        });

        key.VerifyHash(Convert.FromHexString(record.Hash), System.Buffers.Text.Base64Url.DecodeFromChars(record.Signature), DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            .Should().BeTrue();
        jwk.Kty.Should().Be("EC");
        jwk.Alg.Should().Be("ES256");
        jwk.Kid.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task SigningKey_IsPersistedOwnerOnlyAndReusedOnReopen()
    {
        var kid = _log.PublicKey.Kid;
        var keyPath = DatabasePath + ".signing-key.pem";
        File.Exists(keyPath).Should().BeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(keyPath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await _log.DisposeAsync();
        _log = Open();
        _log.PublicKey.Kid.Should().Be(kid);
    }

    [Fact]
    public async Task Query_FiltersByFieldsAndPagesWithCursor()
    {
        for (var i = 0; i < 25; i++)
        {
            await _log.AppendAsync(Event(i, session: i % 5 == 0 ? "ses_b" : "ses_a", agent: i < 10 ? "agent-a" : "agent-b", type: i % 3 == 0 ? "tool.decided" : "chat.completed"), CancellationToken.None);
        }

        var seen = new List<AuditRecord>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _log.QueryAsync(new AuditQuery { SessionId = "ses_a", Limit = 7, Cursor = cursor }, CancellationToken.None);
            page.Records.Count.Should().BeLessThanOrEqualTo(7);
            seen.AddRange(page.Records);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        seen.Should().HaveCount(20).And.OnlyContain(r => r.Event.SessionId == "ses_a");
        seen.Select(r => r.Sequence).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        pages.Should().Be(3);

        (await _log.QueryAsync(new AuditQuery { AgentId = "agent-b", EventType = "tool.decided" }, CancellationToken.None))
            .Records.Should().HaveCount(5).And.OnlyContain(r => r.Event.AgentId == "agent-b" && r.Event.EventType == "tool.decided");
    }

    [Fact]
    public async Task Query_Since_ExcludesOlderEvents()
    {
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await _log.AppendAsync(Event(1) with { Timestamp = t0 }, CancellationToken.None);
        await _log.AppendAsync(Event(2) with { Timestamp = t0.AddMinutes(5) }, CancellationToken.None);

        var page = await _log.QueryAsync(new AuditQuery { Since = t0.AddMinutes(1) }, CancellationToken.None);

        page.Records.Should().ContainSingle().Which.Event.Timestamp.Should().Be(t0.AddMinutes(5));
    }

    [Fact]
    public async Task Query_LimitAbove1000_IsCappedAndBadCursorThrows()
    {
        await AppendManyAsync(2);
        (await _log.QueryAsync(new AuditQuery { Limit = 50_000 }, CancellationToken.None)).Records.Should().HaveCount(2);

        var act = () => _log.QueryAsync(new AuditQuery { Cursor = "not-a-cursor" }, CancellationToken.None);
        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Append_StoresNoContentUnlessSet()
    {
        await _log.AppendAsync(Event(1), CancellationToken.None);
        await _log.AppendAsync(Event(2) with { Content = "captured text" }, CancellationToken.None);

        var json = await ReadColumnAsync("SELECT group_concat(event_json, '|') FROM audit_events");

        json.Split('|')[0].Should().NotContain("content");
        json.Split('|')[1].Should().Contain("\"content\":\"captured text\"");
    }

    [Fact]
    public async Task Verify_IntactChain_IsVerified()
    {
        await AppendManyAsync(10);

        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Should().Be(new AuditVerification(true, 10, null));
    }

    [Fact]
    public async Task Verify_EmptyLog_IsVerified()
    {
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 0, null));
    }

    [Fact]
    public async Task Verify_EditedEventJson_ReportsThatEvent()
    {
        var records = await AppendManyAsync(6);

        await TamperAsync("UPDATE audit_events SET event_json = replace(event_json, 'reason 3', 'reason X') WHERE seq = 4");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[3].Event.EventId);
    }

    [Fact]
    public async Task Verify_EditedIndexedColumn_ReportsThatEvent()
    {
        var records = await AppendManyAsync(6);

        await TamperAsync("UPDATE audit_events SET session_id = 'ses_other' WHERE seq = 2");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[1].Event.EventId);
    }

    [Fact]
    public async Task Verify_DeletedRow_ReportsTheEventAfterTheGap()
    {
        var records = await AppendManyAsync(6);

        await TamperAsync("DELETE FROM audit_events WHERE seq = 3");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[3].Event.EventId);
    }

    [Fact]
    public async Task Verify_DeletedNewestRow_ReportsTheMissingEvent()
    {
        var records = await AppendManyAsync(4);

        await TamperAsync("DELETE FROM audit_events WHERE seq = 4");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[3].Event.EventId);
    }

    [Fact]
    public async Task Verify_SwappedSequenceNumbers_ReportsTheFirstMisplacedEvent()
    {
        var records = await AppendManyAsync(6);

        await TamperAsync("""
            UPDATE audit_events SET seq = -1 WHERE seq = 2;
            UPDATE audit_events SET seq = 2 WHERE seq = 5;
            UPDATE audit_events SET seq = 5 WHERE seq = -1;
            """);
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[4].Event.EventId, "the event originally at seq 5 now sits at seq 2");
    }

    [Fact]
    public async Task Verify_RecomputedHashWithoutKey_FailsOnSignature()
    {
        var records = await AppendManyAsync(1);
        var evt = records[0].Event with { Reason = "forged" };
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(evt, AuditJsonContext.Default.AuditEvent));
        var canonical = System.Text.Encoding.UTF8.GetString(AuditCanonicalJson.Canonicalize(doc.RootElement));
        var forgedHash = AuditCanonicalJson.Sha256Hex(AuditCanonicalJson.HashInput(doc.RootElement, 1, AuditCanonicalJson.GenesisHash));

        await TamperAsync($"UPDATE audit_events SET event_json = '{canonical.Replace("'", "''")}', hash = '{forgedHash}' WHERE seq = 1");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records[0].Event.EventId);
    }

    [Fact]
    public async Task ManyAppends_AreCheckpointedInTheBackgroundAndTheWalStaysBounded()
    {
        // Auto-checkpoints are off on the writer: without the background checkpointer and the writer's restart the WAL
        // would only grow (several pages per commit; 3000 commits are far beyond 40 MB).
        var records = await AppendManyAsync(3000);

        _log.CheckpointsRun.Should().BeGreaterThan(0, "a checkpoint is requested every {0} events", SqliteAuditLog.CheckpointEveryEvents);
        new FileInfo(DatabasePath + "-wal").Length.Should().BeLessThan(40L * 1024 * 1024, "the WAL starts over once the checkpoint has caught up");
        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeTrue();

        await _log.DisposeAsync();
        _log = Open();
        var verification = await _log.VerifyAsync(CancellationToken.None);
        verification.Verified.Should().BeTrue();
        verification.EventsChecked.Should().Be(records.Count);
    }

    [Fact]
    public async Task Open_DurabilityDefaultsToFsyncEveryCommit_NormalOnlyWhenAskedFor()
    {
        _log.WriterSynchronous().Should().Be(2, "synchronous=FULL is the default");

        await _log.DisposeAsync();
        _log = SqliteAuditLog.Open(new AuditLogOptions { DatabasePath = DatabasePath, Durability = AuditDurability.Normal }, TimeProvider.System, NullLogger<SqliteAuditLog>.Instance);
        _log.WriterSynchronous().Should().Be(1);
        await AppendManyAsync(3);
        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeTrue();
    }

    [Fact]
    public async Task ConcurrentAppends_AreAllDurableAndChainIntact()
    {
        const int Tasks = 16, PerTask = 1000 / Tasks + 1;
        var all = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            var mine = new List<AuditRecord>();
            for (var i = 0; i < PerTask; i++)
            {
                mine.Add(await _log.AppendAsync(Event(i, session: "ses_" + t), CancellationToken.None));
            }

            return mine;
        })));

        var records = all.SelectMany(r => r).ToList();
        records.Select(r => r.Sequence).Should().OnlyHaveUniqueItems();
        records.Max(r => r.Sequence).Should().Be(Tasks * PerTask);
        _log.BatchesCommitted.Should().BeLessThan(Tasks * PerTask, "concurrent appends share transactions (group commit)");

        // Durable: visible from a fresh connection after reopening the database.
        await _log.DisposeAsync();
        _log = Open();
        (await ReadColumnAsync("SELECT count(*) FROM audit_events")).Should().Be((Tasks * PerTask).ToString(System.Globalization.CultureInfo.InvariantCulture));
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, Tasks * PerTask, null));
    }

    [Fact]
    public async Task Reopen_ContinuesTheChain()
    {
        var before = await AppendManyAsync(3);
        await _log.DisposeAsync();
        _log = Open();

        var next = await _log.AppendAsync(Event(9), CancellationToken.None);

        next.Sequence.Should().Be(4);
        next.PrevHash.Should().Be(before[^1].Hash);
        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeTrue();
    }

    [Fact]
    public async Task Append_DuplicateEventId_FailsOnlyThatCall()
    {
        await _log.AppendAsync(Event(1) with { EventId = "ae_fixed" }, CancellationToken.None);

        var dup = _log.AppendAsync(Event(2) with { EventId = "ae_fixed" }, CancellationToken.None).AsTask();
        var ok = _log.AppendAsync(Event(3), CancellationToken.None).AsTask();

        await FluentActions.Awaiting(() => dup).Should().ThrowAsync<SqliteException>();
        (await ok).Sequence.Should().Be(2);
        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeTrue();
    }

    [Fact]
    public async Task Append_AlreadyCancelled_WritesNothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => _log.AppendAsync(Event(1), cts.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();

        (await _log.QueryAsync(new AuditQuery(), CancellationToken.None)).Records.Should().BeEmpty();
    }

    [Fact]
    public async Task Probe_IsTrueWhileOpenAndFalseAfterDispose()
    {
        (await _log.ProbeAsync(CancellationToken.None)).Should().BeTrue();
        await _log.DisposeAsync();
        (await _log.ProbeAsync(CancellationToken.None)).Should().BeFalse();
        _log = Open();
    }

    // ---- one signature per group commit -----------------------------------------------------------------------

    /// <summary>Appends <paramref name="count"/> events at once so that the writer commits them in multi-event batches.</summary>
    private async Task<AuditRecord[]> AppendBurstAsync(int count)
    {
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => _log.AppendAsync(Event(i), CancellationToken.None).AsTask()));

        // Signatures are written after the commit (see SqliteAuditLog remarks): read the records back, signed.
        var records = (await _log.QueryAsync(new AuditQuery { Limit = 1000 }, CancellationToken.None)).Records.TakeLast(count).ToArray();
        records.Should().HaveCount(count);
        records.Should().Contain(r => r.SignedSequence != null, "one signature covers several records of a burst");
        return records;
    }

    private ECDsa PublicKey()
    {
        var jwk = _log.PublicKey;
        return ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.X), Y = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.Y) },
        });
    }

    [Fact]
    public async Task GroupCommit_SignsEachBatchOnceOverItsLastHash()
    {
        var records = await AppendBurstAsync(300);
        using var key = PublicKey();
        var bySeq = records.ToDictionary(r => r.Sequence);

        foreach (var r in records)
        {
            var signed = r.SignedSequence is { } s ? bySeq[s] : r;
            signed.SignedSequence.Should().BeNull("the signed record signs itself");
            r.Signature.Should().Be(signed.Signature);
            signed.Sequence.Should().BeGreaterThanOrEqualTo(r.Sequence);
            key.VerifyHash(Convert.FromHexString(signed.Hash), System.Buffers.Text.Base64Url.DecodeFromChars(r.Signature), DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
                .Should().BeTrue();
        }

        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 300, null));
        var page = await _log.QueryAsync(new AuditQuery { Limit = 1000 }, CancellationToken.None);
        page.Records.Select(r => r.SignedSequence).Should().Equal(records.Select(r => r.SignedSequence));
    }

    [Fact]
    public async Task Verify_EditedEventInsideABatch_ReportsThatEvent()
    {
        var records = await AppendBurstAsync(300);
        var inside = records.First(r => r.SignedSequence is not null);

        await TamperAsync($"UPDATE audit_events SET event_json = replace(event_json, '\"decision\":\"', '\"decision\":\"x') WHERE seq = {inside.Sequence}");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(inside.Event.EventId);
    }

    [Fact]
    public async Task Verify_EventInsideABatchRehashedWithoutKey_FailsAtTheLatestAtTheBatchSignature()
    {
        var records = await AppendBurstAsync(300);
        var inside = records.First(r => r.SignedSequence is not null);
        var signedSeq = inside.SignedSequence!.Value;

        // The forger rewrites the event and every hash up to the batch's signed record, but cannot sign.
        var tamper = new System.Text.StringBuilder();
        var prev = inside.PrevHash;
        foreach (var r in records.Where(r => r.Sequence >= inside.Sequence && r.Sequence <= signedSeq))
        {
            var evt = r.Sequence == inside.Sequence ? r.Event with { Reason = "forged" } : r.Event;
            var canonical = Canonical(evt);
            var hash = AuditCanonicalJson.Sha256Hex(HashInput(evt, r.Sequence, prev));
            tamper.Append($"UPDATE audit_events SET event_json = '{canonical.Replace("'", "''")}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {r.Sequence};\n");
            prev = hash;
        }

        tamper.Append($"UPDATE audit_events SET prev_hash = '{prev}' WHERE seq = {signedSeq + 1};\n");
        await TamperAsync(tamper.ToString());
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records.Single(r => r.Sequence == signedSeq).Event.EventId);
    }

    [Fact]
    public async Task Verify_DeletedEventInsideABatch_ReportsTheEventAfterTheGap()
    {
        var records = await AppendBurstAsync(300);
        var inside = records.First(r => r.SignedSequence is not null);

        await TamperAsync($"DELETE FROM audit_events WHERE seq = {inside.Sequence}");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
        result.FirstBadEvent.Should().Be(records.Single(r => r.Sequence == inside.Sequence + 1).Event.EventId);
    }

    [Theory]
    [InlineData("NULL")]
    [InlineData("seq + 1000")]
    public async Task Verify_RewrittenSignedSeq_IsDetected(string value)
    {
        var records = await AppendBurstAsync(300);
        var inside = records.First(r => r.SignedSequence is not null);

        await TamperAsync($"UPDATE audit_events SET signed_seq = {value} WHERE seq = {inside.Sequence}");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
    }

    [Fact]
    public async Task Verify_SignedRecordOfABatchMarkedAsSignedLater_IsDetected()
    {
        var records = await AppendBurstAsync(300);
        var signed = records.First(r => r.SignedSequence is null && records.Any(o => o.SignedSequence == r.Sequence));

        await TamperAsync($"UPDATE audit_events SET signed_seq = {signed.Sequence + 1} WHERE seq = {signed.Sequence}");
        var result = await _log.VerifyAsync(CancellationToken.None);

        result.Verified.Should().BeFalse();
    }

    [Fact]
    public async Task Open_DatabaseWithoutSignedSeqColumn_AddsItAndStillVerifies()
    {
        // A database of the scheme before signed_seq held only self-signed records: a log's first commit is one.
        await _log.AppendAsync(Event(0), CancellationToken.None);
        (await ReadColumnAsync("SELECT count(*) FROM audit_events WHERE signed_seq IS NULL AND signature <> ''")).Should().Be("1");
        await TamperAsync("ALTER TABLE audit_events DROP COLUMN signed_seq");

        await AppendBurstAsync(100);

        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 101, null));
    }

    private static string Canonical(AuditEvent evt)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(evt, AuditJsonContext.Default.AuditEvent));
        return System.Text.Encoding.UTF8.GetString(AuditCanonicalJson.Canonicalize(doc.RootElement));
    }

    private static byte[] HashInput(AuditEvent evt, long seq, string prevHash)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(evt, AuditJsonContext.Default.AuditEvent));
        return AuditCanonicalJson.HashInput(doc.RootElement, seq, prevHash);
    }

    [Fact]
    public async Task Append_ToAnIdleLog_CommitsOnTheCallersThreadAndIsDurableAndVerified()
    {
        for (var i = 0; i < 5; i++)
        {
            await _log.AppendAsync(Event(i), CancellationToken.None);
            await Task.Delay(3); // the log goes idle between appends (far longer than SqliteAuditLog.InlineIdleGap)
        }

        _log.InlineCommits.Should().BeGreaterThan(0, "an append to an idle log has nothing to share a transaction with");
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 5, null));
        await _log.DisposeAsync();
        _log = Open();
        (await ReadColumnAsync("SELECT count(*) FROM audit_events")).Should().Be("5");
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 5, null));
    }

    [Fact]
    public async Task Head_OfAnIdleLog_IsWrittenAloneWithoutAnotherCommit()
    {
        await AppendManyAsync(3);

        var seq = 0L;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (seq != 3 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(10);
            seq = await StoredHeadSeqAsync();
        }

        seq.Should().Be(3, "the head signer writes the newest head once no commit carries it");
        _log.BatchesCommitted.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task Verify_BringsTheStoredHeadUpToTheNewestEventFirst()
    {
        await AppendManyAsync(4);

        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 4, null));
        (await StoredHeadSeqAsync()).Should().Be(4);
    }

    [Fact]
    public async Task Dispose_LeavesTheStoredHeadAtTheNewestEvent()
    {
        await AppendBurstAsync(50);
        await _log.AppendAsync(Event(50), CancellationToken.None);

        await _log.DisposeAsync();

        (await StoredHeadSeqAsync()).Should().Be(51);
        _log = Open();
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 51, null));
    }

    [Fact]
    public async Task Open_AfterAnUncleanShutdown_SignsTheTrailingHeadAgainAndRecordsTheRecovery()
    {
        await _log.AppendAsync(Event(0), CancellationToken.None); // a log's first commit writes its head itself
        var firstHead = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head'");
        var firstSignature = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head_signature'");
        await AppendManyAsync(2);

        // As if the process had ended before writing the heads of the last two commits.
        await TamperAsync($"UPDATE audit_meta SET value = '{firstHead}' WHERE key = 'head'; UPDATE audit_meta SET value = '{firstSignature}' WHERE key = 'head_signature'");

        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 4, null));
        var page = await _log.QueryAsync(new AuditQuery { Limit = 10 }, CancellationToken.None);
        var recovery = page.Records[^1];
        recovery.Sequence.Should().Be(4);
        recovery.Event.EventType.Should().Be("audit.head_recovered");
        recovery.Event.Details!["head_seq"].GetInt64().Should().Be(1);
        recovery.Event.Details["tail_seq"].GetInt64().Should().Be(3);
    }

    [Fact]
    public async Task Open_WithATrailingHeadThatDoesNotVerify_SignsNothingOverItAndVerificationFails()
    {
        await _log.AppendAsync(Event(0), CancellationToken.None);
        var firstHead = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head'");
        await AppendManyAsync(2);
        var newestSignature = await ReadColumnAsync("SELECT signature FROM audit_events WHERE seq = 1"); // a real signature, but not over this head

        await TamperAsync($"UPDATE audit_meta SET value = '{firstHead}' WHERE key = 'head'; UPDATE audit_meta SET value = '{newestSignature}' WHERE key = 'head_signature'");

        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeFalse();
        (await ReadColumnAsync("SELECT count(*) FROM audit_events")).Should().Be("3", "no recovery event is written over a head that does not hold");
        (await StoredHeadSeqAsync()).Should().Be(1);
    }

    [Fact]
    public async Task Verify_WithTheStoredHeadRemoved_FailsEvenThoughTheLogIsOpen()
    {
        await AppendManyAsync(3);

        await TamperAsync("DELETE FROM audit_meta");

        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeFalse();
    }

    [Fact]
    public async Task Append_AfterDispose_FailsWithObjectDisposed()
    {
        await _log.AppendAsync(Event(0), CancellationToken.None);
        await _log.DisposeAsync();
        await Task.Delay(3); // idle: the append would otherwise be committed on the caller's thread

        var append = async () => await _log.AppendAsync(Event(1), CancellationToken.None);

        await append.Should().ThrowAsync<ObjectDisposedException>();
        _log = Open();
    }

    [Fact]
    public async Task Query_WhileAppendsGoOn_ReturnsOnlySignedRecordsThatVerify()
    {
        using var key = PublicKey();
        using var stop = new CancellationTokenSource();
        var appender = Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                await _log.AppendAsync(Event(i++), CancellationToken.None);
            }
        });

        var seen = 0;
        for (var round = 0; round < 20; round++)
        {
            var page = await _log.QueryAsync(new AuditQuery { Limit = 1000 }, CancellationToken.None);
            var bySeq = page.Records.ToDictionary(r => r.Sequence);
            foreach (var r in page.Records)
            {
                r.Signature.Should().NotBeEmpty("a query shows a record only once it is signed");
                if (r.SignedSequence is { } s && !bySeq.ContainsKey(s))
                {
                    continue; // its signed record is past this page
                }

                var signed = r.SignedSequence is { } t ? bySeq[t] : r;
                key.VerifyHash(Convert.FromHexString(signed.Hash), System.Buffers.Text.Base64Url.DecodeFromChars(r.Signature), DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
                    .Should().BeTrue();
            }

            seen = page.Records.Count;
            await Task.Delay(2);
        }

        await stop.CancelAsync();
        await appender;
        seen.Should().BeGreaterThan(0);
        (await _log.VerifyAsync(CancellationToken.None)).Verified.Should().BeTrue();
    }

    [Fact]
    public async Task Open_AfterAnUncleanShutdownWithUnsignedRecords_SignsThemAndRecordsTheRecovery()
    {
        await _log.AppendAsync(Event(0), CancellationToken.None);
        var firstHead = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head'");
        var firstSignature = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head_signature'");
        await AppendManyAsync(2);

        // As if the process had ended after committing the last two records, before their signature was written.
        await TamperAsync($"UPDATE audit_events SET signature = '', signed_seq = NULL WHERE seq > 1; UPDATE audit_meta SET value = '{firstHead}' WHERE key = 'head'; UPDATE audit_meta SET value = '{firstSignature}' WHERE key = 'head_signature'");

        (await ReadColumnAsync("SELECT count(*) FROM audit_events WHERE signature = ''")).Should().Be("0");
        (await _log.VerifyAsync(CancellationToken.None)).Should().Be(new AuditVerification(true, 4, null));
        var page = await _log.QueryAsync(new AuditQuery { Limit = 10 }, CancellationToken.None);
        page.Records[^1].Event.EventType.Should().Be("audit.head_recovered");
        page.Records[^1].Event.Details!["head_seq"].GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task Verify_UnsignedRecordBeforeTheHead_IsDetected()
    {
        await AppendManyAsync(4);

        await TamperAsync("UPDATE audit_events SET signature = '', signed_seq = NULL WHERE seq = 2");

        var result = await _log.VerifyAsync(CancellationToken.None);
        result.Verified.Should().BeFalse();
    }

    [Fact]
    public async Task Append_AfterTheStoredHeadWasRemoved_NeverSignsAlreadySignedRecordsAgain()
    {
        await AppendManyAsync(3);
        await _log.DisposeAsync(); // everything signed
        _log = Open();
        var before = await ReadColumnAsync("SELECT group_concat(signature, ',') FROM (SELECT signature FROM audit_events ORDER BY seq)");

        await TamperAsync("DELETE FROM audit_meta");
        await _log.AppendAsync(Event(3), CancellationToken.None); // the first commit after open writes a head again
        await _log.DisposeAsync();
        _log = Open();

        var after = await ReadColumnAsync("SELECT group_concat(signature, ',') FROM (SELECT signature FROM audit_events WHERE seq <= 3 ORDER BY seq)");
        after.Should().Be(before, "records signed before the log was opened keep their signatures");
        (await ReadColumnAsync("SELECT count(*) FROM audit_events WHERE signature = ''")).Should().Be("0");
    }

    private async Task<long> StoredHeadSeqAsync()
    {
        var head = await ReadColumnAsync("SELECT value FROM audit_meta WHERE key = 'head'");
        using var document = JsonDocument.Parse(head);
        return document.RootElement.GetProperty("seq").GetInt64();
    }

    private async Task<string> ReadColumnAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
