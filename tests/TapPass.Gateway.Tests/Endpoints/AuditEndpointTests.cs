using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TapPass.Gateway.Http;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Governance.Audit;
using TapPass.Protocol;

namespace TapPass.Gateway.Tests.Endpoints;

public sealed class AuditEndpointTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await GatewayHost.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await _host.Audit.AppendAsync(new AuditEvent { EventType = "chat.completed", Org = "acme", AgentId = "agent-a", SessionId = "ses_1", Decision = "allow", Reason = "turn " + i }, CancellationToken.None);
        }

        await _host.Audit.AppendAsync(new AuditEvent { EventType = "chat.blocked", Org = "acme", AgentId = "agent-b", SessionId = "ses_1", Decision = "block", BlockedBy = "detect_pii", Reason = "<script>alert('x')</script>" }, CancellationToken.None);
        await _host.Audit.AppendAsync(new AuditEvent { EventType = "tool.decided", Org = "acme", AgentId = "agent-b", SessionId = "ses_2", Tool = "send_email" }, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> Get(string path, string? key = FakeAdmin.AdminKey) =>
        _host.Client.SendAsync(_host.Request(HttpMethod.Get, path, key: key));

    private static async Task<AuditListResponse> List(HttpResponseMessage response) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), GatewayJsonContext.Default.AuditListResponse)!;

    [Fact]
    public async Task Audit_AdminQueriesWithFiltersAndCursor()
    {
        using var first = await Get("/v1/audit?session_id=ses_1&limit=4");
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        var page1 = await List(first);
        page1.Data.Should().HaveCount(4);
        page1.NextCursor.Should().NotBeNull();

        using var second = await Get("/v1/audit?session_id=ses_1&limit=4&cursor=" + Uri.EscapeDataString(page1.NextCursor!));
        var page2 = await List(second);
        page2.Data.Should().HaveCount(2);
        page2.NextCursor.Should().BeNull();
        page1.Data.Concat(page2.Data).Select(r => r.Seq).Should().Equal(1, 2, 3, 4, 5, 6);
        page2.Data[^1].Event.GetProperty("blocked_by").GetString().Should().Be("detect_pii");
        page2.Data[^1].Hash.Should().HaveLength(64);

        using var typed = await Get("/v1/audit?event_type=tool.decided&agent_id=agent-b");
        (await List(typed)).Data.Should().ContainSingle().Which.Event.GetProperty("tool").GetString().Should().Be("send_email");
    }

    [Fact]
    public async Task Audit_AgentKeySeesOnlyItsOwnAgent()
    {
        using var own = await Get("/v1/audit", FakeAdmin.AgentKey);
        (await List(own)).Data.Should().HaveCount(5).And.OnlyContain(r => r.Event.GetProperty("agent_id").GetString() == "agent-a");

        using var other = await Get("/v1/audit?agent_id=agent-b", FakeAdmin.AgentKey);
        other.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Wire.ErrorOf(other)).Type.Should().Be(ErrorTypes.SessionForbidden);

        using var otherOrg = await Get("/v1/audit", FakeAdmin.OtherOrgKey);
        (await List(otherOrg)).Data.Should().BeEmpty("same agent slug in another org must not see acme's events");
    }

    [Fact]
    public async Task Audit_AdminKeySeesOnlyItsOwnOrg()
    {
        using var own = await Get("/v1/audit", FakeAdmin.AdminKey);
        (await List(own)).Data.Should().NotBeEmpty();

        using var otherOrg = await Get("/v1/audit", FakeAdmin.OtherOrgAdminKey);
        (await List(otherOrg)).Data.Should().BeEmpty("an admin of another org must not read acme's audit trail");
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("since=yesterday", "since")]
    [InlineData("cursor=bogus", "cursor")]
    public async Task Audit_BadQuery_Returns400WithParam(string query, string param)
    {
        using var response = await Get("/v1/audit?" + query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Wire.ErrorOf(response)).Param.Should().Be(param);
    }

    [Fact]
    public async Task Audit_Since_FiltersByTime()
    {
        using var future = await Get("/v1/audit?since=2999-01-01T00:00:00Z");
        (await List(future)).Data.Should().BeEmpty();
        using var past = await Get("/v1/audit?since=2000-01-01T00:00:00Z");
        (await List(past)).Data.Should().HaveCount(7);
    }

    [Fact]
    public async Task Audit_MissingOrInvalidKey_Returns401()
    {
        using var missing = await Get("/v1/audit", key: null);
        using var invalid = await Get("/v1/audit/verify", key: "tp_nope");

        missing.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        invalid.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Wire.ErrorOf(invalid)).Type.Should().Be(ErrorTypes.Unauthorized);
    }

    [Fact]
    public async Task Verify_ReportsIntactChainWithExplicitNullFirstBadEvent()
    {
        using var response = await Get("/v1/audit/verify");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        json.GetProperty("verified").GetBoolean().Should().BeTrue();
        json.GetProperty("events_checked").GetInt64().Should().Be(7);
        json.GetProperty("first_bad_event").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task SessionPage_ListsEventsHtmlEncoded()
    {
        using var response = await Get("/audit/sessions/ses_1");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var html = await response.Content.ReadAsStringAsync();
        html.Should().Contain("ses_1").And.Contain("chat.blocked").And.Contain("detect_pii");
        html.Should().NotContain("<script>").And.Contain("&lt;script&gt;");
        html.Should().NotContain("ses_2");
    }

    [Fact]
    public async Task SessionPage_AgentKeySeesOnlyItsOwnEvents()
    {
        using var response = await Get("/audit/sessions/ses_1", FakeAdmin.AgentKey);

        var html = await response.Content.ReadAsStringAsync();
        html.Should().Contain("5 events").And.NotContain("chat.blocked");
    }

    [Fact]
    public async Task SessionPage_WithoutKey_Returns401BasicChallenge()
    {
        using var response = await Get("/audit/sessions/ses_1", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().StartWith("Basic");
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.Unauthorized);
    }

    [Fact]
    public async Task Ready_WhileAuditDatabaseUnavailable_Returns503()
    {
        using var ready = await Get("/health/ready", key: null);
        ready.StatusCode.Should().Be(HttpStatusCode.OK);

        await _host.Audit.DisposeAsync();
        SqliteConnection.ClearAllPools();

        using var notReady = await Get("/health/ready", key: null);
        notReady.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await Wire.ErrorOf(notReady)).Type.Should().Be(ErrorTypes.Unavailable);
        notReady.Headers.RetryAfter.Should().NotBeNull();
    }
}
