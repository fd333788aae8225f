using System.ComponentModel;
using System.Text.Json.Nodes;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Tools;

/// <summary>Governed delegates keep their signature: sync and async, every arity, custom delegate types, names.</summary>
public sealed class GovernShapeTests
{
    public delegate string Formatter(string template, int count);

    private static int s_pings;

    private static string Ping() => "pong " + Interlocked.Increment(ref s_pings);

    private static int Add(int a, int b) => a + b;

    private static string Join3(string a, string b, string c) => string.Join("-", a, b, c);

    private static async ValueTask<double> ScaleAsync(double value, double factor, int digits, bool negate)
    {
        await Task.Yield();
        var scaled = Math.Round(value * factor, digits);
        return negate ? -scaled : scaled;
    }

    [Description("Searches the knowledge base.")]
    private static Task<string[]> SearchDocumentsAsync([Description("Free text")] string query, CancellationToken cancellationToken) =>
        Task.FromResult(new[] { query + ":1", query + ":2" });

    [Fact]
    public void Sync_Arity0_RunsAndIsNamedAfterTheMethod()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        Func<string> ping = Ping;

        var governed = agent.Govern(ping);

        governed().Should().StartWith("pong ");
        var request = gateway.GovernRequests.Single();
        ((string?)request.Json["payload"]!["tool"]).Should().Be("ping");
        request.Args().ToJsonString().Should().Be("{}");
    }

    [Fact]
    public void Sync_Arity2_MethodGroup_ReturnsTheValue()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);

        var add = agent.Govern<Func<int, int, int>>(Add);

        add(2, 3).Should().Be(5);
        gateway.GovernRequests.Single().Args().ToJsonString().Should().Be("{\"a\":2,\"b\":3}");
        ((long?)gateway.ExecutionReports.Single().Json["result_size"]).Should().Be(1);
    }

    [Fact]
    public void Sync_Arity3_And_Action_Arity4()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var logged = new List<string>();

        var join = agent.Govern<Func<string, string, string, string>>(Join3);
        var log = agent.Govern((string level, string message, int code, bool alert) => logged.Add($"{level}:{message}:{code}:{alert}"), new TapPassToolOptions { Name = "log" });

        join("a", "b", "c").Should().Be("a-b-c");
        log("warn", "disk", 7, true);

        logged.Should().Equal("warn:disk:7:True");
        gateway.GovernRequests[1].Args().ToJsonString().Should().Be("{\"level\":\"warn\",\"message\":\"disk\",\"code\":7,\"alert\":true}");
        gateway.ExecutionReports[1].Json["result_size"].Should().BeNull("an action has no result");
    }

    [Fact]
    public async Task Async_ValueTaskOfT_Arity4()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);

        var scale = agent.Govern<Func<double, double, int, bool, ValueTask<double>>>(ScaleAsync);

        (await scale(1.23456, 2, 2, true)).Should().Be(-2.47);
        ((string?)gateway.GovernRequests.Single().Json["payload"]!["tool"]).Should().Be("scale");
    }

    [Fact]
    public async Task Async_Task_And_ValueTask_WithoutResult()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var done = 0;

        var notify = agent.Govern(async (string channel) =>
        {
            await Task.Yield();
            Interlocked.Increment(ref done);
        }, new TapPassToolOptions { Name = "notify" });
        var flush = agent.Govern(() =>
        {
            Interlocked.Increment(ref done);
            return ValueTask.CompletedTask;
        }, new TapPassToolOptions { Name = "flush" });

        await notify("#ops");
        await flush();

        done.Should().Be(2);
        gateway.ExecutionReports.Select(r => (bool?)r.Json["ok"]).Should().Equal(true, true);
    }

    [Fact]
    public void CustomDelegateType_IsKept()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        Formatter format = (template, count) => template.Replace("{n}", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Formatter governed = agent.Govern(format, new TapPassToolOptions { Name = "format" });

        governed("{n} items", 3).Should().Be("3 items");
        gateway.GovernRequests.Single().Args().ToJsonString().Should().Be("{\"template\":\"{n} items\",\"count\":3}");
    }

    [Fact]
    public async Task CancellationTokenParameter_IsNotAnArgument_AndReachesTheTool()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        CancellationToken seen = default;
        var search = agent.Govern((string query, CancellationToken ct) =>
        {
            seen = ct;
            return Task.FromResult(query);
        }, new TapPassToolOptions { Name = "search" });
        using var cts = new CancellationTokenSource();

        await search("q", cts.Token);

        seen.Should().Be(cts.Token);
        gateway.GovernRequests.Single().Args().ToJsonString().Should().Be("{\"query\":\"q\"}");
        var schema = search.GetToolDefinition()!.ParametersSchema;
        schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Should().Equal("query");
    }

    [Fact]
    public async Task CancelledToken_CancelsTheGovernCall_AndTheToolDoesNotRun()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Hang();
        using var agent = ToolKit.Agent(gateway);
        var runs = 0;
        var search = agent.Govern((string query, CancellationToken ct) => Task.FromResult(++runs), new TapPassToolOptions { Name = "search" });
        using var cts = new CancellationTokenSource();

        var call = search("q", cts.Token);
        await WaitUntil(() => gateway.GovernRequests.Count == 1);
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        runs.Should().Be(0);
    }

    [Fact]
    public async Task DescriptionAttribute_AndSnakeCase_ShapeTheDefinition()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);

        var search = agent.Govern<Func<string, CancellationToken, Task<string[]>>>(SearchDocumentsAsync);
        var verbatim = agent.Govern<Func<string, CancellationToken, Task<string[]>>>(SearchDocumentsAsync, new TapPassToolOptions { SnakeCaseName = false });

        var definition = search.GetToolDefinition()!;
        definition.Name.Should().Be("search_documents");
        definition.Description.Should().Be("Searches the knowledge base.");
        definition.ParametersSchema.GetProperty("properties").GetProperty("query").GetProperty("description").GetString().Should().Be("Free text");
        verbatim.GetToolDefinition()!.Name.Should().Be("SearchDocumentsAsync");
        (await search("gdpr", CancellationToken.None)).Should().Equal("gdpr:1", "gdpr:2");
        ((string?)gateway.GovernRequests.Single().Json["payload"]!["description"]).Should().Be("Searches the knowledge base.");
    }

    [Fact]
    public void LocalFunction_IsNamedAfterItself()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());

        static string ReadFile(string path) => path;

        agent.Govern<Func<string, string>>(ReadFile).GetToolDefinition()!.Name.Should().Be("read_file");
    }

    [Fact]
    public void Lambda_WithoutAName_IsRejected()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());

        FluentActions.Invoking(() => agent.Govern((string q) => q)).Should().Throw<ArgumentException>().WithMessage("*Name*");
    }

    [Fact]
    public void UnsupportedShapes_AreRejected()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());
        Func<string, string> a = s => s;
        Func<string, string> multicast = (Func<string, string>)Delegate.Combine(a, (Func<string, string>)(s => s + "!"));

        FluentActions.Invoking(() => agent.Govern(multicast, new TapPassToolOptions { Name = "m" })).Should().Throw<ArgumentException>().WithMessage("*multicast*");
        FluentActions.Invoking(() => agent.Govern(agent.Govern(a, new TapPassToolOptions { Name = "once" }), new TapPassToolOptions { Name = "twice" }))
            .Should().Throw<ArgumentException>().WithMessage("*already governed*");
        FluentActions.Invoking(() => a.WithResumeToken("rt_1")).Should().Throw<ArgumentException>();
        a.GetToolDefinition().Should().BeNull();
    }

    [Fact]
    public async Task SyncTool_UnderASingleThreadedContext_DoesNotDeadlock()
    {
        var gateway = new FakeGateway { CaptureContext = true, Govern = Responses.Decision("allow"), Execution = Responses.ExecutionRecorded() };
        using var agent = ToolKit.Agent(gateway);
        var add = agent.Govern<Func<int, int, int>>(Add);

        var (sum, toolThread, callerThread) = await SingleThreadSynchronizationContext.Run(() =>
        {
            var caller = Environment.CurrentManagedThreadId;
            var threadInTool = 0;
            var traced = agent.Govern((int x) =>
            {
                threadInTool = Environment.CurrentManagedThreadId;
                return x;
            }, new TapPassToolOptions { Name = "trace" });
            return (add(20, 22) + traced(0), threadInTool, caller);
        }).WaitAsync(TimeSpan.FromSeconds(30));

        sum.Should().Be(42);
        toolThread.Should().Be(callerThread, "a synchronous tool runs on its caller's thread");
    }

    [Fact]
    public void AgentWithoutGovernor_IsRejected()
    {
        ITapPassAgent other = new NotAGovernor();

        FluentActions.Invoking(() => other.Govern<Func<int, int, int>>(Add)).Should().Throw<ArgumentException>().WithMessage("*ITapPassToolGovernor*");
    }

    [Fact]
    public async Task ArgumentsTooLarge_AreRejectedBeforeTheGatewayIsAsked()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var runs = 0;
        var echo = agent.Govern((string text) => ++runs, new TapPassToolOptions { Name = "echo" });

        FluentActions.Invoking(() => echo(new string('x', 1_000_001))).Should().Throw<ArgumentException>().WithMessage("*exceed*");
        runs.Should().Be(0);
        gateway.GovernRequests.Should().BeEmpty();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        condition().Should().BeTrue();
    }

    private sealed class NotAGovernor : ITapPassAgent
    {
        public string Model => "m";

        public IReadOnlyList<TapPass.Protocol.ChatCompletionMessage> History => [];

        public Task<ChatResponse> ChatAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ChatResponse Chat(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ChatStream StreamAsync(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ChatStreamSync Stream(string message, TapPassChatOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Reset()
        {
        }

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
