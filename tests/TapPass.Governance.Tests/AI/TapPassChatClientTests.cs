using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using TapPass.Governance.Tests.Fakes;

namespace TapPass.Governance.Tests.AI;

public sealed class TapPassChatClientTests : IDisposable
{
    private const string Secret = "sk_live_ABCDEFGH12345678";
    private readonly EngineHarness _h;
    private readonly FakeChatClient _inner = new();

    public TapPassChatClientTests() => _h = new EngineHarness(o =>
    {
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "restricted-data", MinClassification = "RESTRICTED" });
        o.ApprovalRules.Add(new TapPassApprovalRuleOptions { Name = "deletes", Tool = "delete_*" });
    });

    public void Dispose() => _h.Dispose();

    private TapPassChatClient Client(Action<TapPassChatClientOptions>? configure = null)
    {
        var options = new TapPassChatClientOptions();
        configure?.Invoke(options);
        return new TapPassChatClient(_inner, _h.Engine, options);
    }

    private static ChatOptions Flags(string flags) => new() { AdditionalProperties = new() { [TapPassChatKeys.Flags] = flags } };

    private static async Task<(string Text, List<ChatResponseUpdate> Updates, Exception? Error)> Drain(IAsyncEnumerable<ChatResponseUpdate> stream)
    {
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await foreach (var update in stream)
            {
                updates.Add(update);
            }
        }
        catch (Exception ex)
        {
            return (string.Concat(updates.Select(u => u.Text)), updates, ex);
        }

        return (string.Concat(updates.Select(u => u.Text)), updates, null);
    }

    [Fact]
    public async Task GetResponseAsync_CleanPrompt_InnerSeesExactlyTheMessagesAndAnswerPassesThrough()
    {
        using var client = Client();
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "You are terse."), new ChatMessage(ChatRole.User, "What is the capital of France?")],
            new ChatOptions { Temperature = 0.2f });

        var (messages, options) = _inner.Calls.Should().ContainSingle().Subject;
        messages.Select(m => (m.Role, m.Text)).Should().Equal((ChatRole.System, "You are terse."), (ChatRole.User, "What is the capital of France?"));
        options!.Temperature.Should().Be(0.2f);
        response.Text.Should().Be("You said: What is the capital of France?");
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
        response.Usage!.InputTokenCount.Should().Be(12);
        response.Usage.OutputTokenCount.Should().Be(7);
        response.ModelId.Should().Be("inner-model");
        response.AdditionalProperties![TapPassChatKeys.Classification].Should().Be("PUBLIC");
        response.AdditionalProperties[TapPassChatKeys.Blocked].Should().Be(false);
    }

    [Fact]
    public async Task GetResponseAsync_Instructions_AreGovernedAsTheFirstSystemMessageAndNotSentTwice()
    {
        using var client = Client(o => o.Flags["pii"] = "mask");
        await client.GetResponseAsync("hello", new ChatOptions { Instructions = "Escalate to boss@example.com" });

        var (messages, options) = _inner.Calls.Single();
        messages.Select(m => (m.Role, m.Text)).Should().Equal((ChatRole.System, "Escalate to [MASKED_EMAIL]"), (ChatRole.User, "hello"));
        options!.Instructions.Should().BeNull();
    }

    [Fact]
    public async Task GetResponseAsync_PiiUnderMask_InnerReceivesMaskedText()
    {
        using var client = Client(o => o.Flags["pii"] = "mask");
        var response = await client.GetResponseAsync("Mail alice@example.com about it");

        var sent = _inner.Calls.Should().ContainSingle().Subject.Messages.Single().Text;
        sent.Should().Be("Mail [MASKED_EMAIL] about it");
        response.Text.Should().Be("You said: Mail [MASKED_EMAIL] about it");
        response.AdditionalProperties![TapPassChatKeys.Pipeline].Should().BeOfType<PipelineResult>()
            .Which.Redactions.Should().ContainSingle(r => r.Type == "EMAIL" && r.Phase == "input");
    }

    [Fact]
    public async Task GetResponseAsync_PiiUnderBlock_ThrowsPolicyBlockAndNeverCallsInner()
    {
        using var client = Client();
        var act = () => client.GetResponseAsync("Mail alice@example.com about it", Flags("pii=block"));

        var ex = (await act.Should().ThrowAsync<PolicyBlockException>()).Which;
        ex.BlockedBy.Should().Be("detect_pii");
        ex.SessionId.Should().StartWith("ses_");
        _inner.Calls.Should().BeEmpty();
        _h.Events("chat.blocked").Should().ContainSingle();
    }

    [Fact]
    public async Task GetResponseAsync_SecretInAnswer_IsRedacted()
    {
        _inner.Answer = _ => $"The key is {Secret}, keep it.";
        using var client = Client();
        var response = await client.GetResponseAsync("What is the key?");

        response.Text.Should().Be("The key is [REDACTED], keep it.");
        response.Text.Should().NotContain("sk_live");
        response.AdditionalProperties![TapPassChatKeys.Classification].Should().Be("RESTRICTED");
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SecretSplitAcrossUpdates_IsRedactedAsAWhole()
    {
        _inner.Answer = _ => $"The key is {Secret}, keep it.";
        _inner.Pieces = s => [s[..15], s[15..22], s[22..]]; // "The key is sk_l" | "ive_ABC" | "DEFGH…"
        using var client = Client();
        var (text, updates, error) = await Drain(client.GetStreamingResponseAsync("What is the key?"));

        error.Should().BeNull();
        text.Should().Be("The key is [REDACTED], keep it.");
        updates.Where(u => u.Text.Length > 0).Should().OnlyContain(u => !u.Text.Contains("sk_", StringComparison.Ordinal) && !u.Text.Contains("ive_", StringComparison.Ordinal));
        var last = updates[^1];
        last.FinishReason.Should().Be(ChatFinishReason.Stop);
        last.Contents.OfType<UsageContent>().Single().Details.InputTokenCount.Should().Be(12);
        last.AdditionalProperties![TapPassChatKeys.SessionId].Should().BeOfType<string>().Which.Should().StartWith("ses_");
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnySplitOfTheAnswer_YieldsTheSameMaskedTextAsNonStreaming()
    {
        const string answer = "Contact bob@example.org, key " + Secret + ", card 4111 1111 1111 1111. Done.";
        _inner.Answer = _ => answer;
        using var client = Client(o => o.Flags["pii"] = "mask");
        var expected = (await client.GetResponseAsync("go")).Text;
        expected.Should().Be("Contact [MASKED_EMAIL], key [REDACTED], card [MASKED_CREDIT_CARD]. Done.");

        // Cut points drawn from an FsCheck generator; each sample streams the answer in the pieces they define.
        var samples = Gen.ListOf(Gen.Choose(1, answer.Length - 1)).Sample(40, 60);
        foreach (var cuts in samples)
        {
            var points = cuts.Distinct().Order().ToList();
            _inner.Pieces = s => points.Prepend(0).Zip(points.Append(s.Length), (from, to) => s[from..to]);

            var (text, updates, error) = await Drain(client.GetStreamingResponseAsync("go"));

            error.Should().BeNull();
            text.Should().Be(expected, "cuts at {0}", string.Join(",", points));
            updates.Should().OnlyContain(u => !u.Text.Contains("sk_", StringComparison.Ordinal) && !u.Text.Contains("@", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OutputBlockMidStream_ThrowsWithoutYieldingTheOffendingText()
    {
        const string answer = "Here is the key you wanted: " + Secret + " and some more text after it.";
        _inner.Answer = _ => answer;
        using var client = Client();
        var (text, _, error) = await Drain(client.GetStreamingResponseAsync("What is the key?", Flags("secrets=block")));

        error.Should().BeOfType<PolicyBlockException>().Which.BlockedBy.Should().Be("scan_output");
        text.Should().NotContain("sk_");
        answer.Should().StartWith(text);
        text.Length.Should().BeLessThan(answer.IndexOf(Secret, StringComparison.Ordinal) + 1);
        _h.Events("chat.blocked").Should().ContainSingle();
        _h.Events("chat.completed").Should().BeEmpty();
    }

    [Fact]
    public async Task GetResponseAsync_BreakGlassHalt_ThrowsBreakGlassActiveAndNeverCallsInner()
    {
        await _h.Engine.DeclareBreakGlassAsync(_h.Engine.EmbeddedIdentity, "halt", "PT30M", "incident", CancellationToken.None);
        using var client = Client();

        var ex = (await client.Invoking(c => c.GetResponseAsync("hello")).Should().ThrowAsync<BreakGlassActiveException>()).Which;
        ex.Level.Should().Be("halt");
        ex.RetryAfter.Should().BeGreaterThan(TimeSpan.Zero);
        _inner.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task GetResponseAsync_BreakGlassObserveWithRespectBreakGlass_Throws()
    {
        await _h.Engine.DeclareBreakGlassAsync(_h.Engine.EmbeddedIdentity, "observe", "PT30M", "debugging", CancellationToken.None);
        using var lenient = Client();
        (await lenient.GetResponseAsync("hello")).Text.Should().Be("You said: hello");

        using var strict = Client(o => o.RespectBreakGlass = true);
        (await strict.Invoking(c => c.GetResponseAsync("hello")).Should().ThrowAsync<BreakGlassActiveException>()).Which.Level.Should().Be("observe");
    }

    [Fact]
    public async Task GetResponseAsync_ApprovalRule_ThrowsApprovalRequiredAndNeverCallsInner()
    {
        using var client = Client();
        var ex = (await client.Invoking(c => c.GetResponseAsync($"Deploy with {Secret}")).Should().ThrowAsync<ApprovalRequiredException>()).Which;

        ex.ResumeToken.Should().StartWith(ex.ApprovalId + ".");
        ex.ApprovalUrl.Should().EndWith("/approvals/" + ex.ApprovalId);
        _inner.Calls.Should().BeEmpty();
        _h.Events("approval.requested").Should().ContainSingle();
    }

    [Fact]
    public async Task GetResponseAsync_ApprovedResumeToken_LetsTheIdenticalCallThrough()
    {
        using var client = Client();
        var held = (await client.Invoking(c => c.GetResponseAsync($"Deploy with {Secret}")).Should().ThrowAsync<ApprovalRequiredException>()).Which;
        await _h.Engine.DecideApprovalAsync(_h.Engine.EmbeddedIdentity, held.ApprovalId!, new Protocol.ApprovalDecisionRequest { Decision = "approve" }, CancellationToken.None);

        var options = new ChatOptions { AdditionalProperties = new() { [TapPassChatKeys.SessionId] = held.SessionId, [TapPassChatKeys.ResumeToken] = held.ResumeToken } };
        var response = await client.GetResponseAsync($"Deploy with {Secret}", options);

        response.Text.Should().Be("You said: Deploy with [REDACTED]");
        _inner.Calls.Should().ContainSingle();
    }

    [Fact]
    public async Task GetResponseAsync_InAmbientSession_ReportsAndRecordsTheSession()
    {
        using var client = Client();
        using var scope = TapPassSession.Begin();

        var first = await client.GetResponseAsync("one");
        var sessionId = first.AdditionalProperties![TapPassChatKeys.SessionId].Should().BeOfType<string>().Subject;
        sessionId.Should().StartWith("ses_");
        scope.Session.SessionId.Should().Be(sessionId);
        scope.Session.AgentUuid.Should().Be(_h.Engine.EmbeddedIdentity.AgentUuid);
        scope.Session.AuditUrl.Should().EndWith("/audit/sessions/" + sessionId);

        var second = await client.GetResponseAsync("two");
        second.AdditionalProperties![TapPassChatKeys.SessionId].Should().Be(sessionId);
        var turn = ((PipelineResult)first.AdditionalProperties[TapPassChatKeys.Pipeline]!).TurnIndex;
        second.AdditionalProperties[TapPassChatKeys.Pipeline].Should().BeOfType<PipelineResult>().Which.TurnIndex.Should().Be(turn + 1);
    }

    [Fact]
    public async Task GetResponseAsync_SessionInAdditionalProperties_WinsOverAmbient()
    {
        using var client = Client();
        var opened = (await client.GetResponseAsync("open")).AdditionalProperties![TapPassChatKeys.SessionId] as string;
        using var scope = TapPassSession.Begin();

        var joined = await client.GetResponseAsync("join", new ChatOptions { AdditionalProperties = new() { [TapPassChatKeys.SessionId] = opened } });

        joined.AdditionalProperties![TapPassChatKeys.SessionId].Should().Be(opened);
        scope.Session.SessionId.Should().Be(opened);
    }

    [Fact]
    public async Task GetResponseAsync_ConversationId_IsPassedToInnerUntouchedAndNeverUsedAsSession()
    {
        using var client = Client();
        var options = new ChatOptions
        {
            ConversationId = "conv-7",
            AdditionalProperties = new() { [TapPassChatKeys.Flags] = "pii=mask", ["vendor.knob"] = 3 },
        };

        var response = await client.GetResponseAsync("hello", options);

        var seen = _inner.Calls.Single().Options!;
        seen.ConversationId.Should().Be("conv-7");
        seen.AdditionalProperties.Should().ContainKey("vendor.knob").And.NotContainKey(TapPassChatKeys.Flags);
        options.AdditionalProperties.Should().ContainKey(TapPassChatKeys.Flags, "the caller's options are not modified");
        response.ConversationId.Should().BeNull();
        response.AdditionalProperties![TapPassChatKeys.SessionId].Should().NotBe("conv-7");
    }

    [Fact]
    public async Task EveryCall_WritesItsAuditEvent()
    {
        using var client = Client();
        await client.GetResponseAsync("one");
        await Drain(client.GetStreamingResponseAsync("two"));
        await client.Invoking(c => c.GetResponseAsync("a@b.com", Flags("pii=block"))).Should().ThrowAsync<PolicyBlockException>();

        var completed = _h.Events("chat.completed");
        completed.Should().HaveCount(2);
        completed.Should().OnlyContain(e => e.AgentId == "embedded" && e.Model == "inner-model" && e.Details!["provider"].GetString() == "fake-inner");
        _h.Events("chat.blocked").Should().ContainSingle().Which.BlockedBy.Should().Be("detect_pii");
    }

    [Fact]
    public async Task GetResponseAsync_Cancelled_PropagatesToInnerAndIsAudited()
    {
        _inner.WaitForCancellation = true;
        using var client = Client();
        using var cts = new CancellationTokenSource();

        var call = client.GetResponseAsync("slow", cancellationToken: cts.Token);
        await _inner.Started.Task;
        await cts.CancelAsync();

        await call.Invoking(c => c).Should().ThrowAsync<OperationCanceledException>();
        _inner.SawCancellation.Should().BeTrue();
        _h.Events("chat.cancelled").Should().ContainSingle();
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Cancelled_PropagatesToInner()
    {
        _inner.WaitForCancellation = true;
        using var client = Client();
        using var cts = new CancellationTokenSource();

        var drain = Drain(client.GetStreamingResponseAsync("slow", cancellationToken: cts.Token));
        await _inner.Started.Task;
        await cts.CancelAsync();

        (await drain).Error.Should().BeAssignableTo<OperationCanceledException>();
        _inner.SawCancellation.Should().BeTrue();
    }

    [Fact]
    public async Task GetResponseAsync_InnerFails_ThrowsUpstreamWithTheCause()
    {
        _inner.Throw = new HttpRequestException("connection reset");
        using var client = Client();

        var ex = (await client.Invoking(c => c.GetResponseAsync("hi")).Should().ThrowAsync<TapPassUpstreamException>()).Which;
        ex.InnerException.Should().BeSameAs(_inner.Throw);
        ex.Provider.Should().Be("fake-inner");
        _h.Events("chat.failed").Should().ContainSingle();
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallOfInner_IsReturnedWithItsArgumentsAndTheCallersToolsReachInner()
    {
        var tool = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Weather of a city");
        _inner.ToolCalls.Add(new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }));
        using var client = Client();

        var response = await client.GetResponseAsync("Weather in Paris?", new ChatOptions { Tools = [tool] });

        _inner.Calls.Single().Options!.Tools.Should().ContainSingle().Which.Should().BeSameAs(tool);
        var call = response.Messages.Single().Contents.OfType<FunctionCallContent>().Should().ContainSingle().Subject;
        call.CallId.Should().Be("call_1");
        call.Name.Should().Be("get_weather");
        call.Arguments!["city"]!.ToString().Should().Be("Paris");
        response.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task ToolCallHeldByApprovalRule_IsNoFunctionCallContent_ItsApprovalIsInAdditionalProperties_NonStreamingAndStreaming()
    {
        _inner.ToolCalls.Add(new FunctionCallContent("call_9", "delete_user", new Dictionary<string, object?> { ["id"] = 7 }));
        _inner.ToolCalls.Add(new FunctionCallContent("call_10", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }));
        using var client = Client();

        var response = await client.GetResponseAsync("Remove user 7");
        var (_, updates, error) = await Drain(client.GetStreamingResponseAsync("Remove user 7"));

        error.Should().BeNull();
        updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().Select(c => c.CallId).Should().Equal(["call_10"], "no streamed update offers the held call");
        response.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        foreach (var (contents, properties) in new[] { (response.Messages.Single().Contents, response.AdditionalProperties!), (updates[^1].Contents, updates[^1].AdditionalProperties!) })
        {
            contents.OfType<FunctionCallContent>().Select(c => c.Name).Should().Equal(["get_weather"], "a function-invoking client must not be able to run the held call");
            var held = properties[TapPassChatKeys.ToolApprovals].Should().BeAssignableTo<IReadOnlyList<Protocol.ToolApproval>>().Subject;
            var approval = held.Should().ContainSingle().Subject;
            approval.ToolCallId.Should().Be("call_9");
            approval.Tool.Should().Be("delete_user");
            approval.Arguments.Should().Be("""{"id":7}""");
            approval.Status.Should().Be("pending");
            approval.ResumeToken.Should().StartWith(approval.ApprovalId + ".");
            approval.ApprovalUrl.Should().EndWith("/approvals/" + approval.ApprovalId);
        }

        ((PipelineResult)response.AdditionalProperties![TapPassChatKeys.Pipeline]!).ToolApprovals.Select(a => a.ToolCallId).Should().Equal("call_9");
    }

    [Fact]
    public async Task OnlyToolCallHeldByApprovalRule_ResponseHasNoFunctionCallAndFinishReasonStop()
    {
        _inner.ToolCalls.Add(new FunctionCallContent("call_9", "delete_user", new Dictionary<string, object?> { ["id"] = 7 }));
        using var client = Client();

        var response = await client.GetResponseAsync("Remove user 7");
        var (_, updates, error) = await Drain(client.GetStreamingResponseAsync("Remove user 7"));

        error.Should().BeNull();
        response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Should().BeEmpty();
        updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().Should().BeEmpty();
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
        updates[^1].FinishReason.Should().Be(ChatFinishReason.Stop);
        response.AdditionalProperties!.Should().ContainKey(TapPassChatKeys.ToolApprovals);
    }

    [Fact]
    public async Task ToolResultsAndCallsInTheConversation_ReachInnerAsToolMessages()
    {
        using var client = Client();
        await client.GetResponseAsync(
        [
            new ChatMessage(ChatRole.User, "Weather in Paris?"),
            new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny")]),
        ]);

        var messages = _inner.Calls.Single().Messages;
        messages.Select(m => m.Role).Should().Equal(ChatRole.User, ChatRole.Assistant, ChatRole.Tool);
        messages[1].Contents.OfType<FunctionCallContent>().Single().Arguments!["city"]!.ToString().Should().Be("Paris");
        messages[2].Contents.OfType<FunctionResultContent>().Single().Should().Match<FunctionResultContent>(r => r.CallId == "call_1" && (string)r.Result! == "sunny");
    }

    [Fact]
    public void WithTapPass_WithoutEngine_ThrowsNamingTheRegistration()
    {
        using var services = new ServiceCollection().BuildServiceProvider();

        _inner.Invoking(i => i.WithTapPass(services)).Should().Throw<InvalidOperationException>()
            .WithMessage("*AddTapPassEmbeddedGateway*AddTapPassEngine*");
    }

    [Fact]
    public async Task AddTapPassChatClient_WithEmbeddedGateway_GovernsWithTheRealDetectors()
    {
        var services = new ServiceCollection();
        services.AddTapPassEmbeddedGateway();
        services.AddTapPassChatClient(_ => _inner, o => o.Flags["pii"] = "mask");
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatClient>();
        client.Should().BeOfType<TapPassChatClient>();
        client.GetService<ChatClientMetadata>()!.ProviderName.Should().Be("fake-inner");
        await client.GetResponseAsync("Write to alice@example.com please");

        _inner.Calls.Single().Messages.Single().Text.Should().Be("Write to [MASKED_EMAIL] please");
    }
}
