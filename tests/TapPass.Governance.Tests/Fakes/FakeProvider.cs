using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TapPass.Governance.Pipeline;
using TapPass.Governance.Providers;
using TapPass.Protocol;

namespace TapPass.Governance.Tests.Fakes;

/// <summary>A scripted model: answers with <see cref="Answer"/>, records every request, streams in chosen pieces.</summary>
internal sealed class FakeProvider : IModelProvider
{
    public ConcurrentQueue<ProviderRequest> Requests { get; } = new();

    public string Name { get; init; } = "fake";

    public IReadOnlyList<string> Models { get; init; } = ["fake-model"];

    /// <summary>The answer text (default: echo of the last user message as the model saw it).</summary>
    public Func<ProviderRequest, string> Answer { get; set; } = r => "You said: " + (r.Messages.LastOrDefault(m => m.Role == "user")?.Content ?? "");

    public Func<ProviderRequest, IReadOnlyList<ToolCall>>? ToolCalls { get; set; }

    /// <summary>How to split a streamed answer (default: 7-character pieces).</summary>
    public Func<string, IEnumerable<string>> Split { get; set; } = s => s.Chunk(7).Select(c => new string(c));

    public Exception? Throw { get; set; }

    /// <summary>Throw after this many streamed pieces.</summary>
    public int? ThrowAfterPieces { get; set; }

    /// <summary>When set, calls wait for it.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public int PromptTokens { get; set; } = 1000;

    public int CompletionTokens { get; set; } = 500;

    public async Task<ProviderResult> CompleteAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Throw is { } ex)
        {
            throw ex;
        }

        var calls = ToolCalls?.Invoke(request) ?? [];
        return new ProviderResult
        {
            Model = request.Model,
            Content = calls.Count > 0 ? "" : Answer(request),
            ToolCalls = calls,
            FinishReason = calls.Count > 0 ? "tool_calls" : "stop",
            PromptTokens = PromptTokens,
            CompletionTokens = CompletionTokens,
        };
    }

    public async IAsyncEnumerable<ProviderStreamUpdate> StreamAsync(ProviderRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (Throw is { } ex && ThrowAfterPieces is null)
        {
            throw ex;
        }

        var calls = ToolCalls?.Invoke(request) ?? [];
        var pieces = 0;
        foreach (var piece in calls.Count > 0 ? [] : Split(Answer(request)))
        {
            if (ThrowAfterPieces is { } n && pieces++ == n)
            {
                throw Throw ?? new ProviderException(Name, "mid-stream failure", false);
            }

            await Task.Yield();
            yield return new ProviderStreamUpdate { ContentDelta = piece };
        }

        for (var i = 0; i < calls.Count; i++)
        {
            var args = calls[i].Function.Arguments;
            yield return new ProviderStreamUpdate { ToolCalls = [new ToolCallDelta { Index = i, Id = calls[i].Id, Type = "function", Function = new FunctionCallDelta { Name = calls[i].Function.Name, Arguments = args[..(args.Length / 2)] } }] };
            yield return new ProviderStreamUpdate { ToolCalls = [new ToolCallDelta { Index = i, Function = new FunctionCallDelta { Arguments = args[(args.Length / 2)..] } }] };
        }

        yield return new ProviderStreamUpdate { FinishReason = calls.Count > 0 ? "tool_calls" : "stop", PromptTokens = PromptTokens, CompletionTokens = CompletionTokens };
    }
}

/// <summary>A clock the test moves.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public ManualTimeProvider() : this(new DateTimeOffset(2025, 3, 14, 9, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>An audit log that fails every append.</summary>
internal sealed class FailingAuditLog : TapPass.Governance.Audit.IAuditLog
{
    public ValueTask<TapPass.Governance.Audit.AuditRecord> AppendAsync(TapPass.Governance.Audit.AuditEvent auditEvent, CancellationToken cancellationToken) =>
        ValueTask.FromException<TapPass.Governance.Audit.AuditRecord>(new IOException("disk full"));

    public Task<TapPass.Governance.Audit.AuditPage> QueryAsync(TapPass.Governance.Audit.AuditQuery query, CancellationToken cancellationToken) => Task.FromResult(new TapPass.Governance.Audit.AuditPage([], null));

    public Task<TapPass.Governance.Audit.AuditVerification> VerifyAsync(CancellationToken cancellationToken) => Task.FromResult(new TapPass.Governance.Audit.AuditVerification(true, 0, null));
}

/// <summary>A rate-limit store that always throws (for degraded-mode tests).</summary>
internal sealed class ThrowingRateLimitStore : TapPass.Governance.State.IRateLimitStore
{
    public ValueTask<TapPass.Governance.State.RateLimitLease> TryAcquireAsync(string key, TapPass.Governance.State.RateLimitRule rule, DateTimeOffset now, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("store down");
}
