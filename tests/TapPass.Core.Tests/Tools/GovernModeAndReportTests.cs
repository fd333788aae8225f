using Microsoft.Extensions.Logging;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Tools;

/// <summary>Audit mode, execution reports, the tool context, sessions and flags of governed tools.</summary>
public sealed class GovernModeAndReportTests
{
    [Fact]
    public async Task AuditMode_SendsAuditEnforcement_AndRunsOnAllow()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { Mode = GovernMode.Audit });

        await sendEmail("a@b.com", "x");

        ((string?)gateway.GovernRequests.Single().Json["enforcement"]!["mode"]).Should().Be("audit");
        mailer.Sent.Should().Be(1);
        gateway.ExecutionReports.Should().ContainSingle();
    }

    [Fact]
    public async Task AuditMode_GatewayDown_RunsToolUnverified_LogsWarning_AndSkipsReport()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Refused();
        var logs = new RecordingLoggerFactory();
        using var agent = ToolKit.Agent(gateway, loggerFactory: logs);
        TapPassToolContext? seen = null;
        var search = agent.Govern((string query) =>
        {
            seen = TapPassToolContext.Current;
            return "results for " + query;
        }, new TapPassToolOptions { Name = "search", Mode = GovernMode.Audit });

        var result = search("gdpr");

        result.Should().Be("results for gdpr");
        seen!.Unverified.Should().BeTrue();
        seen.CapabilityToken.Should().BeNull();
        logs.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.EventName == "RunningUnverified" && e.Message.Contains("search"));
        gateway.ExecutionReports.Should().BeEmpty();
    }

    [Fact]
    public async Task AuditMode_GatewayStillBlocks_RefusalIsHonoured()
    {
        var gateway = ToolKit.Gateway("block");
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { Mode = GovernMode.Audit });

        await FluentActions.Awaiting(() => sendEmail("a@b.com", "x")).Should().ThrowAsync<PolicyBlockException>();

        mailer.Sent.Should().Be(0);
    }

    [Fact]
    public async Task ExecutionReport_CarriesOkDurationAndSize_NeverTheResult()
    {
        var gateway = ToolKit.Gateway();
        var time = new FakeTimeProvider();
        using var agent = ToolKit.Agent(gateway, time: time);
        var readFile = agent.Govern(async (string path) =>
        {
            await Task.Yield();
            time.Advance(TimeSpan.FromMilliseconds(250));
            return ToolKit.Secret + " contents of " + path;
        }, new TapPassToolOptions { Name = "read_file" });

        var contents = await readFile("/etc/app.conf");

        contents.Should().StartWith(ToolKit.Secret);
        var decision = gateway.GovernRequests.Single();
        var report = gateway.ExecutionReports.Should().ContainSingle().Subject;
        report.Body.Should().NotContain(ToolKit.Secret).And.NotContain("/etc/app.conf");
        ((string?)report.Json["tool"]).Should().Be("read_file");
        ((bool?)report.Json["ok"]).Should().BeTrue();
        ((double?)report.Json["duration_ms"]).Should().Be(250);
        ((long?)report.Json["result_size"]).Should().Be(System.Text.Encoding.UTF8.GetByteCount(contents));
        report.Json["error_type"].Should().BeNull();
        ((string?)report.Json["session_id"]).Should().Be("ses_tool1");
        ((string?)report.Json["pipeline_uuid"]).Should().StartWith("pl_tool");
        report.Header("Authorization").Should().Be("Bearer " + FakeGateway.ApiKey);
        report.Header("Idempotency-Key").Should().NotBe(decision.Header("Idempotency-Key"));
    }

    public sealed record Forecast(string City, int Celsius);

    [Fact]
    public async Task ExecutionReport_SizeOfAnObjectResult_IsItsCompactJsonLength()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var weather = agent.Govern((string city) => ValueTask.FromResult(new Forecast(city, 21)), new TapPassToolOptions { Name = "weather" });

        await weather("Ghent");

        var json = "{\"city\":\"Ghent\",\"celsius\":21}";
        ((long?)gateway.ExecutionReports.Single().Json["result_size"]).Should().Be(json.Length);
    }

    [Fact]
    public async Task ToolThrows_ReportsErrorTypeOnly_AndRethrowsTheOriginal()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var readFile = agent.Govern<Func<string, Task<string>>>(
            path => throw new FileNotFoundException("cannot open " + ToolKit.Secret, path),
            new TapPassToolOptions { Name = "read_file" });

        var ex = (await FluentActions.Awaiting(() => readFile("/secret")).Should().ThrowAsync<FileNotFoundException>()).Which;

        ex.Message.Should().Contain(ToolKit.Secret);
        var report = gateway.ExecutionReports.Should().ContainSingle().Subject;
        ((bool?)report.Json["ok"]).Should().BeFalse();
        ((string?)report.Json["error_type"]).Should().Be("FileNotFoundException");
        report.Json["result_size"].Should().BeNull();
        report.Body.Should().NotContain(ToolKit.Secret).And.NotContain("cannot open");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(0)]
    public async Task ReportFailure_DoesNotChangeTheOutcome_AndIsLogged(int status)
    {
        var gateway = ToolKit.Gateway();
        gateway.Execution = status == 0 ? Responses.Refused() : Responses.Error(status, "http_error");
        var logs = new RecordingLoggerFactory();
        using var agent = ToolKit.Agent(gateway, loggerFactory: logs);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        var sent = await sendEmail("a@b.com", "x");

        sent.Should().BeTrue();
        mailer.Sent.Should().Be(1);
        gateway.ExecutionReports.Should().ContainSingle();
        logs.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.EventName == "ReportFailed");
        logs.AllText.Should().NotContain(FakeGateway.ApiKey);
    }

    [Fact]
    public async Task ReportFailure_AfterToolFailure_StillThrowsTheToolsException()
    {
        var gateway = ToolKit.Gateway();
        gateway.Execution = Responses.Refused();
        using var agent = ToolKit.Agent(gateway);
        var tool = agent.Govern((string x) => x.Length > 0 ? throw new InvalidOperationException("boom") : 0, new TapPassToolOptions { Name = "fragile" });

        FluentActions.Invoking(() => tool("x")).Should().Throw<InvalidOperationException>().WithMessage("boom");
    }

    [Fact]
    public async Task ReportExecutionFalse_SendsNoReport()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { ReportExecution = false });

        await sendEmail("a@b.com", "x");

        mailer.Sent.Should().Be(1);
        gateway.ExecutionReports.Should().BeEmpty();
    }

    [Fact]
    public async Task ToolContext_HoldsTheDecisionWhileTheToolRuns_AndIsClearedAfter()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        TapPassToolContext? before = null, during = null, afterAwait = null;
        var tool = agent.Govern(async (string q) =>
        {
            during = TapPassToolContext.Current;
            await Task.Yield();
            afterAwait = TapPassToolContext.Current;
            return q;
        }, new TapPassToolOptions { Name = "search" });

        before = TapPassToolContext.Current;
        await tool("x");

        before.Should().BeNull();
        during.Should().NotBeNull();
        during!.ToolName.Should().Be("search");
        during.Outcome.Should().Be("allow");
        during.CapabilityToken.Should().Be("eyJhbGciOiJFUzI1NiJ9.cap.sig");
        during.PipelineUuid.Should().StartWith("pl_tool");
        during.SessionId.Should().Be("ses_tool1");
        afterAwait.Should().BeSameAs(during);
        TapPassToolContext.Current.Should().BeNull();
    }

    [Fact]
    public void ToolContext_OfASyncTool_IsRestoredOnTheCallersThread()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        string? token = null;
        var tool = agent.Govern((int n) =>
        {
            token = TapPassToolContext.Current?.CapabilityToken;
            return n * 2;
        }, new TapPassToolOptions { Name = "double" });

        tool(21).Should().Be(42);

        token.Should().Be("eyJhbGciOiJFUzI1NiJ9.cap.sig");
        TapPassToolContext.Current.Should().BeNull();
    }

    [Fact]
    public async Task Session_ExplicitOptionWinsOverAmbient_AndAmbientIsUsedOtherwise()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var ambientTool = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);
        var explicitTool = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { SessionId = "ses_explicit", TaskId = "tsk_9" });

        using (TapPassSession.Begin("ses_ambient", taskId: "tsk_amb"))
        {
            await ambientTool("a@b.com", "1");
            await explicitTool("a@b.com", "2");
        }

        var governs = gateway.GovernRequests;
        governs[0].Header("X-TapPass-Session-Id").Should().Be("ses_ambient");
        governs[0].Header("X-TapPass-Task-Id").Should().Be("tsk_amb");
        governs[1].Header("X-TapPass-Session-Id").Should().Be("ses_explicit");
        governs[1].Header("X-TapPass-Task-Id").Should().Be("tsk_9");
        ((string?)governs[1].Json["session_id"]).Should().Be("ses_explicit");
        ((string?)gateway.ExecutionReports[1].Json["session_id"]).Should().Be("ses_explicit");
    }

    [Fact]
    public async Task Session_AssignedByTheGateway_IsRecordedOnTheAmbientScope()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync);

        using var scope = TapPassSession.Begin();
        await sendEmail("a@b.com", "x");

        scope.Session.SessionId.Should().Be("ses_tool1");
        scope.Session.AuditUrl.Should().Be(FakeGateway.Url + "/audit/sessions/ses_tool1");
    }

    [Fact]
    public async Task Flags_OfTheToolAreMergedOverTheAgentDefaults()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway, o =>
        {
            o.Flags["email"] = "allow";
            o.Flags["pii"] = "mask";
        });
        var mailer = new Mailer();
        var options = new TapPassToolOptions();
        options.Flags["email"] = "mirror:qa@corp.com";
        var sendEmail = agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, options);
        options.Flags["email"] = "block"; // read once, when wrapped

        await sendEmail("a@b.com", "x");

        gateway.GovernRequests.Single().Header("X-TapPass-Flags").Should().Be("pii=mask, email=mirror:qa@corp.com");
    }

    [Fact]
    public void InvalidOptions_AreRejectedWhenWrapping()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var mailer = new Mailer();
        var flags = new TapPassToolOptions();
        flags.Flags["pii"] = "shred";

        FluentActions.Invoking(() => agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { SessionId = "bad id" }))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { ResumeToken = "has space" }))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, flags))
            .Should().Throw<TapPassConfigException>();
        FluentActions.Invoking(() => agent.Govern<Func<string, string, Task<bool>>>(mailer.SendEmailAsync, new TapPassToolOptions { Name = "bad name!" }))
            .Should().Throw<ArgumentException>();
        gateway.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Logs_NeverCarryArgumentsResultsOrTokens()
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = new System.Text.Json.Nodes.JsonObject { ["query"] = 12 });
        var logs = new RecordingLoggerFactory();
        using var agent = ToolKit.Agent(gateway, loggerFactory: logs);
        var search = agent.Govern((string query) => ToolKit.Secret, new TapPassToolOptions { Name = "search" });

        FluentActions.Invoking(() => search("my card 4111111111111111")).Should().Throw<PolicyBlockException>();

        logs.Entries.Should().Contain(e => e.EventName == "ModifiedArgumentsRejected");
        logs.AllText.Should().NotContain("4111111111111111").And.NotContain("cap.sig").And.NotContain(FakeGateway.ApiKey);
    }
}
