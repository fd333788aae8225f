using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Tools;

/// <summary>Shared set-up of the tool tests: a gateway that allows and records, an agent, and call counters.</summary>
internal static class ToolKit
{
    public const string Secret = "SECRET-RESULT-7f3a9c";

    /// <summary>A gateway whose /v1/govern allows (unless scripted) and whose /v1/govern/execution records.</summary>
    public static FakeGateway Gateway(string outcome = "allow", Action<JsonObject>? extra = null) => new()
    {
        Govern = Responses.Decision(outcome, extra),
        Execution = Responses.ExecutionRecorded(),
    };

    public static TapPassAgent Agent(FakeGateway gateway, Action<TapPassAgentOptions>? configure = null, TimeProvider? time = null, ILoggerFactory? loggerFactory = null) =>
        TestAgents.Create(gateway, o =>
        {
            o.MaxRetries = 0;
            configure?.Invoke(o);
        }, time: time, loggerFactory: loggerFactory);

    public static JsonNode Args(this RecordedRequest request) => request.Json["payload"]!["args"]!;
}

/// <summary>Tools with observable side effects.</summary>
internal sealed class Mailer
{
    private int _sent;

    public int Sent => Volatile.Read(ref _sent);

    public List<(string To, string Subject)> Calls { get; } = [];

    public Task<bool> SendEmailAsync(string to, string subject)
    {
        Interlocked.Increment(ref _sent);
        lock (Calls)
        {
            Calls.Add((to, subject));
        }

        return Task.FromResult(true);
    }
}
