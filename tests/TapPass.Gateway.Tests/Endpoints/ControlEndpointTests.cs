using System.Net;
using System.Text.Json;
using TapPass.Gateway.Tests.Fakes;
using TapPass.Governance;
using TapPass.Protocol;
using TapPass.Transport;

namespace TapPass.Gateway.Tests.Endpoints;

public sealed class ControlEndpointTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string? json = null, string? key = FakeAdmin.AgentKey) =>
        _host.Client.SendAsync(_host.Request(method, path, json, key));

    [Fact]
    public async Task Govern_ReturnsDecisionAndHeaders()
    {
        using var response = await Send(HttpMethod.Post, "/v1/govern", """{"type":"TOOL_CALL","payload":{"tool":"send_email","args":{"to":"a@b.c"}}}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Wire.Read(response, TapPassJsonContext.Default.GovernResponse)).Outcome.Should().Be(GovernOutcomes.Allow);
        response.Headers.GetValues(TapPassHeaders.PipelineId).Should().Equal("pl_test");
        var request = (GovernRequest)_host.Transport.Calls.Single().Body!;
        request.Payload.Args!.Value.GetProperty("to").GetString().Should().Be("a@b.c");
    }

    [Theory]
    [InlineData("""{"payload":{}}""", "payload.tool")]
    [InlineData("""{"payload":{"tool":"x"},"enforcement":{"mode":"yolo"}}""", "enforcement.mode")]
    [InlineData("""{"payload":{"tool":5}}""", "payload.tool")]
    public async Task Govern_BadInput_Returns400WithParam(string body, string param)
    {
        using var response = await Send(HttpMethod.Post, "/v1/govern", body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Wire.ErrorOf(response)).Param.Should().Be(param);
        _host.Transport.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task GovernExecution_IsRecorded()
    {
        using var response = await Send(HttpMethod.Post, "/v1/govern/execution", """{"tool":"send_email","ok":true,"duration_ms":12.5,"result_size":10}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Wire.Read(response, TapPassJsonContext.Default.ExecutionReportResponse)).Recorded.Should().BeTrue();
    }

    [Fact]
    public async Task GovernExecution_NegativeDuration_Returns400()
    {
        using var response = await Send(HttpMethod.Post, "/v1/govern/execution", """{"tool":"t","ok":true,"duration_ms":-1}""");

        (await Wire.ErrorOf(response)).Param.Should().Be("duration_ms");
    }

    [Fact]
    public async Task Sessions_OpenWithEmptyBody_Returns201AndSessionHeader()
    {
        using var response = await Send(HttpMethod.Post, "/v1/sessions");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await Wire.Read(response, TapPassJsonContext.Default.SessionResponse)).SessionId.Should().Be("ses_new");
        response.Headers.GetValues(TapPassHeaders.SessionId).Should().Equal("ses_new");
    }

    [Fact]
    public async Task Sessions_GetKnown_Returns200AndUnknown404()
    {
        using var known = await Send(HttpMethod.Get, "/v1/sessions/ses_known");
        using var unknown = await Send(HttpMethod.Get, "/v1/sessions/ses_nope");
        using var malformed = await Send(HttpMethod.Get, "/v1/sessions/%3Cscript%3E");

        known.StatusCode.Should().Be(HttpStatusCode.OK);
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Wire.ErrorOf(unknown)).Type.Should().Be(ErrorTypes.NotFound);
        malformed.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("DELETE", "/v1/sessions/%3Cscript%3E", "No such session.")]
    [InlineData("GET", "/v1/approvals/%3Cscript%3E", "No such approval.")]
    [InlineData("POST", "/v1/approvals/a%20b/decide", "No such approval.")]
    public async Task IdRoutes_MalformedId_Answer404NotFoundBeforeAnythingElse(string method, string path, string message)
    {
        using var response = await Send(new HttpMethod(method), path);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        var error = await Wire.ErrorOf(response);
        error.Type.Should().Be(ErrorTypes.NotFound);
        error.Message.Should().Be(message);
    }

    [Fact]
    public async Task Sessions_DeleteForeign_Returns403SessionForbidden()
    {
        using var ok = await Send(HttpMethod.Delete, "/v1/sessions/ses_known");
        using var foreign = await Send(HttpMethod.Delete, "/v1/sessions/ses_foreign");

        ok.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Wire.Read(ok, TapPassJsonContext.Default.SessionResponse)).Closed.Should().BeTrue();
        foreign.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Wire.ErrorOf(foreign)).Type.Should().Be(ErrorTypes.SessionForbidden);
    }

    [Fact]
    public async Task Sessions_Put_Returns405WithAllow()
    {
        using var response = await Send(HttpMethod.Put, "/v1/sessions/ses_known", "{}");

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().BeEquivalentTo("GET", "DELETE");
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.InvalidRequest);
    }

    [Fact]
    public async Task Models_ListsRoutedModels()
    {
        using var response = await Send(HttpMethod.Get, "/v1/models");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var list = await Wire.Read(response, TapPassJsonContext.Default.ModelList);
        list.Object.Should().Be("list");
        list.Data.Should().ContainSingle().Which.Id.Should().Be("gpt-4o-mini");
    }

    [Fact]
    public async Task Models_MissingKey_Returns401()
    {
        using var response = await Send(HttpMethod.Get, "/v1/models", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Wire.ErrorOf(response)).Type.Should().Be(ErrorTypes.Unauthorized);
    }

    [Fact]
    public async Task Approvals_GetAndDecide()
    {
        using var get = await Send(HttpMethod.Get, "/v1/approvals/apr_1");
        using var decide = await Send(HttpMethod.Post, "/v1/approvals/apr_1/decide", """{"decision":"approve","reason":"ok"}""");
        using var missing = await Send(HttpMethod.Get, "/v1/approvals/apr_missing");

        get.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Wire.Read(get, TapPassJsonContext.Default.ApprovalInfo)).Status.Should().Be("pending");
        decide.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Wire.Read(decide, TapPassJsonContext.Default.ApprovalInfo)).Status.Should().Be("approved");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Approvals_DecideWithBadDecision_Returns400()
    {
        using var response = await Send(HttpMethod.Post, "/v1/approvals/apr_1/decide", """{"decision":"maybe"}""");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Wire.ErrorOf(response)).Param.Should().Be("decision");
        _host.Admin.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task BreakGlass_DeclareParsesIsoDurationAndEnd()
    {
        using var declare = await Send(HttpMethod.Post, "/v1/admin/break-glass", """{"level":"halt","duration":"PT30M","reason":"incident"}""", FakeAdmin.AdminKey);
        using var end = await Send(HttpMethod.Delete, "/v1/admin/break-glass", key: FakeAdmin.AdminKey);

        declare.StatusCode.Should().Be(HttpStatusCode.OK);
        var declaration = (BreakGlassDeclaration)_host.Admin.Calls.First(c => c.Operation == "break-glass").Body!;
        declaration.Should().Be(new BreakGlassDeclaration("halt", TimeSpan.FromMinutes(30), "incident"));
        end.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task BreakGlass_AgentKey_GetsEnginesForbidden()
    {
        using var response = await Send(HttpMethod.Post, "/v1/admin/break-glass", """{"level":"observe","duration":"PT1H"}""");

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("""{"level":"panic","duration":"PT1H"}""", "level")]
    [InlineData("""{"level":"halt","duration":"soon"}""", "duration")]
    [InlineData("""{"level":"halt","duration":"P30D"}""", "duration")]
    [InlineData("""{"level":"halt"}""", "duration")]
    public async Task BreakGlass_BadInput_Returns400WithParam(string body, string param)
    {
        using var response = await Send(HttpMethod.Post, "/v1/admin/break-glass", body, FakeAdmin.AdminKey);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Wire.ErrorOf(response)).Param.Should().Be(param);
    }

    [Fact]
    public async Task ApprovalPage_EncodesHtmlAndNeedsAKey()
    {
        using var anonymous = await Send(HttpMethod.Get, "/approvals/apr_1", key: null);
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ToString().Should().StartWith("Basic");

        var request = _host.Request(HttpMethod.Get, "/approvals/apr_1", key: null);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("reviewer:" + FakeAdmin.AgentKey)));
        using var page = await _host.Client.SendAsync(request);

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var html = await page.Content.ReadAsStringAsync();
        html.Should().NotContain("<script>").And.Contain("&lt;script&gt;");
        page.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'none'");
    }
}
