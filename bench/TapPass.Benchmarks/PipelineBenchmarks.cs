using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Benchmarks;

/// <summary>
/// One governed chat, in process: <see cref="EmbeddedTransport.ChatAsync"/> over the engine with every default step
/// (normalise, PII, secrets, injection, exfiltration, classification, tool integrity, trust tier, approval, budget;
/// rate limiting off), the offline <c>local</c> model and an in-memory hash-chained, ES256-signed audit log. The prompt
/// is English prose of exactly <see cref="Kb"/> KB (ASCII) with an e-mail address and a phone number every ~1 KB, sent
/// with <c>pii=mask</c>, so the masker runs too. Calls join one session, as an agent's conversation does.
/// The extra columns show linear growth: µs/KB and allocated bytes/KB stay flat from 2 KB up, and Alloc/Input (allocated
/// bytes per prompt byte) stays well under the 100× limit.
/// Run: <c>dotnet run -c Release --project bench/TapPass.Benchmarks -- --filter *PipelineBenchmarks* --job short</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SizeScalingConfig))]
public class PipelineBenchmarks
{
    private ServiceProvider _services = null!;
    private EmbeddedTransport _transport = null!;
    private ChatCompletionRequest _request = null!;
    private TapPassCall _call = null!;

    /// <summary>Prompt size in KB (1024 bytes of UTF-8).</summary>
    [Params(0.5, 2.0, 16.0, 128.0)]
    public double Kb { get; set; } = 2;

    [GlobalSetup]
    public void Setup()
    {
        (_services, _transport) = EngineFactory.Create();
        _request = new ChatCompletionRequest
        {
            Model = "gpt-4o-mini",
            Messages = [new ChatCompletionMessage { Role = "user", Content = PromptTexts.Prose((int)(Kb * 1024)) }],
        };
        _call = EngineFactory.OpenSession(_transport, "pii=mask");
        _ = Chat().GetAwaiter().GetResult(); // warm the session and check the answer
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark]
    public async Task<int> Chat()
    {
        var reply = await _transport.ChatAsync(_call, _request, CancellationToken.None).ConfigureAwait(false);
        if (reply.StatusCode != 200 || reply.Value is null)
        {
            throw new InvalidOperationException($"Chat answered {reply.StatusCode} {reply.Error?.Type}.");
        }

        return reply.Value.Tappass!.Redactions.Count;
    }
}

/// <summary>Builds an engine the way <c>AddTapPassEngine</c> does, for benchmarks.</summary>
internal static class EngineFactory
{
    /// <summary>An engine with rate limiting off and a bounded in-memory audit log (or <paramref name="audit"/>).</summary>
    public static (ServiceProvider Services, EmbeddedTransport Transport) Create(IAuditLog? audit = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(audit ?? new InMemoryAuditLog(TimeProvider.System, maxEvents: 10_000));
        services.AddTapPassEngine(o => o.RateLimitPerMinute = 0);
        var provider = services.BuildServiceProvider();
        return (provider, new EmbeddedTransport(provider.GetRequiredService<GovernanceEngine>()));
    }

    /// <summary>Opens a session and returns a call that joins it with <paramref name="flags"/>.</summary>
    public static TapPassCall OpenSession(EmbeddedTransport transport, string? flags)
    {
        var session = transport.OpenSessionAsync(new TapPassCall(), new SessionCreateRequest(), CancellationToken.None).GetAwaiter().GetResult();
        return new TapPassCall { SessionId = session.Value?.SessionId ?? throw new InvalidOperationException("No session."), Flags = flags };
    }
}

/// <summary>Deterministic prompts of an exact size.</summary>
internal static class PromptTexts
{
    private static readonly string[] Pii =
    [
        " Please forward it to ava.dumont@ostara.be today.",
        " Call me back on +32 470 12 34 56 after lunch.",
        " The customer, noah.berg@posteo.de, asked twice.",
        " Reach the desk at (737) 607-5253 if needed.",
    ];

    /// <summary>ASCII prose of exactly <paramref name="bytes"/> characters, with a PII sentence every ~1 KB.</summary>
    public static string Prose(int bytes)
    {
        var prose = BenchTexts.Get("prose");
        var sb = new StringBuilder(bytes + 128);
        var source = 0;
        var next = 0;
        while (sb.Length < bytes)
        {
            if (sb.Length >= next)
            {
                sb.Append(Pii[next / 1024 % Pii.Length]);
                next += 1024;
            }

            var take = Math.Min(256, prose.Length - source);
            sb.Append(prose, source, take);
            source = (source + take) % prose.Length;
        }

        sb.Length = bytes;
        return sb.ToString();
    }
}
