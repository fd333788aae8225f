using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TapPass.Governance.Engine;
using TapPass.Governance.Identity;
using TapPass.Server;

namespace TapPass.Gateway.Tests.EndToEnd;

/// <summary>An API key configured on the test server and the identity it maps to.</summary>
internal sealed record TestKey(string Key, string AgentId, string Org)
{
    public string AgentUuid => EngineSettings.DeriveAgentUuid(Org, AgentId);
}

/// <summary>
/// The real gateway host (TapPass.Server's Program → serve → ServerComposition) with the real engine, a temporary
/// SQLite audit database, configured keys and approval rules, and the test detection layer (<see cref="TestDetection"/>).
/// Every setting goes through configuration, as an operator would set it.
/// </summary>
public sealed class TapPassServer : WebApplicationFactory<Program>
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tappass-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _settings;

    public TapPassServer()
        : this(configureKeys: true)
    {
    }

    internal TapPassServer(bool configureKeys, IReadOnlyDictionary<string, string?>? extra = null)
    {
        Directory.CreateDirectory(_directory);
        Agent = new TestKey(ApiKeyFormat.Generate(), "support-bot", "acme");
        OtherAgent = new TestKey(ApiKeyFormat.Generate(), "other-bot", "acme");
        Approver = new TestKey(ApiKeyFormat.Generate(), "reviewer", "acme");
        HaltAgent = new TestKey(ApiKeyFormat.Generate(), "bg-bot", "bg");
        HaltAdmin = new TestKey(ApiKeyFormat.Generate(), "bg-ops", "bg");
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["TapPass:Audit:Path"] = AuditPath,
            ["TapPass:Gateway:ApprovalRules:0:Name"] = "deletes",
            ["TapPass:Gateway:ApprovalRules:0:Tool"] = "delete_*",
            ["TapPass:Gateway:ApprovalRules:1:Name"] = "restricted",
            ["TapPass:Gateway:ApprovalRules:1:MinClassification"] = "RESTRICTED",
        };
        if (configureKeys)
        {
            AddKey(0, Agent, "standard", "agent");
            AddKey(1, OtherAgent, "standard", "agent");
            AddKey(2, Approver, "standard", "approver");
            AddKey(3, HaltAgent, "standard", "agent");
            AddKey(4, HaltAdmin, "full", "admin");
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    /// <summary>Agent key (org acme, tier standard).</summary>
    internal TestKey Agent { get; }

    /// <summary>A second agent of org acme.</summary>
    internal TestKey OtherAgent { get; }

    /// <summary>Approver key of org acme (no agent role).</summary>
    internal TestKey Approver { get; }

    /// <summary>Agent of org bg (break-glass tests halt only that org).</summary>
    internal TestKey HaltAgent { get; }

    /// <summary>Admin key of org bg (no agent role).</summary>
    internal TestKey HaltAdmin { get; }

    public string AuditPath => Path.Combine(_directory, "audit.db");

    internal GovernanceEngine Engine => Services.GetRequiredService<GovernanceEngine>();

    internal static HttpRequestMessage Request(HttpMethod method, string path, string? key, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    internal static string ChatBody(string content, bool stream = false) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = "gpt-4o-mini",
        ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = content } },
        ["stream"] = stream,
    });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders());
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private void AddKey(int index, TestKey key, string tier, string role)
    {
        var prefix = $"TapPass:Gateway:Keys:{index}:";
        _settings[prefix + "Key"] = key.Key;
        _settings[prefix + "AgentId"] = key.AgentId;
        _settings[prefix + "Org"] = key.Org;
        _settings[prefix + "TrustTier"] = tier;
        _settings[prefix + "Roles:0"] = role;
    }
}
