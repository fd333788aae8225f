using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using TapPass.Core.Tests.Fakes;

namespace TapPass.Core.Tests.Tools;

/// <summary>agent.Govern(AIFunction): the same tool for the model, governed on every invocation.</summary>
public sealed class GovernedAIFunctionTests
{
    private readonly List<(string To, string Subject, int Priority)> _sent = [];

    [Description("Sends an email.")]
    private string SendEmail([Description("Recipient")] string to, string subject, int priority = 3)
    {
        lock (_sent)
        {
            _sent.Add((to, subject, priority));
        }

        return ToolKit.Secret + " queued";
    }

    private static string Search(string query) => "found " + query;

    private static string ReadFile(string path) => path;

    private AIFunction SendEmailFunction() => AIFunctionFactory.Create(SendEmail, "send_email");

    private static AIFunctionArguments Arguments(string to, string subject) => new() { ["to"] = to, ["subject"] = subject };

    [Fact]
    public void Wrapper_KeepsNameDescriptionAndSchema()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());
        var inner = SendEmailFunction();

        var governed = agent.Govern(inner);

        governed.Name.Should().Be("send_email");
        governed.Description.Should().Be("Sends an email.");
        governed.JsonSchema.GetRawText().Should().Be(inner.JsonSchema.GetRawText());
        governed.Mode.Should().Be(GovernMode.Enforce);
        governed.Definition.DefinitionSha256.Should().Be(TapPassToolDefinition.ComputeSha256("send_email", "Sends an email.", inner.JsonSchema));
        governed.GetService(typeof(GovernedAIFunction)).Should().BeSameAs(governed);
    }

    [Fact]
    public async Task Allow_InvokesTheInnerFunction_AndSendsTheArguments()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        var result = await governed.InvokeAsync(Arguments("a@b.com", "hi"));

        ((JsonElement)result!).GetString().Should().Be(ToolKit.Secret + " queued");
        _sent.Should().Equal(("a@b.com", "hi", 3));
        var govern = gateway.GovernRequests.Single();
        govern.Args().ToJsonString().Should().Be("{\"to\":\"a@b.com\",\"subject\":\"hi\"}");
        ((string?)govern.Json["payload"]!["definition_sha256"]).Should().Be(governed.Definition.DefinitionSha256);
        var report = gateway.ExecutionReports.Single();
        ((bool?)report.Json["ok"]).Should().BeTrue();
        ((long?)report.Json["result_size"]).Should().Be(JsonSerializer.Serialize(ToolKit.Secret + " queued").Length);
        report.Body.Should().NotContain(ToolKit.Secret);
    }

    [Fact]
    public async Task Allow_WithJsonElementArgumentsFromTheModel_SendsThemAsWritten()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());
        var fromModel = JsonSerializer.Deserialize<Dictionary<string, object?>>("{\"to\":\"x@y.z\",\"subject\":\"s\",\"priority\":1}");

        await governed.InvokeAsync(new AIFunctionArguments(fromModel));

        _sent.Should().Equal(("x@y.z", "s", 1));
        gateway.GovernRequests.Single().Args().ToJsonString().Should().Be("{\"to\":\"x@y.z\",\"subject\":\"s\",\"priority\":1}");
    }

    [Fact]
    public async Task Modify_ReplacesTheArguments()
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = new JsonObject
        {
            ["to"] = "supervisor@company.com",
            ["subject"] = "[AI TEST] hi",
            ["priority"] = 5,
        });
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        await governed.InvokeAsync(Arguments("ceo@company.com", "hi"));

        _sent.Should().Equal(("supervisor@company.com", "[AI TEST] hi", 5));
    }

    [Theory]
    [InlineData("{\"to\":\"a@b.com\",\"subject\":7}")]
    [InlineData("{\"to\":\"a@b.com\"}")]
    [InlineData("{\"to\":\"a@b.com\",\"subject\":\"x\",\"bcc\":\"leak@evil.com\"}")]
    [InlineData("{\"to\":\"a@b.com\",\"subject\":\"x\",\"priority\":1.5}")]
    public async Task Modify_ArgumentsOutsideTheSchema_BlockAndNeverInvoke(string modifiedArgs)
    {
        var gateway = ToolKit.Gateway("modify", o => o["modified_args"] = JsonNode.Parse(modifiedArgs));
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        await FluentActions.Awaiting(() => governed.InvokeAsync(Arguments("a@b.com", "x")).AsTask()).Should().ThrowAsync<PolicyBlockException>();

        _sent.Should().BeEmpty();
        gateway.ExecutionReports.Should().BeEmpty();
    }

    [Fact]
    public async Task Block_NeverInvokes()
    {
        var gateway = ToolKit.Gateway("block");
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        var ex = (await FluentActions.Awaiting(() => governed.InvokeAsync(Arguments("a@b.com", "x")).AsTask()).Should().ThrowAsync<PolicyBlockException>()).Which;

        ex.BlockedBy.Should().Be("tool_permissions");
        _sent.Should().BeEmpty();
    }

    [Fact]
    public async Task NeedsApproval_ThenWithResumeToken_RunsTheIdenticalCall()
    {
        var gateway = ToolKit.Gateway();
        gateway.ThenGovern(Responses.Decision("needs_approval"));
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        var held = (await FluentActions.Awaiting(() => governed.InvokeAsync(Arguments("a@b.com", "x")).AsTask()).Should().ThrowAsync<ApprovalRequiredException>()).Which;
        await governed.WithResumeToken(held.ResumeToken).InvokeAsync(Arguments("a@b.com", "x"));

        _sent.Should().ContainSingle();
        gateway.GovernRequests.Select(r => r.Header("X-TapPass-Resume-Token")).Should().Equal(null, "rt_tool_abc");
    }

    public sealed record Quote(string Symbol, decimal Price);

    /// <summary>A hand-written function with indented serialiser options that returns an object, not a JsonElement.</summary>
    private sealed class QuoteFunction : AIFunction
    {
        public override string Name => "quote";

        public override JsonSerializerOptions JsonSerializerOptions { get; } = new(JsonSerializerOptions.Web) { WriteIndented = true };

        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
            ValueTask.FromResult<object?>(new Quote((string)arguments["symbol"]!, 12.5m));
    }

    [Fact]
    public async Task ResultSize_IsCompactJson_WhateverTheFunctionsIndentation()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);

        var result = await agent.Govern(new QuoteFunction()).InvokeAsync(new AIFunctionArguments { ["symbol"] = "ACME" });

        result.Should().Be(new Quote("ACME", 12.5m));
        ((long?)gateway.ExecutionReports.Single().Json["result_size"]).Should().Be("{\"symbol\":\"ACME\",\"price\":12.5}".Length);
    }

    [Fact]
    public async Task FunctionThrows_ReportsTheErrorType_AndRethrows()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        Func<string, string> readFile = path => throw new UnauthorizedAccessException(ToolKit.Secret);
        var failing = AIFunctionFactory.Create(readFile, "read_file");
        var governed = agent.Govern(failing);

        await FluentActions.Awaiting(() => governed.InvokeAsync(new AIFunctionArguments { ["path"] = "/root" }).AsTask()).Should().ThrowAsync<UnauthorizedAccessException>();

        var report = gateway.ExecutionReports.Single();
        ((string?)report.Json["error_type"]).Should().Be("UnauthorizedAccessException");
        report.Body.Should().NotContain(ToolKit.Secret);
    }

    [Fact]
    public void ListOfFunctions_AndListOfMethods_AreGovernedWithTheirNames()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());

        var functions = agent.Govern([SendEmailFunction(), AIFunctionFactory.Create(Search, "search")]);
        var methods = agent.Govern([Search, SendEmail, ReadFile]);

        functions.Select(f => f.Name).Should().Equal("send_email", "search");
        methods.Select(f => f.Name).Should().Equal("search", "send_email", "read_file");
        methods[1].Description.Should().Be("Sends an email.");
        methods[1].Definition.DefinitionSha256.Should().Be(agent.Govern(SendEmailFunction()).Definition.DefinitionSha256);
    }

    [Fact]
    public async Task ListOfMethods_Invokes()
    {
        var gateway = ToolKit.Gateway();
        using var agent = ToolKit.Agent(gateway);
        var tools = agent.Govern([Search]);

        var result = await tools[0].InvokeAsync(new AIFunctionArguments { ["query"] = "gdpr" });

        ((JsonElement)result!).GetString().Should().Be("found gdpr");
        ((string?)gateway.GovernRequests.Single().Json["payload"]!["tool"]).Should().Be("search");
    }

    [Fact]
    public void AlreadyGoverned_AndBadNames_AreRejected()
    {
        using var agent = ToolKit.Agent(ToolKit.Gateway());
        var governed = agent.Govern(SendEmailFunction());

        FluentActions.Invoking(() => agent.Govern(governed)).Should().Throw<ArgumentException>().WithMessage("*already governed*");
        FluentActions.Invoking(() => agent.Govern(AIFunctionFactory.Create(Search, "search docs"))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => agent.Govern([Search], new TapPassToolOptions { Name = "shared" })).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task AuditMode_GatewayDown_InvokesUnverified()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Refused();
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction(), new TapPassToolOptions { Mode = GovernMode.Audit });

        await governed.InvokeAsync(Arguments("a@b.com", "x"));

        _sent.Should().ContainSingle();
        governed.Mode.Should().Be(GovernMode.Audit);
    }

    [Fact]
    public async Task GatewayDown_InEnforceMode_NeverInvokes()
    {
        var gateway = ToolKit.Gateway();
        gateway.Govern = Responses.Refused();
        using var agent = ToolKit.Agent(gateway);
        var governed = agent.Govern(SendEmailFunction());

        await FluentActions.Awaiting(() => governed.InvokeAsync(Arguments("a@b.com", "x")).AsTask()).Should().ThrowAsync<TapPassConnectionException>();

        _sent.Should().BeEmpty();
    }
}
