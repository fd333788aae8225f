using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TapPass.AspNetCore.Tests.Fakes;
using TapPass.Governance;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.AspNetCore.Tests.Samples;

/// <summary>
/// The sample app of samples/MinimalApi on its real embedded engine, configured by its own appsettings.json, in the
/// Development environment (where its operator endpoints are mapped).
/// </summary>
public class SampleFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // No gateway URL, whatever the machine's environment says: the sample must run on the embedded engine.
        builder.UseSetting("TapPass:Url", "");
        builder.UseSetting("TAPPASS_URL", "");
        builder.UseEnvironment("Development");
    }

    /// <summary>The embedded engine's operator view (audit log, approvals, break-glass, keys).</summary>
    public TapPassEmbeddedOperator Operator => Services.GetRequiredService<TapPassEmbeddedOperator>();
}

/// <summary>The sample with a clock the test moves, and a second agent ("agent-b", same org) with its own API key.</summary>
public sealed class ClockedSampleFactory : SampleFactory
{
    /// <summary>Agent B's key (any string works as a configured key's SHA-256; it never reaches a format check).</summary>
    public const string AgentBKey = "tp_sampletests_agent_b_key";

    public const string AgentBUuid = "0b0b0b0b-0000-4000-8000-00000000000b";

    internal FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("TapPass:Gateway:Keys:0:KeySha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AgentBKey))));
        builder.UseSetting("TapPass:Gateway:Keys:0:AgentId", "agent-b");
        builder.UseSetting("TapPass:Gateway:Keys:0:AgentUuid", AgentBUuid);
        builder.UseSetting("TapPass:Gateway:Keys:0:Org", "local");
        builder.UseSetting("TapPass:Gateway:Keys:0:TrustTier", "full");
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    /// <summary>An SDK agent acting as agent B, over the same in-process engine.</summary>
    public TapPassAgent AgentB() => new(
        new TapPassAgentOptions { ApiKey = AgentBKey, MaxRetries = 0 },
        Services.GetRequiredService<ITapPassTransport>());
}

/// <summary>The sample with <c>RespectBreakGlass</c> and <c>RaiseOnRedaction</c> turned on (TapPass:… settings).</summary>
public sealed class StrictSampleFactory : SampleFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("TapPass:RespectBreakGlass", "true");
        builder.UseSetting("TapPass:RaiseOnRedaction", "true");
    }
}

/// <summary>The sample whose agents cannot reach governance: the transport is swapped for one that is down.</summary>
public sealed class UnreachableSampleFactory : SampleFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<ITapPassTransport, DownTransport>());
    }

    private sealed class DownTransport : ITapPassTransport
    {
        private static Task<T> Down<T>() => Task.FromException<T>(new TapPassConnectionException("Connection refused (test transport)."));

        public Task<TapPassReply<HealthResponse>> GetHealthAsync(CancellationToken cancellationToken) => Down<TapPassReply<HealthResponse>>();

        public Task<TapPassReply<ChatCompletionResponse>> ChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) => Down<TapPassReply<ChatCompletionResponse>>();

        public Task<TapPassStreamReply> StreamChatAsync(TapPassCall call, ChatCompletionRequest request, CancellationToken cancellationToken) => Down<TapPassStreamReply>();

        public Task<TapPassReply<GovernResponse>> GovernAsync(TapPassCall call, GovernRequest request, CancellationToken cancellationToken) => Down<TapPassReply<GovernResponse>>();

        public Task<TapPassReply<ExecutionReportResponse>> ReportExecutionAsync(TapPassCall call, ExecutionReport report, CancellationToken cancellationToken) => Down<TapPassReply<ExecutionReportResponse>>();

        public Task<TapPassReply<SessionResponse>> OpenSessionAsync(TapPassCall call, SessionCreateRequest request, CancellationToken cancellationToken) => Down<TapPassReply<SessionResponse>>();

        public Task<TapPassReply<SessionResponse>> CloseSessionAsync(TapPassCall call, string sessionId, CancellationToken cancellationToken) => Down<TapPassReply<SessionResponse>>();
    }
}

/// <summary>Requests and assertions shared by the sample's end-to-end tests.</summary>
internal static class SampleHttp
{
    public const string Iban = "NL91ABNA0417164300";

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body, string? sessionId = null, string? resumeToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (sessionId is not null)
        {
            request.Headers.Add("X-TapPass-Session-Id", sessionId);
        }

