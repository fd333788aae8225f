using System.Collections.Concurrent;
using System.ComponentModel;
using TapPass;

namespace MinimalApi;

/// <summary>
/// The sample's tools: plain methods with no TapPass code in them. Program.cs wraps them with
/// <c>agent.Govern(...)</c>, so the gateway decides every call before it runs. A method's name is its tool name
/// (<c>SendEmailAsync</c> → <c>send_email</c>); its <c>[Description]</c> and parameters are the tool's definition.
/// Nothing leaves the process: mail, money and records live in memory.
/// </summary>
public sealed class SampleTools(Outbox outbox, Ledger ledger, RecordStore records, DocumentStore documents)
{
    /// <summary>Tool <c>send_email</c>.</summary>
    [Description("Sends an e-mail.")]
    public Task<EmailReceipt> SendEmailAsync(string to, string subject, string body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        outbox.Send(new Email(to, subject, body));
        return Task.FromResult(new EmailReceipt("sent", to, subject, Governed()));
    }

    /// <summary>Tool <c>transfer_funds</c>.</summary>
    [Description("Transfers an amount in EUR to an account.")]
    public Task<TransferReceipt> TransferFundsAsync(string account, decimal amount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var id = ledger.Book(account, amount);
        return Task.FromResult(new TransferReceipt("transferred", id, account, amount, Governed()));
    }

    /// <summary>Tool <c>delete_records</c>.</summary>
    [Description("Deletes every record of a table.")]
    public Task<DeleteReceipt> DeleteRecordsAsync(string table, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new DeleteReceipt("deleted", table, records.DeleteAll(table), Governed()));
    }

    /// <summary>Tool <c>read_file</c>.</summary>
    [Description("Reads a document of the sample's document store.")]
    public Task<FileContent> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new FileContent(path, documents.Read(path), Governed()));
    }

    // While a governed tool runs, TapPassToolContext.Current holds the gateway's decision: its pipeline run, its session
    // and a capability token (a short-lived ES256 token scoped to this call) that a downstream service can verify
    // against the gateway's /.well-known/jwks.json.
    private static GovernedBy Governed() =>
        TapPassToolContext.Current is { } decision
            ? new GovernedBy(decision.Outcome, decision.PipelineUuid, decision.SessionId)
            : new GovernedBy(null, null, null);
}

/// <summary>The governance decision a tool ran under.</summary>
public sealed record GovernedBy(string? Outcome, string? PipelineUuid, string? SessionId);

/// <summary>An e-mail.</summary>
public sealed record Email(string To, string Subject, string Body);

/// <summary>Result of <c>send_email</c>.</summary>
public sealed record EmailReceipt(string Status, string To, string Subject, GovernedBy Governance);

/// <summary>Result of <c>transfer_funds</c>.</summary>
public sealed record TransferReceipt(string Status, string TransferId, string Account, decimal Amount, GovernedBy Governance);

/// <summary>Result of <c>delete_records</c>.</summary>
public sealed record DeleteReceipt(string Status, string Table, int Deleted, GovernedBy Governance);

/// <summary>Result of <c>read_file</c>.</summary>
public sealed record FileContent(string Path, string? Text, GovernedBy Governance);

/// <summary>Where the sample "sends" mail.</summary>
public sealed class Outbox
{
    private readonly ConcurrentQueue<Email> _sent = new();

    /// <summary>Mail sent so far.</summary>
    public IReadOnlyCollection<Email> Sent => _sent;

    /// <summary>Sends (records) one mail.</summary>
    public void Send(Email email) => _sent.Enqueue(email);
}

/// <summary>A booked transfer.</summary>
public sealed record Transfer(string Id, string Account, decimal Amount);

/// <summary>Where the sample "moves" money.</summary>
public sealed class Ledger
{
    private readonly ConcurrentQueue<Transfer> _transfers = new();
    private int _next;

    /// <summary>Transfers booked so far.</summary>
    public IReadOnlyCollection<Transfer> Transfers => _transfers;

    /// <summary>Books a transfer and returns its id.</summary>
    public string Book(string account, decimal amount)
    {
        var id = "trf_" + Interlocked.Increment(ref _next);
        _transfers.Enqueue(new Transfer(id, account, amount));
        return id;
    }
}

/// <summary>A few in-memory tables.</summary>
public sealed class RecordStore
{
    private readonly ConcurrentDictionary<string, int> _rows = new(StringComparer.OrdinalIgnoreCase)
    {
        ["customers"] = 3,
        ["orders"] = 12,
    };

    /// <summary>Rows of <paramref name="table"/> (0 when there is no such table).</summary>
    public int Count(string table) => _rows.GetValueOrDefault(table);

    /// <summary>Deletes every row of <paramref name="table"/> and returns how many there were.</summary>
    public int DeleteAll(string table) => _rows.TryGetValue(table, out var n) && _rows.TryUpdate(table, 0, n) ? n : 0;
}

/// <summary>A few in-memory documents.</summary>
public sealed class DocumentStore
{
    private readonly Dictionary<string, string> _documents = new(StringComparer.Ordinal)
    {
        ["docs/handbook.md"] = "# Handbook\nBe kind. Ship small changes.",
        ["docs/holidays.md"] = "# Holidays\n25 days a year.",
    };

    /// <summary>The text of <paramref name="path"/>, or null when there is no such document.</summary>
    public string? Read(string path) => _documents.GetValueOrDefault(path);
}
