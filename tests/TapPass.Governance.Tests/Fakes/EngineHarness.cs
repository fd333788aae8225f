using System.Text.Json;
using TapPass.Governance.Audit;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Governance.Providers;
using TapPass.Governance.State;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Governance.Tests.Fakes;

/// <summary>An engine over fakes, with keys for agents A and B (org acme), X (org other), an approver and an admin.</summary>
internal sealed class EngineHarness : IDisposable
{
    public const string AgentAUuid = "11111111-1111-4111-8111-111111111111";
    public const string AgentBUuid = "22222222-2222-4222-8222-222222222222";

    public EngineHarness(Action<TapPassEngineOptions>? configure = null, IAuditLog? audit = null, Func<EngineStores, EngineStores>? stores = null, bool useLocalModel = false)
    {
        Options = new TapPassEngineOptions
        {
            DefaultModel = useLocalModel ? "gpt-4o-mini" : "fake-model",
            DefaultProvider = useLocalModel ? "local" : "fake",
            RateLimitPerMinute = 6000,
            RateLimitBurst = 1000,
        };
        Options.Keys.Add(new TapPassApiKeyOptions { Key = KeyA, AgentId = "agent-a", AgentUuid = AgentAUuid, Org = "acme", TrustTier = "standard" });
        Options.Keys.Add(new TapPassApiKeyOptions { Key = KeyB, AgentId = "agent-b", AgentUuid = AgentBUuid, Org = "acme", TrustTier = "worker" });
        Options.Keys.Add(new TapPassApiKeyOptions { Key = KeyX, AgentId = "agent-x", Org = "other" });
        Options.Keys.Add(new TapPassApiKeyOptions { Key = ApproverKey, AgentId = "reviewer", Org = "acme", Roles = ["approver"] });
        Options.Keys.Add(new TapPassApiKeyOptions { Key = AdminKey, AgentId = "operator", Org = "acme", Roles = ["admin", "agent"] });
        configure?.Invoke(Options);
        Settings = EngineSettings.Create(Options);
        AuditLog = new InMemoryAuditLog(Time);
        var s = EngineStores.InMemory(Time);
        Stores = stores?.Invoke(s) ?? s;
        IModelProvider[] providers = useLocalModel ? [new LocalModelProvider()] : [Provider, new LocalModelProvider()];
        Engine = new GovernanceEngine(Settings, Inspector, new ProviderRouter(providers, Settings.DefaultProvider), audit ?? AuditLog, Stores, new ApiKeyStore(), Time);
    }

    public string KeyA { get; } = ApiKeyFormat.Generate();
    public string KeyB { get; } = ApiKeyFormat.Generate();
    public string KeyX { get; } = ApiKeyFormat.Generate();
    public string ApproverKey { get; } = ApiKeyFormat.Generate();
    public string AdminKey { get; } = ApiKeyFormat.Generate();

    public TapPassEngineOptions Options { get; }
    public EngineSettings Settings { get; }
    public ManualTimeProvider Time { get; } = new();
    public FakeInspector Inspector { get; } = new();
    public FakeProvider Provider { get; } = new();
    public InMemoryAuditLog AuditLog { get; }
    public EngineStores Stores { get; }
    public GovernanceEngine Engine { get; }

    public AgentIdentity Identity(string key)
    {
        Engine.TryAuthenticate(key, out var identity).Should().BeTrue();
        return identity;
    }

    public TapPassCall Call(string? flags = null, string? session = null, string? key = null) =>
        new() { ApiKey = key ?? KeyA, Flags = flags, SessionId = session };

    public static ChatCompletionRequest Request(params string[] userMessages) => new()
    {
        Messages = [.. userMessages.Select(m => ChatCompletionMessage.Create("user", m))],
    };

    public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(string message, string? flags = null, string? session = null, string? key = null) =>
        Engine.ChatAsync(Call(flags, session, key), Request(message), CancellationToken.None);

    public string AllAuditJson() =>
        string.Join("\n", AuditLog.Snapshot().Select(r => System.Text.Encoding.UTF8.GetString(InMemoryAuditLog.CanonicalEvent(r.Event))));

    public IReadOnlyList<AuditEvent> Events(string? type = null) =>
        [.. AuditLog.Snapshot().Select(r => r.Event).Where(e => type is null || e.EventType == type)];

    public static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    public void Dispose() => AuditLog.Dispose();
}