        if (resumeToken is not null)
        {
            request.Headers.Add("X-TapPass-Resume-Token", resumeToken);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> ChatAsync(HttpClient client, string prompt, string? flags = null) =>
        PostAsync(client, "/chat", new { prompt, flags });

    public static Task<HttpResponseMessage> TransferAsync(HttpClient client, decimal amount, string? sessionId = null, string? resumeToken = null) =>
        PostAsync(client, "/tools/transfer-funds", new { account = Iban, amount }, sessionId, resumeToken);

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>
    /// Asserts a TapPass ProblemDetails: status, <c>application/problem+json</c>, the <c>type</c> URI, <c>instance</c>,
    /// and the correlation extensions every governance decision carries (agent uuid, pipeline run, trace id; session
    /// and audit page when the decision was taken in a session). Returns the body.
    /// </summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type, string instance, bool inSession = true)
    {
        var body = await JsonAsync(response);
        response.StatusCode.Should().Be(status, body.ToString());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        body.GetProperty("type").GetString().Should().Be(type);
        body.GetProperty("status").GetInt32().Should().Be((int)status);
        body.GetProperty("title").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("detail").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("instance").GetString().Should().Be(instance);
        body.GetProperty("agent_uuid").GetString().Should().Be(SampleIds.EmbeddedAgentUuid);
        body.GetProperty("pipeline_uuid").GetString().Should().StartWith("pl_");
        Errors.TraceIdMemberTests.TraceIdMembers(body).Should().Equal(["trace_id"], "one trace id, spelled by the sample's snake_case policy like its other members");
        body.GetProperty("trace_id").GetString().Should().NotBeNullOrEmpty();
        response.Headers.GetValues("X-TapPass-Agent-Uuid").Should().Equal(SampleIds.EmbeddedAgentUuid);
        if (inSession)
        {
            var session = body.GetProperty("session_id").GetString();
            session.Should().StartWith("ses_");
            body.GetProperty("audit_url").GetString().Should().Be($"http://localhost:5080/audit/sessions/{session}");
            response.Headers.GetValues("X-TapPass-Session-Id").Should().Equal(session);
        }

        return body;
    }

    /// <summary>Every audit event of a session, oldest first, read from the embedded engine.</summary>
    public static async Task<IReadOnlyList<TapPassAuditEntry>> AuditAsync(SampleFactory factory, string? sessionId = null)
    {
        var entries = new List<TapPassAuditEntry>();
        string? cursor = null;
        do
        {
            var page = await factory.Operator.ReadAuditAsync(new TapPassAuditFilter { SessionId = sessionId, Limit = 1000, Cursor = cursor });
            entries.AddRange(page.Entries);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return entries;
    }

    /// <summary>The audit events of one pipeline run (the <c>pipeline_uuid</c> of a problem).</summary>
    public static async Task<IReadOnlyList<TapPassAuditEntry>> AuditOfRunAsync(SampleFactory factory, string pipelineUuid) =>
        [.. (await AuditAsync(factory)).Where(e => e.PipelineUuid == pipelineUuid)];

    /// <summary>Asserts that no stored event (as JSON) contains any of <paramref name="values"/>.</summary>
    public static void ShouldNotContainValues(IEnumerable<TapPassAuditEntry> entries, params string[] values)
    {
        foreach (var entry in entries)
        {
            var json = entry.Event.GetRawText();
            foreach (var value in values)
            {
                json.Should().NotContain(value, $"audit event {entry.EventType} must hold metadata only");
            }
        }
    }

    public static string Detail(TapPassAuditEntry entry, string name) =>
        entry.Event.GetProperty("details").GetProperty(name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : entry.Event.GetProperty("details").GetProperty(name).GetRawText();
}

internal static class SampleIds
{
    /// <summary>The embedded identity's uuid (TapPassEngineOptions.EmbeddedIdentity default; the sample keeps it).</summary>
    public const string EmbeddedAgentUuid = "00000000-0000-4000-8000-00000000e001";
}

/// <summary>Capability tokens as a governed tool of the sample sees them (<see cref="TapPassToolContext.Current"/>).</summary>
internal static class CapabilityTokens
{
    /// <summary>Runs an allowed <c>send_email</c> through the sample's own agent and returns the token the tool received.</summary>
    public static async Task<(string Token, string Session)> SendEmailAsync(SampleFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var agent = scope.ServiceProvider.GetRequiredService<ITapPassAgent>();
        TapPassToolContext? seen = null;
        var sendEmail = agent.Govern(
            (string to, string subject, string body) =>
            {
                seen = TapPassToolContext.Current;
                return Task.FromResult("sent");
            },
            new TapPassToolOptions { Name = "send_email" });

        (await sendEmail("team@example.com", "Status", "All green.")).Should().Be("sent");

        seen.Should().NotBeNull();
        seen!.Outcome.Should().Be("allow");
        seen.CapabilityToken.Should().NotBeNullOrEmpty();
        return (seen.CapabilityToken!, seen.SessionId!);
    }
}
